"""Loading run directories into tidy frames, and pass@k recomputed from (n, c)."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pandas as pd
import pytest
from synthetic_runs import BENCHMARKS, EVAL_STEPS, N, SyntheticSweeps

from analysis import load


def chen_pass_at_k(n: int, c: int, k: int) -> float:
    """The textbook 1 - C(n-c, k)/C(n, k), straight from integer binomials."""
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def test_finds_every_run_below_nested_roots(sweeps: SyntheticSweeps) -> None:
    runs = load.find_run_dirs([sweeps.root])
    assert len(runs) == len(sweeps.main_specs) + len(sweeps.ablation_specs)
    assert all(p.parent in (sweeps.main, sweeps.ablation) for p in runs)


def test_runs_frame_has_status_and_config_columns(sweeps: SyntheticSweeps) -> None:
    runs = load.load_sweeps(sweeps.main).runs.set_index("name")
    assert len(runs) == 10
    strace = runs.loc["strace-tiny-s0"]
    cols = ["method", "lam", "quantile", "model", "task", "seed"]
    assert strace[cols].tolist() == ["strace", 0.99, 0.2, "tiny", "arith", 0]
    assert pd.isna(runs.loc["grpo-tiny-s0", "lam"]) and pd.isna(runs.loc["grpo-tiny-s0", "style"])
    assert runs["status"].value_counts().to_dict() == {"finished": 7, "failed": 2, "running": 1}
    assert runs.loc["gspo-tiny-s1", "error"] == "RuntimeError: CUDA out of memory"


def test_steps_evals_and_problems(sweeps: SyntheticSweeps) -> None:
    sweep = load.load_sweeps([sweeps.main, sweeps.ablation])
    specs = {str(sweeps.main / s.job): s for s in sweeps.main_specs}
    specs |= {str(sweeps.ablation / s.job): s for s in sweeps.ablation_specs}
    assert len(sweep.steps) == sum(s.logged_steps for s in specs.values())
    row = sweep.steps[(sweep.steps["run"] == str(sweeps.main / "4")) & (sweep.steps["step"] == 3)].iloc[0]
    assert row["train/reward_mean"] == pytest.approx(0.05 * 3 + 0.2)
    assert row["train/tokens"] == 2400 and row["train/prompts"] == 24
    assert not any(c.startswith("eval/") for c in sweep.steps.columns)

    assert len(sweep.evals) == sum(len(s.c) for s in specs.values())
    assert set(sweep.evals.columns) == {"run", "step", *(f"eval/{b}/pass@1" for b in BENCHMARKS)}

    expected_rows = sum(len(cs) for s in specs.values() for per in s.c.values() for cs in per.values())
    assert len(sweep.problems) == expected_rows
    assert "completions" not in sweep.problems.columns
    one = sweep.problems[(sweep.problems["run"] == str(sweeps.main / "1")) & (sweep.problems["step"] == 10)]
    assert one.groupby("benchmark")["c"].apply(list).to_dict() == specs[str(sweeps.main / "1")].c[10]


@pytest.mark.parametrize("ks", [[1, 2, 4], [8, 16, N]])
def test_pass_at_k_table_matches_hand_computed(sweeps: SyntheticSweeps, ks: list[int]) -> None:
    sweep = load.load_sweeps(sweeps.main)
    table = load.pass_at_k_table(sweep.problems, ks).set_index(["run", "step", "benchmark"])
    for run in sweep.runs["run"]:
        spec = sweeps.spec(run)
        for step, per_bench in spec.c.items():
            bench_means = {}
            for bench, cs in per_bench.items():
                for k in ks:
                    want = np.mean([chen_pass_at_k(N, c, k) for c in cs])
                    assert table.loc[(run, step, bench), f"pass@{k}"] == pytest.approx(want, abs=1e-12)
                bench_means[bench] = {k: np.mean([chen_pass_at_k(N, c, k) for c in cs]) for k in ks}
            for k in ks:
                want = np.mean([m[k] for m in bench_means.values()])
                assert table.loc[(run, step, "avg"), f"pass@{k}"] == pytest.approx(want, abs=1e-12)
    assert len(table) == sum(len(sweeps.spec(r).c) for r in sweep.runs["run"]) * (len(BENCHMARKS) + 1)


def test_pass_at_k_beyond_n_is_missing(sweeps: SyntheticSweeps) -> None:
    problems = load.load_sweeps(sweeps.main).problems
    assert load.pass_at_k_table(problems, [N + 1])[f"pass@{N + 1}"].isna().all()


def test_scores_fall_back_to_metrics_without_records(sweeps: SyntheticSweeps) -> None:
    sweep = load.load_sweeps(sweeps.main)
    sweep.problems = sweep.problems.iloc[:0]
    scores = load.scores(sweep, [1]).set_index(["run", "step", "benchmark"])
    spec = sweeps.main_specs[0]
    want = np.mean(spec.c[10]["aime24"]) / N
    assert scores.loc[(str(sweeps.main / "0"), 10, "aime24"), "pass@1"] == pytest.approx(want)
    assert set(scores.index.get_level_values("step")) == set(EVAL_STEPS)


def test_empty_directory_loads_empty_frames(tmp_path) -> None:
    sweep = load.load_sweeps(tmp_path)
    assert sweep.runs.empty and sweep.steps.empty and sweep.evals.empty and sweep.problems.empty


def test_benchmark_with_too_few_samples_has_no_pass_at_k() -> None:
    records = pd.DataFrame({"run": "r", "step": 1, "benchmark": ["a", "a", "b"], "problem_id": ["1", "2", "1"],
                            "n": [4, 16, 16], "c": [1, 2, 3]})
    table = load.pass_at_k_table(records, [2, 8]).set_index("benchmark")
    assert table.at["a", "pass@2"] == pytest.approx((chen_pass_at_k(4, 1, 2) + chen_pass_at_k(16, 2, 2)) / 2)
    assert math.isnan(table.at["a", "pass@8"]) and math.isnan(table.at["avg", "pass@8"])
    assert table.at["b", "pass@8"] == pytest.approx(chen_pass_at_k(16, 3, 8))


def test_run_without_run_json_is_listed_as_unknown(tmp_path) -> None:
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "config.yaml").write_text("method: {name: grpo}\nmodel: {name: tiny}\n")
    sweep = load.load_sweeps(tmp_path)
    assert sweep.runs[["name", "status", "error", "method"]].values.tolist() == [
        ["job", "unknown", "run.json missing", "grpo"]]
    assert sweep.finished.empty and len(sweep.incomplete) == 1


def test_load_wandb_signature() -> None:
    """No network here: only check that the W&B loader exists with the documented signature."""
    assert list(inspect.signature(load.load_wandb).parameters) == ["project", "entity"]
