"""A verl run's outputs (file logger, validation dumps) become a run dir that ``analysis`` reads."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis.load import read_run
from harness.verl.launch import compose
from harness.verl.rundir import FILE_LOGGER, VALIDATION, convert, finish, prepare, write_sbatch

OVERRIDES = [
    "method=strace",
    "model=qwen3-1.7b",
    "task=arith",
    "task.n_problems=20",
    "trainer=paper",
    "benchmark.arith_test.n_problems=2",
    "eval.n=4",
    "eval.k=[1,2,4]",
]


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    cfg, conf = compose(OVERRIDES)
    record = prepare(tmp_path, cfg, conf, ["python", "-m", "verl.trainer.main_ppo"])
    val = pd.read_parquet(tmp_path / "verl" / "data" / "val-arith_test.parquet")
    (tmp_path / FILE_LOGGER).write_text(
        json.dumps(
            {
                "step": 1,
                "data": {"critic/score/mean": 0.5, "actor/pg_loss": 0.1, "actor/harness/ratio_mean": 1.0},
            }
        )
        + "\n"
    )
    dumps = tmp_path / VALIDATION
    dumps.mkdir(parents=True)
    scores = [[1, 0, 0, 1], [0, 0, 0, 0]]  # problem 0: 2 of 4 correct; problem 1: none
    lines = [
        {
            "input": f"<|im_start|>user\n{prompt[0]['content']}<|im_end|>\n",
            "output": "...",
            "score": s,
            "step": 2,
        }
        for prompt, row in zip(val["prompt"], scores, strict=True)
        for s in row
    ]
    (dumps / "2.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    convert(tmp_path)
    finish(record, 0)
    return tmp_path


def test_metrics_records_and_status_for_analysis(run_dir: Path) -> None:
    data = read_run(run_dir)
    assert data.row["status"] == "finished"
    assert "method:strace" in data.row["tags"]
    assert data.config["method"]["name"] == "strace"
    train, evaluation = data.metrics
    # verl step 1 = 4 optimizer steps (trainer=paper: 4 mini-batches per rollout)
    assert train == {"step": 4, "train/reward_mean": 0.5, "train/loss": 0.1, "train/method/ratio_mean": 1.0}
    assert evaluation["step"] == 8
    # unbiased pass@k: (n=4, c=2) → pass@1 = 1/2, pass@2 = 1 − C(2,2)/C(4,2) = 5/6, pass@4 = 1; (4, 0) → 0
    assert evaluation["eval/arith_test/pass@1"] == pytest.approx(0.25)
    assert evaluation["eval/arith_test/pass@2"] == pytest.approx(5 / 12)
    assert evaluation["eval/avg/pass@4"] == pytest.approx(0.5)
    (records,) = data.records
    assert sorted(zip(records["n"].to_pylist(), records["c"].to_pylist(), strict=True)) == [(4, 0), (4, 2)]


def test_sbatch_runs_ray_head_workers_and_the_converter(tmp_path: Path) -> None:
    _, conf = compose([*OVERRIDES, "model.resources.nodes=2"])
    script = write_sbatch(
        tmp_path, conf, ["python", "-m", "verl.trainer.main_ppo", "trainer.nnodes=2"]
    ).read_text()
    assert "#SBATCH --nodes=2" in script
    assert "ray start --head" in script
    assert 'ray start --address="$head_ip:$port"' in script
    assert "python -m verl.trainer.main_ppo trainer.nnodes=2" in script
    assert f"-m harness.verl.rundir {tmp_path} $status" in script
