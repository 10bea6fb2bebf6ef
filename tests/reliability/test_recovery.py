"""One real end-to-end regression test per reported defect of the run directory (issue 10)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.faults import pause_env, paused
from tests.reliability.runs import KILLED, assert_invariants, command, finish, launch, metrics
from tests.train.runs import REPO

pytestmark = pytest.mark.slow


def killed(run_dir: Path, cache: Path, spec: str) -> None:
    proc = launch(run_dir, cache, kill_at=spec)
    assert proc.returncode == KILLED, proc.stderr[-3000:]


def test_killed_during_the_final_eval_finishes_without_training(
    tmp_path: Path, reliable_cache: Path, reference: Path
) -> None:
    """Defect 1: the re-run trained a step past trainer.steps and logged eval rows for both N and N+1."""
    run_dir = tmp_path / "run"
    killed(run_dir, reliable_cache, "eval:3")  # the step-4 evaluation, after checkpoint-4
    assert json.loads((run_dir / "run.json").read_text())["status"] == "running"
    proc = finish(run_dir, reliable_cache)
    assert (
        f"[harness] {run_dir}/checkpoints/checkpoint-4 is the last step (4): finishing without training"
        in proc.stdout
    )
    assert "resuming from" not in proc.stdout
    assert_invariants(run_dir, reference)


def test_killed_after_step_one_the_rerun_keeps_one_step_zero_eval(
    tmp_path: Path, reliable_cache: Path, reference: Path
) -> None:
    """Defect 2: the re-run appended a second step-0 eval row."""
    run_dir = tmp_path / "run"
    killed(run_dir, reliable_cache, "step:2")
    assert [(r["step"], "eval/avg/pass@1" in r) for r in metrics(run_dir)] == [(0, True), (1, False)]
    step0 = (run_dir / "eval" / "step-0" / "records.parquet").stat().st_mtime_ns
    finish(run_dir, reliable_cache)
    assert (
        run_dir / "eval" / "step-0" / "records.parquet"
    ).stat().st_mtime_ns == step0  # not evaluated again
    assert_invariants(run_dir, reference)


def test_a_second_launch_exits_at_once_and_the_first_finishes_alone(
    tmp_path: Path, reliable_cache: Path, reference: Path
) -> None:
    """Defect 3: the same command started twice: both exited 0, every step twice in metrics.jsonl."""
    run_dir = tmp_path / "run"
    fifo = tmp_path / "pause"
    first = subprocess.Popen(
        command(run_dir, reliable_cache),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=pause_env("step:1", fifo),
    )
    with paused(first, fifo):  # the first launch holds the lock, inside its first step
        second = launch(run_dir, reliable_cache)
    assert second.returncode == 1
    assert (
        second.stderr.strip()
        .splitlines()[-1]
        .startswith(f"[harness] error: run dir {run_dir} is in use by pid {first.pid} on ")
    )
    _, err = first.communicate(timeout=900)
    assert first.returncode == 0, err[-3000:]
    assert_invariants(run_dir, reference)


def test_concurrent_runs_on_a_cold_cache_build_the_warm_start_once(tmp_path: Path) -> None:
    """Defect 3: every process wrote the warm start into one shared .partial dir, without a lock."""
    cache = tmp_path / "cold-cache"
    small = ["model.warm_start.steps=20", "trainer.steps=1", "trainer.save_steps=1", "eval.interval=0"]
    procs = [
        subprocess.Popen(
            command(tmp_path / f"run{i}", cache, *small),
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in (0, 1)
    ]
    outs = [p.communicate(timeout=900)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs[0][-2000:] + outs[1][-2000:]
    assert sum(out.count("[harness] warm start: 20 SFT steps") for out in outs) == 1
    # the warm start and its lock; its step-0 evaluation (``.eval0-``, harness.eval.start_cache) beside them
    entries = sorted(p.name for p in (cache / "warmstart").iterdir() if ".eval0-" not in p.name)
    assert len(entries) == 2
    assert entries[1] == entries[0] + ".lock"
    for i in (0, 1):
        assert json.loads((tmp_path / f"run{i}" / "run.json").read_text())["status"] == "finished"


def test_a_torn_metrics_line_is_dropped_and_the_run_resumes(
    tmp_path: Path, reliable_cache: Path, reference: Path
) -> None:
    """Defect 4 (training side): a metrics.jsonl cut off by a kill made every re-run fail."""
    run_dir = tmp_path / "run"
    killed(run_dir, reliable_cache, "metrics:5")
    last = (run_dir / "metrics.jsonl").read_text().splitlines()[-1]
    with pytest.raises(json.JSONDecodeError):
        json.loads(last)
    proc = finish(run_dir, reliable_cache)
    assert f"{run_dir / 'metrics.jsonl'}: dropped a torn last line" in proc.stdout + proc.stderr
    assert_invariants(run_dir, reference)


@pytest.fixture(scope="module")
def unmarked(tmp_path_factory: pytest.TempPathFactory, reliable_cache: Path) -> Path:
    """A run killed after everything but its status: checkpoints 2 and 4, final/, every row."""
    run_dir = tmp_path_factory.mktemp("unmarked") / "run"
    killed(run_dir, reliable_cache, "finish:1")
    return run_dir


@pytest.mark.parametrize("name", ["model.safetensors", "optimizer.pt", "trainer_state.json"])
def test_a_truncated_checkpoint_file_is_named_set_aside_and_the_previous_used(
    name: str, unmarked: Path, tmp_path: Path, reliable_cache: Path, reference: Path
) -> None:
    """Defect 5: a truncated file in the last checkpoint made every re-run fail, naming no file."""
    run_dir = tmp_path / "run"
    shutil.copytree(unmarked, run_dir)
    damaged = run_dir / "checkpoints" / "checkpoint-4" / name
    damaged.write_bytes(damaged.read_bytes()[:100])
    proc = finish(run_dir, reliable_cache)
    assert f"checkpoint {damaged.parent} not used: {name} cannot be loaded" in proc.stdout + proc.stderr
    assert "resuming from" in proc.stdout
    assert "checkpoint-2" in proc.stdout
    aside = run_dir / "checkpoints" / "set-aside" / "checkpoint-4"
    assert (aside / name).stat().st_size == 100
    assert (aside / "REASON.txt").read_text().startswith(name)
    assert_invariants(run_dir, reference)
