"""CIs, paired Δs, P(X > baseline) and detectable effects: against scipy's own bootstrap, hand
cases, and synthetic sweeps whose true Δ is known."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from synthetic_runs import N, RunSpec, write_run

from analysis import compare, load, plots, render, report, tables, uncertainty

RNG = np.random.default_rng(1234)


def _scipy(sample: np.ndarray) -> stats._result_classes.BootstrapResult:
    return stats.bootstrap(
        (sample,),
        np.mean,
        n_resamples=uncertainty.RESAMPLES,
        method="percentile",
        confidence_level=uncertainty.LEVEL,
        rng=np.random.default_rng(uncertainty.RNG_SEED),
    )


def test_one_seed_ci_is_scipys_bootstrap_over_the_problems() -> None:
    values = RNG.random((1, 40))
    ours = uncertainty.crossed_bootstrap(values)
    theirs = _scipy(values[0])
    assert ours.value == pytest.approx(values.mean())
    assert (ours.low, ours.high) == pytest.approx(tuple(theirs.confidence_interval), abs=1e-12)
    assert ours.se == pytest.approx(theirs.standard_error, abs=1e-12)
    assert (ours.seeds, ours.problems) == (1, 40)


def test_one_value_per_seed_ci_is_scipys_bootstrap_over_the_seeds() -> None:
    values = RNG.random((5, 1))
    ours = uncertainty.crossed_bootstrap(values)
    theirs = _scipy(values[:, 0])
    assert (ours.low, ours.high) == pytest.approx(tuple(theirs.confidence_interval), abs=1e-12)


def test_crossed_bootstrap_resamples_both_seeds_and_problems() -> None:
    """A seed effect and a problem effect: the crossed SE is about the root of the sum of the
    two one-way SEs' squares (each seen alone when the other source is absent)."""
    seed_effect = np.array([0.0, 0.3, -0.3, 0.1, -0.1])[:, None]
    problem_effect = RNG.normal(0, 0.5, (1, 200))
    both = uncertainty.crossed_bootstrap(seed_effect + problem_effect)
    seeds = uncertainty.crossed_bootstrap(seed_effect + 0 * problem_effect)
    problems = uncertainty.crossed_bootstrap(0 * seed_effect + problem_effect)
    assert both.se == pytest.approx(math.hypot(seeds.se, problems.se), rel=0.1)
    assert both.se > max(seeds.se, problems.se)


def test_strata_average_benchmarks_unweighted() -> None:
    values = np.array([[1.0, 1.0, 1.0, 0.0], [1.0, 1.0, 1.0, 0.0]])
    est = uncertainty.crossed_bootstrap(values, [[0, 1, 2], [3]])
    assert est.value == pytest.approx(0.5)  # mean of 1.0 and 0.0, not 3/4


def test_paired_delta_and_probability_of_improvement_by_hand() -> None:
    mine = np.array([[1.0, 0.0], [0.5, 0.5]])
    base = np.array([[0.0, 0.0], [1.0, 0.5]])
    found = uncertainty.paired(mine, base)
    assert found.delta.value == pytest.approx(0.125)  # (+1 + 0 - 0.5 + 0) / 4
    assert found.better.value == pytest.approx(0.5)  # (1 + ½ + 0 + ½) / 4
    with pytest.raises(ValueError, match="same seeds × problems"):
        uncertainty.paired(mine, base[:1])


def test_detectable_effect_and_seeds_needed_by_hand() -> None:
    z = statistics.NormalDist().inv_cdf(0.975) + statistics.NormalDist().inv_cdf(0.80)
    assert uncertainty.detectable(0.5) == pytest.approx(z * 0.5)
    # SE 0.5 over 4 seeds, half of its variance between seeds: SE(n)² = 0.25·(0.5·4/n + 0.5);
    # a Δ of 1 needs SE(n) ≤ 1/z: n ≥ 0.5 / (1/z² − 0.125).
    want = math.ceil(0.5 / (1 / z**2 - 0.125))
    assert want == 208
    assert uncertainty.seeds_needed(0.5, 0.5, 4, 1.0) == want
    assert uncertainty.seeds_needed(0.5, 0.1, 4, 1.0) == math.inf  # the problem part alone: too large
    assert math.isnan(uncertainty.seeds_needed(0.5, math.nan, 1, 1.0))  # one seed: share unknown
    # all of the variance between seeds: SE ∝ 1/√n, so 4× the seeds halve the detectable effect
    se = 1 / z  # detects a Δ of 1 with 1 seed, so one of 0.5 with 4
    assert uncertainty.seeds_needed(se, 1.0, 1, 0.5) == 4


def test_seed_share_by_hand() -> None:
    delta = np.array([[1.0, 3.0], [3.0, 5.0]])  # seed means 2, 4; problem means 2, 4
    by_seed, by_problem = np.var([2.0, 4.0], ddof=1) / 2, np.var([2.0, 4.0], ddof=1) / 2
    assert uncertainty.seed_share(delta) == pytest.approx(by_seed / (by_seed + by_problem))
    assert math.isnan(uncertainty.seed_share(delta[:1]))


def test_baseline_selector() -> None:
    assert compare.Baseline.parse("grpo").where == {"method.name": "grpo"}
    chosen = compare.Baseline.parse("grpo_lambda, method.lam=0")
    assert chosen.where == {"method.name": "grpo_lambda", "method.lam": "0"}
    assert chosen.name() == "GRPO-λ (λ=0)"
    with pytest.raises(ValueError, match="'lam' is not key=value"):
        compare.Baseline.parse("grpo,lam")
    runs = pd.DataFrame({"method.name": ["grpo_lambda"] * 3 + ["grpo"], "method.lam": [0.0, 0.9, None, None]})
    assert chosen.matches(runs).tolist() == [True, False, False, False]  # 0.0 is "0"
    assert compare.Baseline.parse("grpo_lambda,method.lam=0.90").matches(runs).tolist() == [
        False,
        True,
        False,
        False,
    ]
    assert not compare.Baseline.parse("grpo,trainer.lr=1").matches(runs).any()  # no such key here


PROBLEMS = 60
SEEDS = (0, 1, 2)


def _counts(seed: int, shift: float, redraw: int | None = None) -> list[int]:
    """Per-problem correct counts of N samples: a seed's own problem difficulties, ``shift``
    added to every problem's solve rate; ``redraw`` draws the samples again (a null Δ)."""
    rng = np.random.default_rng(seed)
    rates = rng.uniform(0.1, 0.7, PROBLEMS)
    draw = np.random.default_rng(1000 + seed if redraw is None else redraw)
    return draw.binomial(N, np.clip(rates + shift, 0, 1)).tolist()


def _sweep(root: Path, variants: dict[str, tuple[float, int | None]]) -> load.Sweep:
    for method, (shift, redraw) in {"grpo": (0.0, None), **variants}.items():
        for seed in SEEDS:
            spec = RunSpec(f"{method}{seed}", method, "tiny", seed)
            spec.c = {10: {"arith_test": _counts(seed, shift, None if redraw is None else redraw + seed)}}
            write_run(root / spec.job, spec)
    return load.load_sweeps(root)


@pytest.fixture(scope="module")
def known(tmp_path_factory: pytest.TempPathFactory) -> tables.Table:
    """GSPO solves every problem 20 points more often than GRPO; P-trace is GRPO's counts again
    (Δ = 0 exactly); S-trace draws its samples anew from GRPO's rates (a true Δ of 0)."""
    sweep = _sweep(
        tmp_path_factory.mktemp("known"), {"gspo": (0.2, None), "ptrace": (0.0, None), "strace": (0.0, 7)}
    )
    return tables.main_table(sweep, k=1)


def test_a_large_true_delta_is_bold_with_a_ci_that_excludes_zero(known: tables.Table) -> None:
    cell = (("tiny", "gspo"), "arith_test")
    found = known.paired[cell]
    assert found.delta.low > 0.1  # the true Δ is 0.2 (before clipping at 1)
    assert found.delta.low < found.delta.value < found.delta.high
    assert found.better.value > 0.9
    assert found.better.low > 0.5
    assert known.best.at[cell]
    frame = render.to_csv_frame(known).set_index("method.name")
    assert frame.at["gspo", "arith_test Δ"] == pytest.approx(100 * found.delta.value)


def test_a_null_delta_is_not_bold(known: tables.Table) -> None:
    same = known.paired[(("tiny", "ptrace"), "arith_test")]
    assert (same.delta.value, same.delta.low, same.delta.high) == (0.0, 0.0, 0.0)
    assert same.better.value == 0.5  # every pair ties
    redrawn = known.paired[(("tiny", "strace"), "arith_test")]
    assert redrawn.delta.low < 0 < redrawn.delta.high
    assert not known.best.at[(("tiny", "ptrace"), "arith_test")]
    assert not known.best.at[(("tiny", "strace"), "arith_test")]
    assert not known.best.at[(("tiny", "grpo"), "arith_test")]  # the baseline has no Δ


def test_cell_ci_and_delta_equal_the_bootstrap_of_the_hand_built_matrix(known: tables.Table) -> None:
    order = np.argsort([f"arith_test-{i}" for i in range(PROBLEMS)])  # the records' problem ids, sorted
    rates = np.array([_counts(s, 0.2) for s in SEEDS])[:, order] / N  # pass@1 per (seed, problem)
    base = np.array([_counts(s, 0.0) for s in SEEDS])[:, order] / N
    cell = known.ci[(("tiny", "gspo"), "arith_test")]
    assert _fields(cell) == pytest.approx(_fields(uncertainty.crossed_bootstrap(rates)))
    found, want = known.paired[(("tiny", "gspo"), "arith_test")], uncertainty.paired(rates, base)
    assert _fields(found.delta) == pytest.approx(_fields(want.delta))
    assert _fields(found.better) == pytest.approx(_fields(want.better))
    assert found.seed_share == pytest.approx(want.seed_share)
    # what docs/results/toy_numbers.py printed by hand: each seed's paired Δ and the evaluation noise
    assert found.per_seed == pytest.approx(tuple((rates - base).mean(axis=1)))
    noise = [_scipy((rates - base)[i]).standard_error for i in range(len(SEEDS))]
    assert found.eval_se == pytest.approx(float(np.median(noise)))
    assert known.per_seed_text(("tiny", "gspo"), "arith_test") == "; ".join(
        f"seed {s}: {tables.signed(100 * d, 1)}"
        for s, d in zip(SEEDS, (rates - base).mean(axis=1), strict=True)
    )
    assert known.text(("tiny", "gspo"), "arith_test") == (
        f"{100 * rates.mean():.1f} [{100 * cell.low:.1f}, {100 * cell.high:.1f}]"
    )


def _fields(found: uncertainty.Interval) -> tuple[float, ...]:
    return (found.value, found.low, found.high, found.se, found.seeds, found.problems)


def test_detectable_effect_line(known: tables.Table) -> None:
    ses = [known.paired[((("tiny", m)), "arith_test")].delta.se for m in ("gspo", "ptrace", "strace")]
    mde = sorted(100 * uncertainty.detectable(se) for se in ses)
    assert known.detectable.startswith(
        f"Detectable effect: with 3 paired seeds and {PROBLEMS} problems, a true Δ of {mde[1]:.1f} points "
        f"(median over 3 comparisons; {mde[0]:.1f}–{mde[2]:.1f}) vs GRPO is found at 95% (two-sided) "
        "with 80% power"
    )
    assert known.detectable in known.caption()


def test_any_variant_can_be_the_baseline(tmp_path: Path) -> None:
    sweep = _sweep(tmp_path, {"gspo": (0.2, None)})
    table = tables.main_table(sweep, k=1, baseline="gspo")
    assert table.header()[-2:] == ["Δ avg vs GSPO", "P(> GSPO)"]
    assert table.paired[(("tiny", "grpo"), "arith_test")].delta.high < 0
    assert table.best.at[(("tiny", "grpo"), "arith_test")]  # significantly below GSPO: bold too
    assert "Bold: the paired Δ vs GSPO" in table.caption()


def test_ablation_cells_show_their_delta_vs_the_baseline(tmp_path: Path) -> None:
    for lam, shift in ((0.0, 0.0), (0.9, 0.25)):
        for seed in SEEDS:
            spec = RunSpec(f"l{lam}-{seed}", "grpo_lambda", "tiny", seed, lam=lam)
            spec.c = {10: {"arith_test": _counts(seed, shift)}}
            write_run(tmp_path / spec.job, spec)
    _sweep(tmp_path / "main", {})  # the GRPO baseline
    sweep = load.load_sweeps(tmp_path)
    table = tables.ablation_table(sweep, "lam", k=1)
    row = ("tiny", "grpo_lambda")
    zero, high = table.paired[(row, 0.0)], table.paired[(row, 0.9)]
    assert zero.delta.value == 0.0
    assert not table.best.at[row, 0.0]
    assert high.significant
    assert table.best.at[row, 0.9]
    assert table.text(row, 0.9).endswith(
        f"; Δ {tables.signed(100 * high.delta.value, 1)} [{tables.signed(100 * high.delta.low, 1)}, "
        f"{tables.signed(100 * high.delta.high, 1)}], P {high.better.value:.2f} "
        f"[{high.better.low:.2f}, {high.better.high:.2f}]"
    )


def test_seed_ci_is_students_t_interval() -> None:
    ys = np.array([[1.0, 5.0], [2.0, 5.5], [4.0, 7.0]])
    _mean, low, high = plots.seed_ci(ys)
    for j in range(2):
        col = ys[:, j]
        want = stats.t.interval(0.95, len(col) - 1, loc=col.mean(), scale=stats.sem(col))
        assert (low[j], high[j]) == pytest.approx(want)
    assert np.isnan(plots.seed_ci(ys[:1])[1]).all()


def test_report_names_the_commit_when_the_runs_record_it(known: tables.Table, tmp_path: Path) -> None:
    sweep = _sweep(tmp_path, {})
    assert report.commit_line(sweep) == (
        "The runs do not record the commit they ran on (no `commit` in their run.json)."
    )
    sweep.runs["commit"] = ["abc1234"] * len(sweep.runs)
    assert report.commit_line(sweep) == "The runs ran on commit `abc1234`."
