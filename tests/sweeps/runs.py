"""Helpers for sweep tests: Hydra multiruns of harness.train, in this process (plans) or as the real CLI."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import hydra
import yaml
from omegaconf import OmegaConf

from harness import train
from tests.train.runs import REPO, TINY

SWEEPS = REPO / "sweeps"
# Enough warm start and completion length that rewards vary within a group: gradients are non-zero.
LEARNING = [
    "model.warm_start.steps=150",
    "trainer.max_completion_length=48",
    "trainer.format_reward_weight=0.5",
]


def grid_size(sweep: Path) -> int:
    """Number of jobs a sweep file's ``hydra.sweeper.params`` spell out."""
    params = yaml.safe_load(sweep.read_text())["hydra"]["sweeper"]["params"]
    return len(list(itertools.product(*(str(v).split(",") for v in params.values()))))


def multirun_in_process(*args: str) -> None:
    """``python -m harness.train -m <args>`` in this process (for dry runs: no job is started)."""
    app = hydra.main(config_path=str(REPO / "conf"), config_name="train", version_base="1.3")(train.main)
    argv = sys.argv
    sys.argv = ["harness.train", "-m", *args]
    try:
        app()
    finally:
        sys.argv = argv


def write_tiny_sweep(
    config_dir: Path, name: str, sweep_dir: Path, cache: Path, params: dict[str, str], *settings: str
) -> None:
    """A sweep file over ``params`` of the tiny config (tests/train/runs.py: TINY) on the local launcher."""
    body = OmegaConf.to_container(OmegaConf.from_dotlist([*TINY, f"cache_dir={cache}", *settings]))
    body["defaults"] = ["train", {"override hydra/launcher": "local"}, "_self_"]
    body["hydra"] = {"sweep": {"dir": str(sweep_dir)}, "sweeper": {"params": params}}
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / f"{name}.yaml").write_text(yaml.safe_dump(body, sort_keys=False))


def job_logs(sweep_dir: Path) -> str:
    """The tail of every submitit job log of a sweep (stdout and stderr of each task)."""
    return "\n".join(f"--- {p}\n{p.read_text()[-3000:]}" for p in sorted(sweep_dir.glob(".submitit/*/*.out")))


def run_sweep(
    config_dir: Path, name: str, sweep_dir: Path, *overrides: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """The real CLI: ``python -m harness.train -m --config-dir <dir> --config-name <name> <overrides>``."""
    cmd = [
        sys.executable,
        "-m",
        "harness.train",
        "-m",
        "--config-dir",
        str(config_dir),
        "--config-name",
        name,
        *overrides,
    ]
    proc = subprocess.run(
        cmd,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "WANDB_MODE": "offline", **(env or {})},
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"sweep failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}\n"
            f"{job_logs(sweep_dir)}"
        )
    return proc
