"""Table cells equal values computed by hand from the synthetic run specs."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic_runs import (
    BENCHMARKS,
    PROMPTS_PER_STEP,
    STEPS,
    N,
    RunSpec,
    SyntheticSweeps,
    evaluated,
    finished,
    mean_std,
    run_scores,
    write_run,
)

from analysis import efficiency, load, tables, variants

HEAD = ["model.name", "method.name"]


@pytest.mark.parametrize("k", [1, 4, 16])
def test_main_table_cells_are_seed_mean_and_std_of_pass_at_k(
    sweeps: SyntheticSweeps, main_sweep: load.Sweep, k: int
) -> None:
    table = tables.main_table(main_sweep, k=k)
    assert list(table.mean.columns) == [*BENCHMARKS, "avg"]
    assert table.mean.index.names == HEAD
    assert list(table.mean.index) == [
        ("tiny", "grpo"),
        ("tiny", "gspo"),
        ("tiny", "strace"),
        ("tiny-m", "grpo"),
        ("tiny-m", "gspo"),
        ("tiny-m", "strace"),
    ]
    for model, method in [
        ("tiny", "grpo"),
        ("tiny", "gspo"),
        ("tiny", "strace"),
        ("tiny-m", "grpo"),
    ]:
        specs = finished(sweeps.main_specs, model=model, method=method)
        for col in table.mean.columns:
            mean, std = mean_std([run_scores(s, k)[col] for s in specs])
            assert table.mean.at[(model, method), col] == pytest.approx(mean, abs=1e-12)
            assert table.count.at[(model, method), col] == len(specs)
            if math.isnan(std):
                assert math.isnan(table.std.at[(model, method), col])
            else:
                assert table.std.at[(model, method), col] == pytest.approx(std, abs=1e-12)


def test_main_table_text_best_marks_and_caption(main_sweep: load.Sweep) -> None:
    table = tables.main_table(main_sweep, k=16)
    # bold is exactly the cells whose paired Δ vs GRPO has a CI excluding 0, never a mean alone
    assert {
        (row, col): bool(table.best.at[row, col]) for row in table.mean.index for col in table.mean.columns
    } == {
        (row, col): bool((row, col) in table.paired and table.paired[(row, col)].significant)
        for row in table.mean.index
        for col in table.mean.columns
    }
    assert table.best.at[("tiny", "strace"), "avg"]  # every problem solved at least as often as GRPO
    assert not table.best.loc[("tiny", "grpo")].any()  # the baseline has no Δ
    assert not table.best.loc[("tiny-m", "grpo")].any()
    mean, ci = table.mean.at[("tiny", "grpo"), "avg"], table.ci[(("tiny", "grpo"), "avg")]
    assert (
        table.text(("tiny", "grpo"), "avg")
        == f"{100 * mean:.1f} [{100 * ci.low:.1f}, {100 * ci.high:.1f}] (n=2)"
    )
    gspo = table.ci[(("tiny", "gspo"), "avg")]
    assert gspo.seeds == 1  # one seed: the CI is evaluation noise alone
    assert table.text(("tiny-m", "gspo"), "avg") == "—"
    assert table.header() == ["model", "method", "AIME24", "MATH-500", "Avg.", "Δ avg vs GRPO", "P(> GRPO)"]
    assert table.row_labels(("tiny", "strace")) == ["Tiny Qwen3 (toy)", "S-trace"]
    caption = table.caption()
    assert caption.startswith(
        "Each cell: the mean over n = 1–2 (given per cell) seeds (finished runs only) and its 95% CI: "
        "percentile bootstrap (2000 resamples, scipy.stats.bootstrap) over seeds and, independently, over "
        "the evaluated problems within each benchmark (with one seed, the CI is evaluation noise alone); "
        "the CSV gives n, the seed std and the CI per cell. pass@16 in % (points), at each run's last "
        "evaluation. Bold: the paired Δ vs GRPO (same model, seeds and problems) has a 95% CI that excludes "
        "0, above or below (its sign says which); no mean is bold for being the largest."
    )
    assert (
        "Δ avg vs GRPO: the average pass@16 over benchmarks minus GRPO's on the same model, paired by "
        in (caption)
    )
    assert caption.endswith(table.detectable)


def test_k_beyond_the_samples_leaves_every_cell_empty_and_says_so(main_sweep: load.Sweep) -> None:
    table = tables.main_table(main_sweep, k=64)  # 32 samples per problem
    assert table.mean.isna().all().all()
    assert table.seeds() == (0, 0)
    assert table.caption().startswith("No finished run has a value here yet.")
    marks, notes = table.footnotes()
    assert notes[marks[(("tiny", "grpo"), "avg")] - 1].startswith(
        "Tiny Qwen3 (toy) / GRPO: no Avg. value: grpo-tiny-s0"
    )


def test_delta_vs_grpo_column_is_paired_by_seed(sweeps: SyntheticSweeps, main_sweep: load.Sweep) -> None:
    """GSPO on tiny finished seed 0 only: its Δ is GSPO − GRPO at seed 0, not GSPO's seed 0
    against GRPO's mean over seeds 0 and 1 (which would add GRPO's seed-1 gap)."""
    table = tables.main_table(main_sweep, k=16)

    def avg(method: str, seed: int) -> float:
        (spec,) = finished(sweeps.main_specs, model="tiny", method=method, seed=seed)
        return 100 * run_scores(spec, 16)["avg"]

    gspo = avg("gspo", 0) - avg("grpo", 0)
    strace = statistics.mean(avg("strace", s) - avg("grpo", s) for s in (0, 1))
    unpaired = avg("gspo", 0) - statistics.mean(avg("grpo", s) for s in (0, 1))
    assert f"{gspo:+.1f}" != f"{unpaired:+.1f}"  # the old, unpaired Δ would read differently
    delta = tables.delta_column("GRPO")
    shown = table.extra[delta].to_dict()
    assert shown[("tiny", "gspo")].startswith(f"{gspo:+.1f} [")
    assert shown[("tiny", "strace")].startswith(f"{strace:+.1f} [")
    assert {
        r: shown[r] for r in [("tiny", "grpo"), ("tiny-m", "grpo"), ("tiny-m", "gspo"), ("tiny-m", "strace")]
    } == {
        ("tiny", "grpo"): "",
        ("tiny-m", "grpo"): "",
        ("tiny-m", "gspo"): "—",  # no finished run: its cells' notes say why
        ("tiny-m", "strace"): "—",
    }
    assert table.paired[(("tiny", "gspo"), "avg")].delta.value == pytest.approx(gspo / 100)
    marks, notes = table.footnotes()
    assert notes[marks[(("tiny", "gspo"), delta)] - 1] == (
        "Δ avg vs GRPO is over seed 0 only, the ones both have (this variant: seed 0; GRPO: seeds 0, 1)."
    )
    assert (("tiny", "strace"), delta) not in marks  # same seeds as GRPO: nothing to say
    assert tables.PAPER not in table.extra  # no paper measured these models


def test_delta_without_a_common_seed_is_empty_and_footnoted(tmp_path: Path) -> None:
    specs = [
        RunSpec("g0", "grpo", "tiny", 0),
        RunSpec("g1", "grpo", "tiny", 1),
        RunSpec("s2", "strace", "tiny", 2, lam=0.99),
        RunSpec("p1", "gspo", "tiny", 1),
    ]
    for spec in specs:
        write_run(tmp_path / spec.job, evaluated(spec))
    table = tables.main_table(load.load_sweeps(tmp_path), k=16)
    delta = tables.delta_column("GRPO")
    assert table.extra.at[("tiny", "strace"), delta] == "—"
    marks, notes = table.footnotes()
    assert notes[marks[(("tiny", "strace"), delta)] - 1] == (
        "No Δ avg vs GRPO: this variant (seed 2) and GRPO (seeds 0, 1) share no seed."
    )
    gspo = 100 * (run_scores(specs[3], 16)["avg"] - run_scores(specs[1], 16)["avg"])
    assert table.extra.at[("tiny", "gspo"), delta].startswith(f"{gspo:+.1f} [")
    assert tables.paper_reference(table).set_index("paper's model").at["Qwen3-4B", "our Δ"] == (
        "not measured here"
    )


def test_paper_numbers_sit_beside_ours_on_the_same_model(tmp_path: Path) -> None:
    specs = [evaluated(RunSpec(f"{m}{s}", m, "qwen3-4b", s)) for m in ("grpo", "strace") for s in (0, 1)]
    for spec in specs:
        write_run(tmp_path / spec.job, spec)
    table = tables.main_table(load.load_sweeps(tmp_path), k=16)
    ours = 100 * (
        statistics.mean(run_scores(s, 16)["avg"] for s in specs[2:])
        - statistics.mean(run_scores(s, 16)["avg"] for s in specs[:2])
    )
    row = ("qwen3-4b", "strace")
    found = table.paired[(row, "avg")]
    assert table.extra.loc[row].tolist() == [
        table.delta_text(found.delta, 1),
        table.better_text(found.better),
        "+3.16 (paper)",
    ]
    assert table.extra.at[row, tables.delta_column("GRPO")].startswith(f"{ours:+.1f} [")
    assert table.extra.loc[("qwen3-4b", "grpo")].tolist() == ["", "", ""]
    assert table.mean.loc[row, "avg"] == pytest.approx(
        statistics.mean(run_scores(s, 16)["avg"] for s in specs[2:])
    )
    marks, notes = table.footnotes()
    note = notes[marks[(row, tables.PAPER)] - 1]
    assert note.startswith("arXiv:2605.05965 (Mou et al. 2026")
    assert '"GRPO(λ)"' in note
    assert table.header()[-3:] == ["Δ avg vs GRPO", "P(> GRPO)", tables.PAPER]
    assert table.row_labels(row) == [
        "Qwen3-4B",
        "S-trace",
    ]
    reference = tables.paper_reference(table).set_index("paper's model")
    assert reference.at["Qwen3-4B", "our Δ"] == table.delta_text(found.delta, 1)
    assert reference.at["Qwen3-4B", "paper Δ"] == "+3.16"
    assert reference.at["Qwen3-8B", "our Δ"] == "not measured here"
    assert reference.at["the 7B model", "our Δ"] == "n/a (not one of our model configs)"


def test_missing_cells_are_footnoted_and_failed_runs_excluded(
    sweeps: SyntheticSweeps, main_sweep: load.Sweep
) -> None:
    table = tables.main_table(main_sweep, k=16)
    marks, notes = table.footnotes()
    assert table.mean.loc[("tiny-m", "strace")].isna().all()
    assert table.mean.loc[("tiny-m", "gspo")].isna().all()
    strace_note = notes[marks[(("tiny-m", "strace"), "avg")] - 1]
    assert strace_note.startswith("Tiny-M Qwen3 (toy) / S-trace: not finished: ")
    assert "strace-tiny-m-s0 (failed; " + str(sweeps.main / "6") + ")" in strace_note
    assert "strace-tiny-m-s1 (running; " + str(sweeps.main / "7") + ")" in strace_note
    assert notes[marks[(("tiny-m", "gspo"), "aime24")] - 1] == "Tiny-M Qwen3 (toy) / GSPO: no run"
    # gspo on tiny: the failed seed 1 (evaluated at step 5) is listed, and only seed 0 is averaged.
    gspo_note = notes[marks[(("tiny", "gspo"), "avg")] - 1]
    assert gspo_note.startswith("Tiny Qwen3 (toy) / GSPO: excludes")
    assert "gspo-tiny-s1 (failed;" in gspo_note
    seed0 = finished(sweeps.main_specs, model="tiny", method="gspo")
    assert [s.seed for s in seed0] == [0]
    assert table.mean.at[("tiny", "gspo"), "avg"] == pytest.approx(run_scores(seed0[0], 16)["avg"])
    assert (("tiny", "grpo"), "avg") not in marks
    assert len(notes) == 4  # one footnote per row, shared by its cells, and GSPO's one-seed Δ


def test_status_table_lists_every_unfinished_run(main_sweep: load.Sweep) -> None:
    status = tables.status_table(main_sweep)
    assert list(status.columns) == [
        "name",
        "status",
        "error",
        "steps",
        "run",
        *HEAD,
        "trainer.seed",
    ]
    assert sorted(zip(status["name"], status["status"], strict=True)) == [
        ("gspo-tiny-s1", "failed"),
        ("strace-tiny-m-s0", "failed"),
        ("strace-tiny-m-s1", "running"),
    ]


def test_lambda_ablation(sweeps: SyntheticSweeps, ablation_sweep: load.Sweep) -> None:
    table = tables.ablation_table(ablation_sweep, "lam", k=16)
    # S-trace ran at λ=0.99 only (its λ is fixed): no row, and the quantile is no row key.
    assert table.mean.index.names == [*HEAD, "method.placement"]
    assert list(table.mean.index) == [("tiny", "grpo_lambda", "ratio"), ("tiny", "grpo_lambda", "weight")]
    assert list(table.mean.columns) == [0.9, 0.99]
    assert table.title == "Avg. pass@16 by λ"
    for placement in ("ratio", "weight"):
        for lam in (0.9, 0.99):
            specs = finished(sweeps.ablation_specs, placement=placement, lam=lam)
            cell = (("tiny", "grpo_lambda", placement), lam)
            if not specs:  # λ=0.9 × weight only failed
                assert math.isnan(table.mean.at[cell])
                assert table.text(*cell) == "—"
                marks, notes = table.footnotes()
                assert notes[marks[cell] - 1].startswith(
                    "Tiny Qwen3 (toy) / GRPO-λ (trace placement=ε-weight), λ=0.9: not finished:"
                )
                continue
            mean, std = mean_std([run_scores(s, 16)["avg"] for s in specs])
            assert table.mean.at[cell] == pytest.approx(mean)
            assert table.std.at[cell] == pytest.approx(std)
    assert len(table.footnotes()[1]) == 1
    assert table.header() == ["model", "method", "trace placement", "λ=0.9", "λ=0.99"]
    assert table.row_labels(("tiny", "grpo_lambda", "weight")) == ["Tiny Qwen3 (toy)", "GRPO-λ", "ε-weight"]


def test_quantile_ablation_restricted_to_group(sweeps: SyntheticSweeps) -> None:
    sweep = load.load_sweeps([sweeps.main, sweeps.ablation])
    table = tables.ablation_table(sweep, "quantile", k=4, groups=["entropy_quantile_ablation"])
    assert list(table.mean.index) == [("tiny", "strace")]
    assert list(table.mean.columns) == [0.1, 0.2]
    for q in (0.1, 0.2):
        (spec,) = finished(sweeps.ablation_specs, quantile=q)
        assert table.mean.at[("tiny", "strace"), q] == pytest.approx(run_scores(spec, 4)["avg"])
    # both quantiles scored the same (counts depend on method and seed only): a tie, no bold
    assert table.text(("tiny", "strace"), 0.1) == table.text(("tiny", "strace"), 0.2)
    assert not table.best.any().any()


def test_placement_ablation(sweeps: SyntheticSweeps, ablation_sweep: load.Sweep) -> None:
    table = tables.ablation_table(ablation_sweep, "placement", k=16)
    assert table.mean.index.names == [*HEAD, "method.lam"]
    assert list(table.mean.columns) == ["ratio", "weight"]
    assert [table.column_label(c) for c in table.mean.columns] == [
        "trace placement=ε-trace",
        "trace placement=ε-weight",
    ]
    specs = finished(sweeps.ablation_specs, lam=0.99, placement="weight")
    assert table.mean.at[("tiny", "grpo_lambda", 0.99), "weight"] == pytest.approx(
        statistics.mean(run_scores(s, 16)["avg"] for s in specs)
    )
    assert math.isnan(table.mean.at[("tiny", "grpo_lambda", 0.9), "weight"])


def hand_efficiency(spec: RunSpec, gain: float) -> dict[str, float]:
    """Unsmoothed: the first step whose reward is ``gain`` above the reward at step 1."""
    step = next(s for s in range(1, STEPS + 1) if spec.reward(s) - spec.reward(1) >= gain)
    acc = 100 * float(np.mean([np.mean(cs) / N for cs in spec.c[STEPS].values()]))
    return {
        "steps to target": step,
        "prompts to target": PROMPTS_PER_STEP * step,
        "tokens to target (M)": spec.tokens_per_step * step / 1e6,
        "AUC": (spec.reward(1) + spec.reward(STEPS)) / 2,  # a linear curve's time-average
        "final accuracy (%)": acc,
        "accuracy (%) per M tokens": acc / (spec.tokens_per_step * STEPS / 1e6),
    }


def test_efficiency_table(sweeps: SyntheticSweeps, main_sweep: load.Sweep) -> None:
    table = tables.efficiency_table(main_sweep, target=0.18, smooth=1)
    assert list(table.mean.columns) == list(efficiency.COLUMNS)
    for model, method in [
        ("tiny", "grpo"),
        ("tiny", "gspo"),
        ("tiny", "strace"),
        ("tiny-m", "grpo"),
    ]:
        hand = [hand_efficiency(s, 0.18) for s in finished(sweeps.main_specs, model=model, method=method)]
        assert [h["steps to target"] for h in hand] == [5] * len(hand)  # 0.05 * (5 - 1) = 0.2 ≥ 0.18
        for col in efficiency.COLUMNS:
            mean, std = mean_std([h[col] for h in hand])
            assert table.mean.at[(model, method), col] == pytest.approx(mean), (model, method, col)
            if not math.isnan(std):
                assert table.std.at[(model, method), col] == pytest.approx(std), (
                    model,
                    method,
                    col,
                )
    # means over seeds without a paired test: nothing is bold
    assert not table.best.any().any()
    assert "Nothing is bold: these are means over seeds without a paired test." in table.caption()
    assert table.mean.loc[("tiny-m", "strace")].isna().all()
    assert table.title == (
        "Efficiency (target: training reward ≥ each run's start +0.18 on Tiny Qwen3 (toy), "
        "+0.18 on Tiny-M Qwen3 (toy))"
    )
    assert (
        "until a run's training reward (unsmoothed) first rises by the target above the run's own start"
        in (table.caption())
    )


def test_efficiency_default_target_is_half_the_best_gain(main_sweep: load.Sweep) -> None:
    per_run = efficiency.per_run(main_sweep, smooth=1).merge(
        main_sweep.runs[["run", "model.name", "status"]], on="run"
    )
    # Every finished run gains 0.05 * (10 - 1) = 0.45 from step 1 to 10: the target is half that,
    # reached at step 6 (0.25 ≥ 0.225), whatever the run's starting reward.
    assert per_run.groupby("model.name")["target"].first().to_dict() == pytest.approx(
        {"tiny": 0.225, "tiny-m": 0.225}
    )
    done = per_run[per_run["status"] == "finished"]
    assert done["steps to target"].tolist() == [6] * len(done)
    assert done["start"].tolist() == pytest.approx([0.05 + s.reward_offset for s in _specs(main_sweep, done)])


def _specs(sweep: load.Sweep, rows: pd.DataFrame) -> list[RunSpec]:
    from synthetic_runs import main_specs

    by_job = {s.job: s for s in main_specs()}
    return [by_job[Path(r).name] for r in rows["run"]]


def _efficiency_sweep(root: Path) -> load.Sweep:
    """GRPO starts high and learns slowly; S-trace starts low and learns fast (one seed each)."""
    specs = [
        RunSpec("high", "grpo", "tiny", 0, reward_offset=0.6, reward_slope=0.01),
        RunSpec("low", "strace", "tiny", 0, reward_offset=0.0, reward_slope=0.05),
    ]
    for spec in specs:
        write_run(root / spec.job, evaluated(spec))
    return load.load_sweeps(root)


def test_a_run_that_starts_above_the_target_does_not_win_by_starting_there(tmp_path: Path) -> None:
    sweep = _efficiency_sweep(tmp_path)
    table = tables.efficiency_table(sweep, smooth=1)
    # Default target: half the best gain, S-trace's 0.05 * 9 = 0.45, so 0.225 over each start.
    # An absolute target (the old "90% of the lowest peak" = 0.9 * 0.5 = 0.45) would have given
    # GRPO, at 0.61 from step 1, "1 step". Now GRPO, gaining 0.09 in all, never reaches it.
    assert table.mean.at[("tiny", "strace"), "steps to target"] == 6  # 0.05 * 5 = 0.25 ≥ 0.225
    assert table.mean.at[("tiny", "strace"), "prompts to target"] == 6 * PROMPTS_PER_STEP
    assert math.isnan(table.mean.at[("tiny", "grpo"), "steps to target"])
    assert table.text(("tiny", "grpo"), "steps to target") == "—"
    marks, notes = table.footnotes()
    assert notes[marks[(("tiny", "grpo"), "steps to target")] - 1].startswith(
        "Tiny Qwen3 (toy) / GRPO: no steps to target value: grpo-tiny-s0 (finished;"
    )
    assert table.title == "Efficiency (target: training reward ≥ each run's start +0.225 on Tiny Qwen3 (toy))"
    # A target both reach: the fast learner needs fewer steps although it starts 0.6 lower.
    both = tables.efficiency_table(sweep, target=0.045, smooth=1)
    assert both.mean.at[("tiny", "strace"), "steps to target"] == 2  # 0.05 * 1 ≥ 0.045
    assert both.mean.at[("tiny", "grpo"), "steps to target"] == 6  # 0.01 * 5 ≥ 0.045


def test_efficiency_smooths_with_a_trailing_window_from_its_first_full_window(tmp_path: Path) -> None:
    sweep = _efficiency_sweep(tmp_path)
    per_run = efficiency.per_run(sweep, target=0.045, smooth=3).set_index("run")
    high, low = str(tmp_path / "high"), str(tmp_path / "low")
    # The mean of a linear curve over steps t-2..t is its value at t-1; the first full window
    # ends at step 3, so the start is the reward at step 2 and the gain at t is slope * (t - 3).
    assert per_run.at[high, "start"] == pytest.approx(0.6 + 0.02)
    assert per_run.at[low, "start"] == pytest.approx(0.1)
    assert per_run.at[low, "steps to target"] == 4  # 0.05 * 1 ≥ 0.045
    assert per_run.at[high, "steps to target"] == 8  # 0.01 * 5 ≥ 0.045
    assert set(per_run["window"]) == {3}
    table = tables.efficiency_table(sweep, target=0.045, smooth=3)
    assert "(a trailing mean over 3 logged steps)" in table.caption()
    assert "(its mean over its first 3 logged steps)" in table.caption()


def test_default_window_is_five_percent_of_the_median_run_length(tmp_path: Path) -> None:
    steps = pd.DataFrame(
        {"run": ["a"] * 200 + ["b"] * 100, "step": [*range(1, 201), *range(1, 101)], "m": 0.5}
    )
    runs = pd.DataFrame({"run": ["a", "b"], "status": ["finished", "finished"]})
    assert efficiency.default_window(steps, runs, "m") == 8  # 5% of 150 = 7.5 -> 8
    assert efficiency.default_window(steps.iloc[:10], runs, "m") == 1


def test_tables_on_sweeps_without_some_data(sweeps: SyntheticSweeps, tmp_path: Path) -> None:
    main_only = load.load_sweeps(sweeps.main)
    assert [t.name for t in tables.all_tables(main_only)] == ["main", "efficiency"]
    empty = load.load_sweeps(tmp_path)
    assert all(t.mean.empty for t in tables.all_tables(empty))
    assert tables.status_table(empty).empty
    assert tables.ablation_axes(empty) == []


def test_frame_shows_display_names_and_markers(main_sweep: load.Sweep) -> None:
    frame = tables.main_table(main_sweep).frame()
    assert frame.index.names == ["model", "method"]
    assert list(frame.columns) == ["AIME24", "MATH-500", "Avg.", "Δ avg vs GRPO", "P(> GRPO)"]
    assert frame.at[("Tiny-M Qwen3 (toy)", "GSPO"), "Avg."] == "— [3]"
    assert frame.at[("Tiny Qwen3 (toy)", "GSPO"), "Avg."].endswith(" [1]")
    assert frame.at[("Tiny Qwen3 (toy)", "GSPO"), "Δ avg vs GRPO"].endswith(" [2]")


def test_ablation_grid_crosses_models_per_method(sweeps: SyntheticSweeps) -> None:
    """S-trace was tried on tiny-m (in the main sweep), so its quantile gaps there show."""
    sweep = load.load_sweeps([sweeps.main, sweeps.ablation])
    table = tables.ablation_table(sweep, "quantile", k=16)
    assert list(table.mean.index) == [("tiny", "strace"), ("tiny-m", "strace")]
    marks, notes = table.footnotes()
    assert notes[marks[(("tiny-m", "strace"), 0.1)] - 1] == (
        "Tiny-M Qwen3 (toy) / S-trace, entropy quantile=0.1: no run"
    )
    assert "strace-tiny-m-s0 (failed;" in notes[marks[(("tiny-m", "strace"), 0.2)] - 1]
    # tiny S-trace at q=0.2: main's seeds 0 and 1 and the ablation's seed 2
    specs = [
        *finished(sweeps.main_specs, model="tiny", method="strace"),
        *finished(sweeps.ablation_specs, quantile=0.2),
    ]
    assert [s.seed for s in specs] == [0, 1, 2]
    assert table.count.at[("tiny", "strace"), 0.2] == 3
    assert table.mean.at[("tiny", "strace"), 0.2] == pytest.approx(
        statistics.mean(run_scores(s, 16)["avg"] for s in specs)
    )
    lam = tables.ablation_table(sweep, "lam", k=16)
    assert {row[:2] for row in lam.mean.index} == {("tiny", "grpo_lambda")}  # S-trace: λ fixed at 0.99


def _runs_table(values: dict[tuple[str, str, int], float]) -> tables.Table:
    """A one-column table from {(model, method, seed): value}."""
    runs = pd.DataFrame(
        [
            {
                "run": f"{m}/{x}/{s}",
                "status": "finished",
                "name": f"{m}/{x}/{s}",
                "model.name": m,
                "method.name": x,
            }
            for m, x, s in values
        ]
    )
    scores = pd.DataFrame({"run": runs["run"], "benchmark": "avg", "value": list(values.values())})
    return tables.build_table(scores, runs, HEAD, "benchmark", name="t", title="t", scale=100.0, digits=1)


def test_a_mean_alone_is_never_bold() -> None:
    """The old rule bolded the best 3-seed mean; without a baseline to pair with, nothing is bold."""
    three = {
        ("m", x, s): v + s / 1000
        for x, v in (("gspo", 0.50), ("ptrace", 0.52), ("strace", 0.90))
        for s in range(3)
    }
    table = _runs_table(three)
    assert not table.best.any().any()
    assert table.best_rule == ""


def test_one_benchmark_has_no_avg_column(tmp_path: Path) -> None:
    specs = [RunSpec(f"{m}{s}", m, "tiny", s) for m in ("grpo", "strace") for s in (0, 1)]
    for spec in specs:
        spec = evaluated(spec)
        spec.c = {step: {"math500": per["math500"]} for step, per in spec.c.items()}
        write_run(tmp_path / spec.job, spec)
    sweep = load.load_sweeps(tmp_path)
    table = tables.main_table(sweep, k=4)
    assert list(table.mean.columns) == ["math500"]
    assert table.header() == ["model", "method", "MATH-500", "Δ avg vs GRPO", "P(> GRPO)"]
    assert table.title == "pass@4 on MATH-500, per model"
    assert (
        "Δ avg vs GRPO: the pass@4 on MATH-500 minus GRPO's on the same model, paired by seed"
        in table.caption()
    )
    # the Δ is still paired by seed, from that benchmark's (= the average's) values
    diffs = []
    for seed in (0, 1):
        runs = {s.method: s for s in specs if s.seed == seed}
        diffs.append(
            statistics.mean(chen_mean(runs["strace"], 4)) - statistics.mean(chen_mean(runs["grpo"], 4))
        )
    assert table.extra.at[("tiny", "strace"), "Δ avg vs GRPO"].startswith(
        f"{100 * statistics.mean(diffs):+.1f} ["
    )


def chen_mean(spec: RunSpec, k: int) -> list[float]:
    from synthetic_runs import chen

    return [chen(N, c, k) for c in spec.c[max(spec.c)]["math500"]]


def test_ablation_rows_are_the_variants_run_at_several_values(tmp_path: Path) -> None:
    """GRPO-λ lag at λ ∈ {0, 0.9}, released at {0, 0.9, 0.99}; P-trace at its one λ (no row);
    lag's λ=0.99 was never run: "—" with a footnote, as the README says of a missing cell."""
    specs = [
        RunSpec(f"{form}{lam}", "grpo_lambda", "tiny", 0, lam=lam, extra={"method": {"form": form}})
        for form, lams in (("lag", (0.0, 0.9)), ("released", (0.0, 0.9, 0.99)))
        for lam in lams
    ]
    specs.append(RunSpec("p", "ptrace", "tiny", 0, lam=0.99))
    for spec in specs:
        write_run(tmp_path / spec.job, evaluated(spec))
    sweep = load.load_sweeps(tmp_path)
    assert tables.ablation_axes(sweep) == ["method.form", "method.lam"]  # config order
    table = tables.ablation_table(sweep, "lam", k=16)
    assert list(table.mean.index) == [("tiny", "grpo_lambda", "lag"), ("tiny", "grpo_lambda", "released")]
    assert list(table.mean.columns) == [0.0, 0.9, 0.99]
    assert table.text(("tiny", "grpo_lambda", "lag"), 0.99) == "—"
    marks, notes = table.footnotes()
    assert notes[marks[(("tiny", "grpo_lambda", "lag"), 0.99)] - 1] == (
        "Tiny Qwen3 (toy) / GRPO-λ (trace form=lag), λ=0.99: no run"
    )
    assert "—: no value from a finished run (see the notes)." in table.caption()
    want = run_scores(specs[4], 16)["avg"]
    assert table.mean.at[("tiny", "grpo_lambda", "released"), 0.99] == pytest.approx(want)
    form = tables.ablation_table(sweep, "form", k=16)
    assert list(form.mean.index) == [
        ("tiny", "grpo_lambda", 0.0),
        ("tiny", "grpo_lambda", 0.9),
    ]  # 0.99: one form
    with pytest.raises(
        variants.NotAnAxis, match=r"no variant of these runs was run at two values of method\.lam"
    ):
        tables.ablation_table(load.load_sweeps([tmp_path / "lag0.0", tmp_path / "released0.9"]), "lam")


def test_a_delta_that_rounds_to_zero_has_no_minus_sign() -> None:
    assert tables.signed(-0.04, 1) == "+0.0"
    assert tables.signed(-0.05001, 1) == "-0.1"
    assert tables.signed(0.26, 1) == "+0.3"
