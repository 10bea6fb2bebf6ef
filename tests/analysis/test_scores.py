"""pass@k recomputed from per-problem (n, c), and read from metrics where a run has no records."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from synthetic_runs import BENCHMARKS, EVAL_STEPS, N, SyntheticSweeps

from analysis import load, scores


def chen_pass_at_k(n: int, c: int, k: int) -> float:
    """The textbook 1 - C(n-c, k)/C(n, k), straight from integer binomials."""
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


@pytest.mark.parametrize("ks", [[1, 2, 4], [8, 16, N]])
def test_pass_at_k_table_matches_hand_computed(sweeps: SyntheticSweeps, ks: list[int]) -> None:
    sweep = load.load_sweeps(sweeps.main)
    table = scores.pass_at_k_table(sweep.problems, ks).set_index(["run", "step", "benchmark"])
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
    assert scores.pass_at_k_table(problems, [N + 1])[f"pass@{N + 1}"].isna().all()


def test_scores_fall_back_to_metrics_without_records(sweeps: SyntheticSweeps) -> None:
    sweep = load.load_sweeps(sweeps.main)
    sweep.problems = sweep.problems.iloc[:0]
    found = scores.scores(sweep, [1]).set_index(["run", "step", "benchmark"])
    spec = sweeps.main_specs[0]
    want = np.mean(spec.c[10]["aime24"]) / N
    assert found.loc[(str(sweeps.main / "0"), 10, "aime24"), "pass@1"] == pytest.approx(want)
    assert set(found.index.get_level_values("step")) == set(EVAL_STEPS)


def test_benchmark_with_too_few_samples_has_no_pass_at_k() -> None:
    records = pd.DataFrame(
        {
            "run": "r",
            "step": 1,
            "benchmark": ["a", "a", "b"],
            "problem_id": ["1", "2", "1"],
            "n": [4, 16, 16],
            "c": [1, 2, 3],
        }
    )
    table = scores.pass_at_k_table(records, [2, 8]).set_index("benchmark")
    assert table.at["a", "pass@2"] == pytest.approx((chen_pass_at_k(4, 1, 2) + chen_pass_at_k(16, 2, 2)) / 2)
    assert math.isnan(table.at["a", "pass@8"])
    assert math.isnan(table.at["avg", "pass@8"])
    assert table.at["b", "pass@8"] == pytest.approx(chen_pass_at_k(16, 3, 8))
