"""End to end: ``python -m harness.eval`` on a tiny checkpoint, offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.eval import pass_at_k
from tests.eval.test_eval_runner import COLUMNS
from tests.wandb_files import wandb_history

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def run_eval(checkpoint: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        "TOKENIZERS_PARALLELISM": "false",
    }
    cmd = [
        sys.executable,
        "-m",
        "harness.eval",
        f"checkpoint={checkpoint}",
        "eval.n=4",
        "eval.k=[1,2,4]",
        "eval.max_new_tokens=8",
        "eval.temperature=1.0",
        "eval.top_p=1.0",
        "eval.progress=false",
        "benchmark.arith_test.n_problems=6",
        "benchmark.arith_hard.n_problems=4",
        f"eval.out_dir={out}",
        f"hydra.run.dir={out}/.hydra-run",
        *extra,
    ]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)


def test_cli_writes_records_summary_and_wandb_and_is_deterministic(
    tiny_checkpoint: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    first = run_eval(tiny_checkpoint, out, "eval.wandb=true")
    assert first.returncode == 0, first.stderr[-3000:]
    step_dir = out / "eval" / "step-7"  # global_step of trainer_state.json
    records = pd.read_parquet(step_dir / "records.parquet")
    assert list(records.columns) == COLUMNS
    assert len(records) == 10
    assert set(records["benchmark"]) == {"arith_test", "arith_hard"}
    assert (records["n"] == 4).all()
    assert (records["step"] == 7).all()
    assert all(
        len(c) == 4 and len(r) == 4 for c, r in zip(records["completions"], records["rewards"], strict=True)
    )
    assert (records["c"] == records["rewards"].map(lambda r: int(sum(r)))).all()

    summary = json.loads((step_dir / "summary.json").read_text())
    for name, group in records.groupby("benchmark"):
        for k in (1, 2, 4):
            assert summary["benchmarks"][name][f"pass@{k}"] == pytest.approx(
                float(np.mean(pass_at_k(group["n"], group["c"], k)))
            )
    assert summary["checkpoint"] == str(tiny_checkpoint)

    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "finished"
    assert run["steps"] == 7
    assert run["wandb_id"]
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) == 1
    assert lines[0]["step"] == 7
    assert lines[0]["eval/avg/pass@4"] == pytest.approx(summary["avg"]["pass@4"])
    assert (out / "config.yaml").exists()

    logged = wandb_history(next(out.glob("wandb/offline-run-*/run-*.wandb")))
    for key in (
        "eval/arith_test/pass@1",
        "eval/arith_hard/pass@4",
        "eval/avg/pass@2",
        "eval/avg/maj@n",
        "eval/arith_test/avg@n",
    ):
        assert logged[key] == pytest.approx(summary["metrics"][key]), key
    assert logged["step"] == 7
    assert logged["eval/samples/_type"] == "table-file"
    assert logged["eval/samples/nrows"] == 8
    table = json.loads(
        next(out.glob("wandb/offline-run-*/files/media/table/eval/samples_*.table.json")).read_text()
    )
    assert table["columns"] == ["benchmark", "problem_id", "prompt", "completion", "reward"]

    # same seed, same dir: identical records, nothing duplicated
    second = run_eval(tiny_checkpoint, out)
    assert second.returncode == 0, second.stderr[-3000:]
    again = pd.read_parquet(step_dir / "records.parquet")
    pd.testing.assert_frame_equal(records, again)
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) == 1


def test_cli_rejects_bad_config_before_loading_the_model(tmp_path: Path) -> None:
    res = run_eval(tmp_path / "does-not-exist", tmp_path / "run", "eval.k=[1,8]")
    assert res.returncode != 0
    assert "eval.k: every k must be <= eval.n=4" in res.stderr
    assert not (tmp_path / "run" / "run.json").exists()
