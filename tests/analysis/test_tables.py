"""Table cells equal values computed by hand from the synthetic run specs."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest
from synthetic_runs import BENCHMARKS, N, PROMPTS_PER_STEP, STEPS, RunSpec, SyntheticSweeps

from analysis import efficiency, load, tables


def chen(n: int, c: int, k: int) -> float:
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def run_scores(spec: RunSpec, k: int) -> dict[str, float]:
    """Per-benchmark and average pass@k of a run at its last evaluated step."""
    per_bench = spec.c[max(spec.c)]
    out = {b: float(np.mean([chen(N, c, k) for c in cs])) for b, cs in per_bench.items()}
    out["avg"] = float(np.mean([out[b] for b in BENCHMARKS]))
    return out


def mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else math.nan)


def finished(specs: list[RunSpec], **where: object) -> list[RunSpec]:
    return [s for s in specs if s.status == "finished" and all(getattr(s, k) == v for k, v in where.items())]


@pytest.fixture(scope="module")
def main_sweep(sweeps: SyntheticSweeps) -> load.Sweep:
    return load.load_sweeps(sweeps.main)


@pytest.fixture(scope="module")
def ablation_sweep(sweeps: SyntheticSweeps) -> load.Sweep:
    return load.load_sweeps(sweeps.ablation)


@pytest.mark.parametrize("k", [1, 4, 16])
def test_main_table_cells_are_seed_mean_and_std_of_pass_at_k(
        sweeps: SyntheticSweeps, main_sweep: load.Sweep, k: int) -> None:
    table = tables.main_table(main_sweep, k=k)
    assert list(table.mean.columns) == [*BENCHMARKS, "avg"]
    assert list(table.mean.index) == [("tiny", "grpo"), ("tiny", "gspo"), ("tiny", "strace"),
                                      ("tiny-m", "grpo"), ("tiny-m", "gspo"), ("tiny-m", "strace")]
    for model, method in [("tiny", "grpo"), ("tiny", "gspo"), ("tiny", "strace"), ("tiny-m", "grpo")]:
        specs = finished(sweeps.main_specs, model=model, method=method)
        for col in table.mean.columns:
            mean, std = mean_std([run_scores(s, k)[col] for s in specs])
            assert table.mean.at[(model, method), col] == pytest.approx(mean, abs=1e-12)
            assert table.count.at[(model, method), col] == len(specs)
            if math.isnan(std):
                assert math.isnan(table.std.at[(model, method), col])
            else:
                assert table.std.at[(model, method), col] == pytest.approx(std, abs=1e-12)


def test_main_table_text_and_best_marks(main_sweep: load.Sweep) -> None:
    table = tables.main_table(main_sweep, k=16)
    # strace has the most correct samples per problem, so it is best on tiny; grpo is alone on tiny-m.
    assert table.best.loc[("tiny", "strace")].all()
    assert not table.best.loc[("tiny", "grpo")].any() and not table.best.loc[("tiny", "gspo")].any()
    assert table.best.loc[("tiny-m", "grpo")].all()
    mean, std = table.mean.at[("tiny", "grpo"), "avg"], table.std.at[("tiny", "grpo"), "avg"]
    assert table.text(("tiny", "grpo"), "avg") == f"{100 * mean:.1f} ± {100 * std:.1f}"
    assert table.text(("tiny", "gspo"), "avg") == f"{100 * table.mean.at[('tiny', 'gspo'), 'avg']:.1f}"
    assert table.text(("tiny-m", "gspo"), "avg") == "—"


def test_missing_cells_are_footnoted_and_failed_runs_excluded(
        sweeps: SyntheticSweeps, main_sweep: load.Sweep) -> None:
    table = tables.main_table(main_sweep, k=16)
    marks, notes = table.footnotes()
    assert table.mean.loc[("tiny-m", "strace")].isna().all()
    assert table.mean.loc[("tiny-m", "gspo")].isna().all()
    strace_note = notes[marks[(("tiny-m", "strace"), "avg")] - 1]
    assert "strace-tiny-m-s0 (failed; " + str(sweeps.main / "6") + ")" in strace_note
    assert "strace-tiny-m-s1 (running; " + str(sweeps.main / "7") + ")" in strace_note
    assert notes[marks[(("tiny-m", "gspo"), "aime24")] - 1] == "tiny-m / gspo: no run"
    # gspo on tiny: the failed seed 1 (evaluated at step 5) is listed, and only seed 0 is averaged.
    gspo_note = notes[marks[(("tiny", "gspo"), "avg")] - 1]
    assert gspo_note.startswith("tiny / gspo: excludes") and "gspo-tiny-s1 (failed;" in gspo_note
    seed0 = finished(sweeps.main_specs, model="tiny", method="gspo")
    assert [s.seed for s in seed0] == [0]
    assert table.mean.at[("tiny", "gspo"), "avg"] == pytest.approx(run_scores(seed0[0], 16)["avg"])
    assert (("tiny", "grpo"), "avg") not in marks
    assert len(notes) == 3  # one footnote per row, shared by its cells


def test_status_table_lists_every_unfinished_run(main_sweep: load.Sweep) -> None:
    status = tables.status_table(main_sweep)
    assert sorted(zip(status["name"], status["status"])) == [
        ("gspo-tiny-s1", "failed"), ("strace-tiny-m-s0", "failed"), ("strace-tiny-m-s1", "running")]


def test_lambda_ablation(sweeps: SyntheticSweeps, ablation_sweep: load.Sweep) -> None:
    table = tables.lambda_table(ablation_sweep, k=16)
    assert table.mean.index.names == ["model", "method", "placement", "quantile"]
    assert list(table.mean.columns) == [0.9, 0.99]
    for placement in ("ratio", "weight"):
        for lam in (0.9, 0.99):
            specs = finished(sweeps.ablation_specs, placement=placement, lam=lam)
            cell = (("tiny", "grpo_lambda", placement, ""), lam)
            if not specs:  # λ=0.9 × weight only failed
                assert math.isnan(table.mean.at[cell]) and table.text(*cell) == "—"
                marks, notes = table.footnotes()
                assert notes[marks[cell] - 1].startswith("tiny / grpo_lambda / weight, lam=0.9: not finished:")
                continue
            mean, std = mean_std([run_scores(s, 16)["avg"] for s in specs])
            assert table.mean.at[cell] == pytest.approx(mean) and table.std.at[cell] == pytest.approx(std)
    # S-trace ran only at λ=0.99: its λ=0.9 cell is not part of the grid (blank, no footnote).
    assert table.text(("tiny", "strace", "", 0.1), 0.9) == "" and len(table.footnotes()[1]) == 1


def test_quantile_ablation_restricted_to_group(sweeps: SyntheticSweeps) -> None:
    sweep = load.load_sweeps([sweeps.main, sweeps.ablation])
    table = tables.quantile_table(sweep, k=4, groups=["entropy_quantile_ablation"])
    assert list(table.mean.index) == [("tiny", "strace")] and list(table.mean.columns) == [0.1, 0.2]
    for q in (0.1, 0.2):
        (spec,) = finished(sweeps.ablation_specs, quantile=q)
        assert table.mean.at[("tiny", "strace"), q] == pytest.approx(run_scores(spec, 4)["avg"])
    best = table.mean.loc[("tiny", "strace")].max()
    assert table.best.loc[("tiny", "strace")].tolist() == (table.mean.loc[("tiny", "strace")] == best).tolist()


def test_placement_ablation(sweeps: SyntheticSweeps, ablation_sweep: load.Sweep) -> None:
    table = tables.placement_table(ablation_sweep, k=16)
    assert table.mean.index.names == ["model", "method", "lam"]
    assert list(table.mean.columns) == ["ratio", "weight"]
    specs = finished(sweeps.ablation_specs, lam=0.99, placement="weight")
    assert table.mean.at[("tiny", "grpo_lambda", 0.99), "weight"] == pytest.approx(
        statistics.mean(run_scores(s, 16)["avg"] for s in specs))
    assert math.isnan(table.mean.at[("tiny", "grpo_lambda", 0.9), "weight"])


def hand_efficiency(spec: RunSpec, target: float) -> dict[str, float]:
    step = next(s for s in range(1, STEPS + 1) if spec.reward(s) >= target)
    acc = float(np.mean([np.mean(cs) / N for cs in spec.c[STEPS].values()]))
    return {
        "steps to target": step, "prompts to target": PROMPTS_PER_STEP * step,
        "tokens to target (M)": spec.tokens_per_step * step / 1e6,
        "AUC": (spec.reward(1) + spec.reward(STEPS)) / 2,  # a linear curve's time-average
        "final accuracy": acc, "accuracy per M tokens": acc / (spec.tokens_per_step * STEPS / 1e6),
    }


def test_efficiency_table(sweeps: SyntheticSweeps, main_sweep: load.Sweep) -> None:
    table = tables.efficiency_table(main_sweep, target=0.42)
    assert list(table.mean.columns) == list(efficiency.COLUMNS)
    for model, method in [("tiny", "grpo"), ("tiny", "gspo"), ("tiny", "strace"), ("tiny-m", "grpo")]:
        hand = [hand_efficiency(s, 0.42) for s in finished(sweeps.main_specs, model=model, method=method)]
        for col in efficiency.COLUMNS:
            mean, std = mean_std([h[col] for h in hand])
            assert table.mean.at[(model, method), col] == pytest.approx(mean), (model, method, col)
            if not math.isnan(std):
                assert table.std.at[(model, method), col] == pytest.approx(std), (model, method, col)
    # fewer steps/tokens is better, larger AUC and accuracy are better: strace wins all on tiny.
    assert table.best.loc[("tiny", "strace")].all()
    assert table.mean.loc[("tiny-m", "strace")].isna().all()


def test_efficiency_default_target_is_reached_by_every_finished_run(main_sweep: load.Sweep) -> None:
    per_run = efficiency.per_run(main_sweep).merge(main_sweep.runs[["run", "model", "status"]], on="run")
    # tiny: lowest peak reward among finished runs is grpo's 0.05 * 10 = 0.5; tiny-m: grpo's 0.6.
    assert per_run.groupby("model")["target"].first().to_dict() == pytest.approx({"tiny": 0.45, "tiny-m": 0.54})
    assert per_run.loc[per_run["status"] == "finished", "steps to target"].notna().all()


def test_tables_on_sweeps_without_some_data(sweeps: SyntheticSweeps, tmp_path) -> None:
    main_only = load.load_sweeps(sweeps.main)
    assert tables.placement_table(main_only).mean.empty
    assert [t.name for t in tables.all_tables(main_only)] == [
        "main", "efficiency", "lambda_ablation", "quantile_ablation"]
    empty = load.load_sweeps(tmp_path)
    assert all(t.mean.empty for t in tables.all_tables(empty))
    assert tables.status_table(empty).empty


def test_frame_shows_markers(main_sweep: load.Sweep) -> None:
    frame = tables.main_table(main_sweep).frame()
    assert isinstance(frame, pd.DataFrame)
    assert frame.at[("tiny-m", "gspo"), "avg"] == "— [2]"
    assert frame.at[("tiny", "gspo"), "avg"].endswith(" [1]")


def test_ablation_grid_crosses_models_per_method(sweeps: SyntheticSweeps) -> None:
    """GRPO-λ ran only on tiny, so tiny-m has no GRPO-λ rows; S-trace was tried on tiny-m, so its gaps show."""
    table = tables.quantile_table(load.load_sweeps([sweeps.main, sweeps.ablation]), k=16)
    assert list(table.mean.index) == [("tiny", "strace"), ("tiny-m", "strace")]
    marks, notes = table.footnotes()
    assert notes[marks[(("tiny-m", "strace"), 0.1)] - 1] == "tiny-m / strace, quantile=0.1: no run"
    assert "strace-tiny-m-s0 (failed;" in notes[marks[(("tiny-m", "strace"), 0.2)] - 1]
    lam = tables.lambda_table(load.load_sweeps([sweeps.main, sweeps.ablation]), k=16)
    assert {row[:2] for row in lam.mean.index} == {("tiny", "grpo_lambda"), ("tiny", "strace"), ("tiny-m", "strace")}
