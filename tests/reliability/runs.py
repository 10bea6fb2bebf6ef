"""Fault-injection helpers: tiny runs that really learn (non-zero gradients), killed at a named
point (``harness.run.faults``), and the run-dir invariants every kill/resume sequence must keep."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from safetensors.torch import load_file

from tests.train.runs import REPO, train_cmd

STEPS = 4
EVAL_STEPS = [0, 2, 4]  # eval.interval=2 and the end
RELIABLE = [
    "model.warm_start.steps=50",
    "model.warm_start.batch_size=16",
    "model.warm_start.lr=0.01",
    "trainer.prompts_per_step=2",
    "trainer.group_size=4",
    "model.micro_batch_size=8",
    "trainer.max_completion_length=40",
    "trainer.format_reward_weight=0.5",
    f"trainer.steps={STEPS}",
    "trainer.save_steps=2",
    "eval.interval=2",
    "eval.n=2",
    "eval.k=[1,2]",
    "eval.max_new_tokens=40",
    "benchmark.arith_test.n_problems=4",
    "logger=none",
    "logger.progress_bar=false",
]
# (point, how many visits a fresh run makes): every kill spec n <= visits is reached.
VISITS = {
    "step": STEPS,
    "checkpoint": 2,
    "eval": len(EVAL_STEPS),
    "metrics": STEPS + len(EVAL_STEPS),
    "finish": 1,
}
KILLED = -9  # subprocess return code of a SIGKILLed child


def command(run_dir: Path, cache: Path, *overrides: str) -> list[str]:
    return train_cmd(run_dir, cache, *overrides, sizes=RELIABLE)


def launch(
    run_dir: Path, cache: Path, *overrides: str, kill_at: str | None = None
) -> subprocess.CompletedProcess:
    """One run of ``python -m harness.train`` (killed at ``kill_at``, e.g. ``"eval:3"``, if given)."""
    env = {k: v for k, v in os.environ.items() if k != "HARNESS_KILL_AT"}
    if kill_at:
        env["HARNESS_KILL_AT"] = kill_at
    return subprocess.run(
        command(run_dir, cache, *overrides), cwd=REPO, capture_output=True, text=True, env=env, timeout=900
    )


def finish(run_dir: Path, cache: Path, *overrides: str) -> subprocess.CompletedProcess:
    """Re-run the same command (no kill) and require success."""
    proc = launch(run_dir, cache, *overrides)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-4000:]
    return proc


def metrics(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def _kind(row: dict) -> str:
    return "eval" if any(k.startswith("eval/") for k in row) else "train"


def eval_keys(row: dict) -> list[tuple[str, int]]:
    """(benchmark, step) of an eval row."""
    return sorted(
        {(k.split("/")[1], row["step"]) for k in row if k.startswith("eval/") and k.split("/")[1] != "avg"}
    )


def assert_invariants(run_dir: Path, reference: Path) -> None:
    """Finished; steps 1..N exactly once; eval rows once per (benchmark, step); nothing past N;
    metrics, evaluation records and final weights equal to the uninterrupted ``reference`` run."""
    assert json.loads((run_dir / "run.json").read_text())["status"] == "finished"
    rows = metrics(run_dir)
    train = [r for r in rows if _kind(r) == "train"]
    evals = [r for r in rows if _kind(r) == "eval"]
    assert sorted(r["step"] for r in train) == list(range(1, STEPS + 1))
    assert Counter(key for r in evals for key in eval_keys(r)) == Counter(
        ("arith_test", s) for s in EVAL_STEPS
    )
    assert sorted(p.name for p in (run_dir / "checkpoints").glob("checkpoint-*")) == [
        "checkpoint-2",
        "checkpoint-4",
    ]
    assert sorted(p.name for p in (run_dir / "eval").glob("step-*")) == [f"step-{s}" for s in EVAL_STEPS]

    ref = {(_kind(r), r["step"]): r for r in metrics(reference)}
    for row in rows:
        want = {k: v for k, v in ref[(_kind(row), row["step"])].items() if k != "time/wall"}
        assert {k: v for k, v in row.items() if k != "time/wall"} == pytest.approx(
            want, rel=1e-4, abs=1e-6
        ), row["step"]
    for step in EVAL_STEPS:
        records = [
            pd.read_parquet(d / "eval" / f"step-{step}" / "records.parquet") for d in (run_dir, reference)
        ]
        pd.testing.assert_frame_equal(*records)
    weights = [load_file(d / "final" / "model.safetensors") for d in (run_dir, reference)]
    assert weights[0].keys() == weights[1].keys()
    for name, tensor in weights[0].items():
        assert tensor.allclose(weights[1][name], rtol=1e-4, atol=1e-6), name
