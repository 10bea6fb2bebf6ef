"""Every sweep composes and every one of its jobs validates (dry runs: nothing is launched); one bad value
fails a whole sweep before anything is submitted; the SLURM profile renders the expected sbatch lines."""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import submitit
import yaml
from hydra import compose, initialize_config_dir
from submitit.slurm.slurm import _make_sbatch_string

from harness.sweeps import launchers
from tests.sweeps.runs import REPO, SWEEPS, grid_size, multirun_in_process

SWEEP_FILES = sorted(SWEEPS.glob("*.yaml"))


def test_the_papers_experiments_are_all_there() -> None:
    assert {p.stem for p in SWEEP_FILES} >= {
        "main_table",
        "lambda_ablation",
        "lambda_ablation_ptrace",
        "entropy_quantile_ablation",
        "placement_ablation",
        "toy_main",
    }


def sweep_params(stem: str) -> dict[str, object]:
    return yaml.safe_load((SWEEPS / f"{stem}.yaml").read_text())["hydra"]["sweeper"]["params"]


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[str, Path]]:
    """``dry_run(sweep)``: (printed plan, sweep dir) of a dry run, once per module.

    Seeds are collapsed to ``trainer.seed=0``: a job's seed changes nothing that validation checks,
    and each composed job costs Hydra ~0.2 s twice (its own batch check, then our plan)."""
    done: dict[str, tuple[str, Path]] = {}

    def run(stem: str) -> tuple[str, Path]:
        if stem not in done:
            sweep_dir = tmp_path_factory.mktemp("sweeps") / stem
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                multirun_in_process(
                    "--config-dir",
                    str(SWEEPS),
                    "--config-name",
                    stem,
                    "hydra.launcher.dry_run=true",
                    f"hydra.sweep.dir={sweep_dir}",
                    *(["trainer.seed=0"] if "trainer.seed" in sweep_params(stem) else []),
                )
            done[stem] = (out.getvalue(), sweep_dir)
        return done[stem]

    return run


@pytest.mark.parametrize("sweep", SWEEP_FILES, ids=lambda p: p.stem)
def test_every_job_of_every_sweep_validates(sweep: Path, dry_run: Callable[[str], tuple[str, Path]]) -> None:
    assert yaml.safe_load(sweep.read_text())["hydra"]["sweep"]["dir"] == f"multirun/{sweep.stem}"
    out, sweep_dir = dry_run(sweep.stem)
    n = grid_size(sweep) // len(str(sweep_params(sweep.stem).get("trainer.seed", "0")).split(","))
    assert f"{n} jobs, 0 already finished, {n} to run (dry run, nothing launched)" in out
    jobs = re.findall(r"^  #\d+ (.*)  \[(.*)\]$", out, re.M)
    assert len(jobs) == n
    assert len({overrides for overrides, _ in jobs}) == n
    assert not (sweep_dir / ".submitit").exists()


def test_each_job_is_sized_by_its_own_model(dry_run: Callable[[str], tuple[str, Path]]) -> None:
    jobs = re.findall(r"^  #\d+ (.*)  \[(.*)\]$", dry_run("main_table")[0], re.M)
    gpus = {"qwen3-1.7b": 1, "qwen3-4b": 4, "qwen3-8b": 8}
    for overrides, resources in jobs:
        n = gpus[re.search(r"model=(\S+)", overrides).group(1)]
        assert f"tasks_per_node={n} gpus_per_node={n} cpus_per_task=8" in resources


@pytest.mark.parametrize(
    ("sweep", "overrides", "message"),
    [
        (
            "lambda_ablation",
            ["method.lam=0.5,1.5"],
            "method.lam=1.5 method.style=recent model=qwen2.5-math-1.5b): "
            "method.lam: must be in [0.0, 1.0], got 1.5",
        ),
        (
            "toy_main",
            ["hydra.launcher.tasks_per_node=3"],
            "must be divisible by trainer.mini_batches * model.micro_batch_size * world size",
        ),
    ],
    ids=["out-of-range", "batch-vs-world-size"],
)
def test_a_bad_value_fails_the_whole_sweep_before_anything_is_submitted(
    sweep: str, overrides: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    with pytest.raises(SystemExit):  # the real launchers: they must stop before submitting anything
        multirun_in_process(
            "--config-dir", str(SWEEPS), "--config-name", sweep, *overrides, f"hydra.sweep.dir={tmp_path}"
        )
    assert message in capsys.readouterr().err
    assert not (tmp_path / ".submitit").exists()


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            ["model=qwen3-1.7b"],
            {
                "nodes": "1",
                "gpus-per-node": "1",
                "ntasks-per-node": "1",
                "cpus-per-task": "8",
                "mem": "128GB",
                "time": "1440",
            },
        ),
        (
            ["model=qwen3-8b", "model.resources.nodes=2"],
            {
                "nodes": "2",
                "gpus-per-node": "8",
                "ntasks-per-node": "8",
                "cpus-per-task": "8",
                "mem": "768GB",
                "time": "2880",
            },
        ),
    ],
    ids=["1-gpu", "8-gpu-2-node"],
)
def test_slurm_profile_renders_sbatch_parameters(
    overrides: list[str], expected: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLURM_PARTITION", "h100")
    monkeypatch.setenv("SLURM_ACCOUNT", "rlvr")
    monkeypatch.delenv("SLURM_QOS", raising=False)
    monkeypatch.setattr(
        submitit.SlurmExecutor, "affinity", classmethod(lambda cls: 1)
    )  # no srun on this machine
    with initialize_config_dir(str(REPO / "conf"), version_base="1.3"):
        cfg = compose(
            "train",
            overrides=["hydra/launcher=slurm", f"hydra.sweep.dir={tmp_path}", *overrides],
            return_hydra_config=True,
        )
    executor = launchers.executor("slurm", launchers.launcher_params(cfg))
    assert executor._executor.max_num_timeout == 3  # requeued up to 3 times on timeout / preemption
    sbatch = _make_sbatch_string(
        command="python -u -m submitit.core._submit",
        folder=executor.folder,
        map_count=45,
        **executor._executor.parameters,
    )
    lines = dict(re.findall(r"^#SBATCH --([\w-]+)=?(\S*)$", sbatch, re.M))
    assert {k: lines.get(k) for k in expected} == expected
    assert lines["partition"] == "h100"
    assert lines["account"] == "rlvr"
    assert "qos" not in lines
    assert lines["array"] == "0-44%16"  # a job array, at most 16 running at once
    assert lines["signal"] == "USR2@300"
    assert lines["job-name"] == "train"
