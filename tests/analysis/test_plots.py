"""Figures: display names, % units, a line per variant (hand-computed), only varied axes."""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from synthetic_runs import STEPS, RunSpec, SyntheticSweeps, evaluated, finished, run_scores, write_run

from analysis import load, plots, variants


def _lines(ax: Axes) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Legend label -> (x, y) of its line (errorbar containers give their data line)."""
    handles, labels = ax.get_legend_handles_labels()
    out = {}
    for handle, label in zip(handles, labels, strict=True):
        line = handle.lines[0] if hasattr(handle, "lines") else handle
        out[label] = (np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float))
    return out


def test_training_curves_in_percent_with_display_names(
    sweeps: SyntheticSweeps, main_sweep: load.Sweep
) -> None:
    fig = plots.training_curves(main_sweep, "train/accuracy", "step")
    tiny, tiny_m = fig.axes
    assert [tiny.get_title(), tiny_m.get_title()] == ["Tiny Qwen3 (toy)", "Tiny-M Qwen3 (toy)"]
    assert tiny.get_ylabel() == "training accuracy (%)"
    assert tiny.get_xlabel() == "step"
    lines = _lines(tiny)
    assert sorted(lines) == ["GRPO", "GSPO", "S-trace"]
    assert sorted(_lines(tiny_m)) == ["GRPO"]
    x, y = lines["S-trace"]
    specs = finished(sweeps.main_specs, model="tiny", method="strace")
    want = statistics.mean(100 * s.reward(STEPS) / 2 for s in specs)  # train/accuracy = reward / 2
    assert (x[-1], y[-1]) == (STEPS, pytest.approx(want))


def test_pass_at_k_curve_in_percent(sweeps: SyntheticSweeps, main_sweep: load.Sweep) -> None:
    fig = plots.pass_at_k_curve(main_sweep, ks=[1, 4, 16])
    ax = fig.axes[0]
    assert ax.get_ylabel() == "Avg. pass@k (%)"
    assert ax.get_xscale() == "log"
    x, y = _lines(ax)["GRPO"]
    specs = finished(sweeps.main_specs, model="tiny", method="grpo")
    assert x.tolist() == [1, 4, 16]
    assert y.tolist() == pytest.approx(
        [statistics.mean(100 * run_scores(s, k)["avg"] for s in specs) for k in (1, 4, 16)]
    )


def test_ablation_curve_per_variant(sweeps: SyntheticSweeps, ablation_sweep: load.Sweep) -> None:
    fig = plots.ablation_curve(ablation_sweep, "lam", k=16)
    (ax,) = fig.axes
    assert ax.get_xlabel() == "λ"
    assert ax.get_ylabel() == "Avg. pass@16 (%)"
    lines = _lines(ax)
    # S-trace ran at λ=0.99 only: no line (a point is no ablation of λ)
    assert sorted(lines) == ["GRPO-λ (trace placement=ε-trace)", "GRPO-λ (trace placement=ε-weight)"]
    x, y = lines["GRPO-λ (trace placement=ε-trace)"]
    assert x.tolist() == [0.9, 0.99]
    assert y.tolist() == pytest.approx(
        [
            statistics.mean(
                100 * run_scores(s, 16)["avg"]
                for s in finished(sweeps.ablation_specs, placement="ratio", lam=lam)
            )
            for lam in (0.9, 0.99)
        ]
    )
    assert lines["GRPO-λ (trace placement=ε-weight)"][0].tolist() == [0.99]  # λ=0.9 × weight only failed


def test_categorical_axis_gets_one_tick_per_value(ablation_sweep: load.Sweep) -> None:
    (ax,) = plots.ablation_curve(ablation_sweep, "method.placement").axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["ε-trace", "ε-weight"]
    assert sorted(_lines(ax)) == ["GRPO-λ (λ=0.9)", "GRPO-λ (λ=0.99)"]


def test_no_ablation_plot_for_an_axis_the_sweep_does_not_vary(main_sweep: load.Sweep) -> None:
    with pytest.raises(variants.NotAnAxis, match=r"do not vary method\.lam"):
        plots.ablation_curve(main_sweep, "lam")


def _legend_outside(ax: Axes) -> bool:
    """Whether the axes' legend lies wholly to the right of its plotting area (after a draw)."""
    fig = ax.get_figure()
    assert fig is not None
    fig.canvas.draw()
    legend = ax.get_legend()
    assert legend is not None
    return bool(legend.get_window_extent().x0 >= ax.get_window_extent().x1)


def test_legend_goes_outside_the_axes_when_there_are_many_lines(tmp_path: Path) -> None:
    lams = (0.0, 0.5, 0.9, 0.95, 0.99)
    specs = [
        evaluated(RunSpec(f"l{lam}", "grpo_lambda", "tiny", 0, lam=lam, reward_offset=lam / 10))
        for lam in lams
    ]
    for spec in specs:
        write_run(tmp_path / spec.job, spec)
    many = load.load_sweeps(tmp_path)
    (ax,) = plots.training_curves(many, "train/reward_mean").axes
    assert len(_lines(ax)) == len(lams) > plots.LEGEND_INSIDE
    assert _legend_outside(ax)
    assert ax.get_figure().get_size_inches()[0] > 4.5  # widened for the legend, the plot kept its width
    # the lines are still each variant's values: λ=0.5 at step 10 is 0.05 * 10 + 0.05
    x, y = _lines(ax)["GRPO-λ (λ=0.5)"]
    assert (x[-1], y[-1]) == (STEPS, pytest.approx(0.55))


def test_few_lines_keep_the_legend_inside(main_sweep: load.Sweep) -> None:
    tiny = plots.training_curves(main_sweep, "train/reward_mean").axes[0]
    assert len(_lines(tiny)) == 3
    assert not _legend_outside(tiny)
