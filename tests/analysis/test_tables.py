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

from analysis import efficiency, load, tables

HEAD = ["model.name", "method.name"]


@pytest.fixture(scope="module")
def main_sweep(sweeps: SyntheticSweeps) -> load.Sweep:
    return load.load_sweeps(sweeps.main)


@pytest.fixture(scope="module")
def ablation_sweep(sweeps: SyntheticSweeps) -> load.Sweep:
    return load.load_sweeps(sweeps.ablation)


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
    # strace has the most correct samples per problem: best on tiny; grpo is alone on tiny-m.
    assert table.best.loc[("tiny", "strace")].all()
    assert not table.best.loc[("tiny", "grpo")].any()
    assert not table.best.loc[("tiny", "gspo")].any()
    assert not table.best.loc[("tiny-m", "grpo")].any()  # one value on tiny-m: nothing to beat
    mean, std = table.mean.at[("tiny", "grpo"), "avg"], table.std.at[("tiny", "grpo"), "avg"]
    assert table.text(("tiny", "grpo"), "avg") == f"{100 * mean:.1f} ± {100 * std:.1f}"
    assert table.text(("tiny", "gspo"), "avg") == f"{100 * table.mean.at[('tiny', 'gspo'), 'avg']:.1f}"
    assert table.text(("tiny-m", "gspo"), "avg") == "—"
    assert table.header() == ["model", "method", "AIME24", "MATH-500", "Avg.", "Δ avg vs GRPO"]
    assert table.row_labels(("tiny", "strace")) == ["tiny", "S-trace"]
    assert table.caption() == (
        "Mean ± sample standard deviation (ddof = 1) over n = 1–2 seeds per cell (no ± where a "
        "cell has one seed), finished runs only; the CSV gives n per cell. pass@16 in % (points), "
        "at each run's last evaluation. Bold: the best value per column within each model (ties at "
        "the shown precision are all bold; nothing is bold where there is one value or all values "
        "tie). —: no value from a finished run (see the notes). Δ avg vs GRPO: a variant's mean "
        "average minus GRPO's on the same model, in points (no ±)."
    )


def test_k_beyond_the_samples_leaves_every_cell_empty_and_says_so(main_sweep: load.Sweep) -> None:
    table = tables.main_table(main_sweep, k=64)  # 32 samples per problem
    assert table.mean.isna().all().all()
    assert table.seeds() == (0, 0)
    assert table.caption().startswith("No finished run has a value here yet.")
    marks, notes = table.footnotes()
    assert notes[marks[(("tiny", "grpo"), "avg")] - 1].startswith("tiny / GRPO: no Avg. value: grpo-tiny-s0")


def test_delta_vs_grpo_column(main_sweep: load.Sweep) -> None:
    table = tables.main_table(main_sweep, k=16)
    avg = table.mean["avg"] * 100
    assert table.extra[tables.DELTA].to_dict() == {
        ("tiny", "grpo"): "",
        ("tiny", "gspo"): f"{avg['tiny', 'gspo'] - avg['tiny', 'grpo']:+.1f}",
        ("tiny", "strace"): f"{avg['tiny', 'strace'] - avg['tiny', 'grpo']:+.1f}",
        ("tiny-m", "grpo"): "",
        ("tiny-m", "gspo"): "",
        ("tiny-m", "strace"): "",
    }
    assert tables.PAPER not in table.extra  # no paper measured these models


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
    assert table.extra.loc[row].tolist() == [f"{ours:+.1f}", "+3.16 (paper)"]
    assert table.extra.loc[("qwen3-4b", "grpo")].tolist() == ["", ""]
    assert table.mean.loc[row, "avg"] == pytest.approx(
        statistics.mean(run_scores(s, 16)["avg"] for s in specs[2:])
    )
    marks, notes = table.footnotes()
    note = notes[marks[(row, tables.PAPER)] - 1]
    assert note.startswith("arXiv:2605.05965 (Mou et al. 2026")
    assert '"GRPO(λ)"' in note
    assert table.header()[-2:] == [tables.DELTA, tables.PAPER]
    assert table.row_labels(row) == [
        "Qwen3-4B",
        "S-trace",
    ]
    reference = tables.paper_reference(table).set_index("paper's model")
    assert reference.at["Qwen3-4B", "our Δ"] == f"{ours:+.1f}"
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
    assert strace_note.startswith("tiny-m / S-trace: not finished: ")
    assert "strace-tiny-m-s0 (failed; " + str(sweeps.main / "6") + ")" in strace_note
    assert "strace-tiny-m-s1 (running; " + str(sweeps.main / "7") + ")" in strace_note
    assert notes[marks[(("tiny-m", "gspo"), "aime24")] - 1] == "tiny-m / GSPO: no run"
    # gspo on tiny: the failed seed 1 (evaluated at step 5) is listed, and only seed 0 is averaged.
    gspo_note = notes[marks[(("tiny", "gspo"), "avg")] - 1]
    assert gspo_note.startswith("tiny / GSPO: excludes")
    assert "gspo-tiny-s1 (failed;" in gspo_note
    seed0 = finished(sweeps.main_specs, model="tiny", method="gspo")
    assert [s.seed for s in seed0] == [0]
    assert table.mean.at[("tiny", "gspo"), "avg"] == pytest.approx(run_scores(seed0[0], 16)["avg"])
    assert (("tiny", "grpo"), "avg") not in marks
    assert len(notes) == 3  # one footnote per row, shared by its cells


def _values_table(values: dict[tuple[str, str], float], digits: int = 1) -> tables.Table:
    runs = pd.DataFrame(
        [
            {
                "run": f"{m}/{x}",
                "status": "finished",
                "name": f"{m}/{x}",
                "model.name": m,
                "method.name": x,
            }
            for m, x in values
        ]
    )
    scores = pd.DataFrame({"run": runs["run"], "benchmark": "avg", "value": list(values.values())})
    return tables.build_table(
        scores, runs, HEAD, "benchmark", name="t", title="t", scale=100.0, digits=digits
    )


def test_ties_at_the_shown_precision_are_all_bold() -> None:
    table = _values_table({("m", "grpo"): 0.45231, ("m", "gspo"): 0.45229, ("m", "strace"): 0.40})
    assert table.best["avg"].tolist() == [True, True, False]  # 45.2 and 45.2
    finer = _values_table({("m", "grpo"): 0.45231, ("m", "gspo"): 0.45229, ("m", "strace"): 0.40}, digits=3)
    assert finer.best["avg"].tolist() == [True, False, False]  # 45.231 beats 45.229


def test_nothing_is_bold_when_all_tie_or_one_value() -> None:
    assert not _values_table({("m", "grpo"): 0.5, ("m", "gspo"): 0.5}).best.any().any()
    assert not _values_table({("m", "grpo"): 0.5, ("n", "gspo"): 0.7}).best.any().any()  # one per model


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
    assert table.mean.index.names == [*HEAD, "method.placement", "method.entropy_quantile"]
    assert list(table.mean.columns) == [0.9, 0.99]
    assert table.title == "Avg. pass@16 by λ"
    for placement in ("ratio", "weight"):
        for lam in (0.9, 0.99):
            specs = finished(sweeps.ablation_specs, placement=placement, lam=lam)
            cell = (("tiny", "grpo_lambda", placement, "—"), lam)
            if not specs:  # λ=0.9 × weight only failed
                assert math.isnan(table.mean.at[cell])
                assert table.text(*cell) == "—"
                marks, notes = table.footnotes()
                assert notes[marks[cell] - 1].startswith(
                    "tiny / GRPO-λ (trace placement=ε-weight), λ=0.9: not finished:"
                )
                continue
            mean, std = mean_std([run_scores(s, 16)["avg"] for s in specs])
            assert table.mean.at[cell] == pytest.approx(mean)
            assert table.std.at[cell] == pytest.approx(std)
    # S-trace ran only at λ=0.99: its λ=0.9 cell is not part of the grid (blank, no footnote).
    assert table.text(("tiny", "strace", "—", 0.1), 0.9) == ""
    assert len(table.footnotes()[1]) == 1
    assert table.header() == [
        "model",
        "method",
        "trace placement",
        "entropy quantile",
        "λ=0.9",
        "λ=0.99",
    ]
    assert table.row_labels(("tiny", "grpo_lambda", "weight", "—")) == [
        "tiny",
        "GRPO-λ",
        "ε-weight",
        "—",
    ]


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


def hand_efficiency(spec: RunSpec, target: float) -> dict[str, float]:
    step = next(s for s in range(1, STEPS + 1) if spec.reward(s) >= target)
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
    table = tables.efficiency_table(main_sweep, target=0.42)
    assert list(table.mean.columns) == list(efficiency.COLUMNS)
    for model, method in [
        ("tiny", "grpo"),
        ("tiny", "gspo"),
        ("tiny", "strace"),
        ("tiny-m", "grpo"),
    ]:
        hand = [hand_efficiency(s, 0.42) for s in finished(sweeps.main_specs, model=model, method=method)]
        for col in efficiency.COLUMNS:
            mean, std = mean_std([h[col] for h in hand])
            assert table.mean.at[(model, method), col] == pytest.approx(mean), (model, method, col)
            if not math.isnan(std):
                assert table.std.at[(model, method), col] == pytest.approx(std), (
                    model,
                    method,
                    col,
                )
    # fewer steps/tokens is better, larger AUC and accuracy are better: strace wins all on tiny.
    assert table.best.loc[("tiny", "strace")].all()
    assert table.mean.loc[("tiny-m", "strace")].isna().all()
    assert table.title == "Efficiency (target training reward ≥ tiny: 0.42, tiny-m: 0.42)"


def test_efficiency_default_target_is_reached_by_every_finished_run(main_sweep: load.Sweep) -> None:
    per_run = efficiency.per_run(main_sweep).merge(main_sweep.runs[["run", "model.name", "status"]], on="run")
    # tiny: lowest peak reward among finished runs is grpo's 0.05 * 10 = 0.5; tiny-m: grpo's 0.6.
    assert per_run.groupby("model.name")["target"].first().to_dict() == pytest.approx(
        {"tiny": 0.45, "tiny-m": 0.54}
    )
    assert per_run.loc[per_run["status"] == "finished", "steps to target"].notna().all()


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
    assert list(frame.columns) == ["AIME24", "MATH-500", "Avg.", "Δ avg vs GRPO"]
    assert frame.at[("tiny-m", "GSPO"), "Avg."] == "— [2]"
    assert frame.at[("tiny", "GSPO"), "Avg."].endswith(" [1]")


def test_ablation_grid_crosses_models_per_method(sweeps: SyntheticSweeps) -> None:
    """S-trace was tried on tiny-m (in the main sweep), so its quantile gaps there show."""
    sweep = load.load_sweeps([sweeps.main, sweeps.ablation])
    table = tables.ablation_table(sweep, "quantile", k=16)
    assert list(table.mean.index) == [("tiny", "strace"), ("tiny-m", "strace")]
    marks, notes = table.footnotes()
    assert notes[marks[(("tiny-m", "strace"), 0.1)] - 1] == "tiny-m / S-trace, entropy quantile=0.1: no run"
    assert "strace-tiny-m-s0 (failed;" in notes[marks[(("tiny-m", "strace"), 0.2)] - 1]
    lam = tables.ablation_table(sweep, "lam", k=16)
    assert {row[:2] for row in lam.mean.index} == {
        ("tiny", "grpo_lambda"),
        ("tiny", "strace"),
        ("tiny-m", "strace"),
    }
