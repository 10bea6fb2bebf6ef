"""Helpers for end-to-end training runs: the real CLI in a subprocess, tiny sizes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from harness.run import faults

REPO = Path(__file__).resolve().parents[2]

# A few seconds a step on 2 cores: 4 prompts x 4 samples, 24-token completions.
TINY = [
    "model.warm_start.steps=40",
    "trainer.prompts_per_step=4",
    "trainer.group_size=4",
    "model.micro_batch_size=8",
    "trainer.max_completion_length=24",
    "trainer.save_steps=2",
    "eval.n=2",
    "eval.k=[1,2]",
    "eval.max_new_tokens=24",
    "benchmark.arith_test.n_problems=8",
    "logger.progress_bar=false",
]


def train_cmd(run_dir: Path, cache: Path, *overrides: str, sizes: Sequence[str] = TINY) -> list[str]:
    """``python -m harness.train`` into ``run_dir`` with the warm-start cache ``cache``, at ``sizes``."""
    return [
        sys.executable,
        "-m",
        "harness.train",
        f"hydra.run.dir={run_dir}",
        f"cache_dir={cache}",
        *sizes,
        *overrides,
    ]


def run_train(
    run_dir: Path, cache: Path, *overrides: str, check: bool = True, kill_at: str | None = None
) -> subprocess.CompletedProcess:
    """Run to the end, or to its SIGKILL at the fault point ``kill_at`` (``"step:3"``, ``harness.run.faults``)."""
    env = {k: v for k, v in os.environ.items() if k != faults.ENV} | {"WANDB_MODE": "offline"}
    if kill_at:
        env[faults.ENV] = kill_at
    proc = subprocess.run(
        train_cmd(run_dir, cache, *overrides),
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"training failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return proc


def read_metrics(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def train_rows(run_dir: Path) -> list[dict]:
    return [r for r in read_metrics(run_dir) if "train/loss" in r]
