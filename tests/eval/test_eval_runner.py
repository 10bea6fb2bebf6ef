"""harness.eval.runner.evaluate: records/summary contract, scoring, determinism, RNG hygiene."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch

from harness.config.eval import BenchmarkConfig, EvalConfig
from harness.eval import pass_at_k
from harness.eval.benchmarks import load_benchmark
from harness.eval.runner import evaluate, log_to_wandb, record_metrics

COLUMNS = [
    "step",
    "benchmark",
    "problem_id",
    "n",
    "c",
    "mean_length",
    "majority_correct",
    "completions",
    "rewards",
]
ARITH = {
    "arith_test": {"source": "arith", "n_problems": 6},
    "arith_hard": {"source": "arith", "n_problems": 4, "n_operations": 4},
}


def _answers(name: str) -> list[str]:
    return [p.answer for p in load_benchmark(BenchmarkConfig(name=name, **ARITH[name]))]


class PerBenchmark:
    """Scripted backend that knows which benchmark it serves (by prompt content)."""

    def __init__(self, scripted, answers):
        self.answers = answers
        self.scripted = scripted

    def generate(self, prompts, n, sampling):
        bench = "arith_hard" if prompts[0].count("(") >= 3 else "arith_test"
        gold = self.answers[bench]

        def script(i, j):
            return f"so \\boxed{{{gold[i]}}}" if j < min(i % 5, 4) else r"so \boxed{-99999}"

        return self.scripted(script).generate(prompts, n, sampling)


def test_records_and_summary_follow_the_run_dir_contract(scripted, echo_tokenizer, tmp_path: Path) -> None:
    answers = {name: _answers(name) for name in ARITH}
    cfg = EvalConfig(n=4, k=[1, 2, 4], samples_per_benchmark=2)
    res = evaluate(
        None, echo_tokenizer, ARITH, cfg, step=12, run_dir=tmp_path, backend=PerBenchmark(scripted, answers)
    )
    out = tmp_path / "eval" / "step-12"
    table = pq.read_table(out / "records.parquet")
    assert table.column_names == COLUMNS
    df = table.to_pandas()
    assert len(df) == 10
    assert set(df["step"]) == {12}
    assert list(df["c"][df["benchmark"] == "arith_test"]) == [0, 1, 2, 3, 4, 0]
    assert (df["n"] == 4).all()
    assert (df["mean_length"] == 6.5).all()
    # majority: the correct answer wins with 3 or 4 of 4 votes, and a 2-2 tie (seen first)
    assert list(df["majority_correct"][df["benchmark"] == "arith_test"]) == [
        False,
        False,
        True,
        True,
        True,
        False,
    ]
    assert list(df["rewards"][1]) == [1.0, 0.0, 0.0, 0.0]

    summary = json.loads((out / "summary.json").read_text())
    assert summary["step"] == 12
    assert summary["n"] == 4
    assert summary["k"] == [1, 2, 4]
    for name, group in df.groupby("benchmark"):
        for k in (1, 2, 4):
            expected = float(np.mean(pass_at_k(group["n"], group["c"], k)))
            assert summary["benchmarks"][name][f"pass@{k}"] == pytest.approx(expected)
            assert res.metrics[f"eval/{name}/pass@{k}"] == pytest.approx(expected)
    assert res.metrics["eval/arith_test/pass@1"] == pytest.approx(10 / 24)
    assert res.metrics["eval/arith_test/avg@n"] == pytest.approx(10 / 24)
    assert res.metrics["eval/arith_test/maj@n"] == pytest.approx(3 / 6)
    avg = np.mean([res.metrics["eval/arith_test/pass@4"], res.metrics["eval/arith_hard/pass@4"]])
    assert res.metrics["eval/avg/pass@4"] == pytest.approx(avg)
    assert summary["metrics"] == pytest.approx(res.metrics)
    assert [(s["benchmark"], s["problem_id"]) for s in res.samples] == [
        ("arith_test", "arith-test-s2-0"),
        ("arith_test", "arith-test-s2-1"),
        ("arith_hard", "arith-test-s4-0"),
        ("arith_hard", "arith-test-s4-1"),
    ]
    assert set(res.samples[0]) == {"benchmark", "problem_id", "prompt", "completion", "reward"}
    assert res.samples[0]["prompt"].startswith("Q: Compute")

    # re-running the same step overwrites; without completions the column is absent
    evaluate(
        None,
        echo_tokenizer,
        ARITH,
        EvalConfig(n=4, k=[1, 4], save_completions=False),
        step=12,
        run_dir=tmp_path,
        backend=PerBenchmark(scripted, answers),
    )
    again = pq.read_table(out / "records.parquet")
    assert again.num_rows == 10
    assert "completions" not in again.column_names
    assert list(tmp_path.glob("eval/step-12/.*tmp")) == []


def test_record_metrics_keeps_one_eval_line_per_step(tmp_path: Path) -> None:
    (tmp_path / "metrics.jsonl").write_text(json.dumps({"step": 5, "train/reward_mean": 0.5}) + "\n")
    record_metrics(tmp_path, 5, {"eval/avg/pass@1": 0.1})
    record_metrics(tmp_path, 5, {"eval/avg/pass@1": 0.2})
    record_metrics(tmp_path, 6, {"eval/avg/pass@1": 0.3})
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert rows == [
        {"step": 5, "train/reward_mean": 0.5},
        {"step": 5, "eval/avg/pass@1": 0.2},
        {"step": 6, "eval/avg/pass@1": 0.3},
    ]


def test_hf_generation_is_seeded_and_leaves_caller_rng_alone(tiny_model, tmp_path: Path) -> None:
    model, tokenizer = tiny_model
    model.train()
    bench = {"arith_test": {"source": "arith", "n_problems": 3}}
    cfg = EvalConfig(
        n=3, k=[1, 3], max_new_tokens=6, batch_size=4, temperature=1.0, top_p=1.0, progress=False
    )

    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    a = evaluate(model, tokenizer, bench, cfg, step=0, run_dir=tmp_path / "a")
    assert torch.equal(torch.rand(3), expected_next)  # eval forks the RNG
    assert model.training  # mode restored

    b = evaluate(model, tokenizer, bench, cfg, step=0, run_dir=tmp_path / "b")
    c = evaluate(
        model, tokenizer, bench, EvalConfig(**{**cfg.__dict__, "seed": 1}), step=0, run_dir=tmp_path / "c"
    )
    pd.testing.assert_frame_equal(a.records, b.records)
    assert a.records["completions"].tolist() != c.records["completions"].tolist()
    lengths = [len(x) for x in a.records["completions"]]
    assert lengths == [3, 3, 3]
    assert (a.records["mean_length"] <= 6).all()
    assert (a.records["mean_length"] >= 1).all()


def test_log_to_wandb_without_a_run_is_a_no_op(scripted, echo_tokenizer, tmp_path: Path) -> None:
    res = evaluate(
        None,
        echo_tokenizer,
        {"arith_test": {"source": "arith", "n_problems": 2}},
        EvalConfig(n=1, k=[1]),
        step=0,
        run_dir=tmp_path,
        backend=scripted(lambda i, j: "x"),
    )
    assert log_to_wandb(res, 0) is False
