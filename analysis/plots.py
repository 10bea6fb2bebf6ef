"""Matplotlib figures: training curves, pass@k vs k, ablation curves.

Figures are built with :class:`matplotlib.figure.Figure` (no pyplot state), so
they render inline in notebooks and save headless (Agg) from the CLI. Each has
one panel per model and one line per variant (method plus whichever config
varies); lines are the mean over seeds of finished runs, bands ± one std.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis import load
from analysis.load import Sweep

GRID_POINTS = 200


def _panels(models: Sequence[str], ylabel: str) -> tuple[Figure, list[Axes]]:
    fig = Figure(figsize=(4.5 * max(len(models), 1), 3.5), layout="constrained")
    axes = fig.subplots(1, max(len(models), 1), squeeze=False)[0]
    for ax, model in zip(axes, models):
        ax.set_title(str(model))
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    return fig, list(axes)


def _band(ax: Axes, x: np.ndarray, ys: np.ndarray, label: str) -> None:
    mean = np.nanmean(ys, axis=0)
    (line,) = ax.plot(x, mean, label=label)
    if len(ys) > 1:
        std = np.nanstd(ys, axis=0, ddof=1)
        ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.2, linewidth=0)


def _finished(sweep: Sweep) -> pd.DataFrame:
    runs = sweep.finished
    return runs.assign(label=load.labels(runs).to_numpy() if len(runs) else [])


def training_curves(sweep: Sweep, metric: str = "train/reward_mean", x: str = "step") -> Figure:
    """``metric`` vs ``x`` (``step`` or ``train/tokens``); seeds interpolated onto their common x-range."""
    runs = _finished(sweep)
    data = sweep.steps.dropna(subset=[metric, x]).sort_values(["run", x])
    by_run = dict(tuple(data.groupby("run")))
    models = sorted(runs["model"].dropna().unique())
    fig, axes = _panels(models, metric)
    for ax, model in zip(axes, models):
        for label, group in runs[runs["model"] == model].groupby("label"):
            series = [by_run[r] for r in group["run"] if r in by_run]
            if not series:
                continue
            lo, hi = max(s[x].min() for s in series), min(s[x].max() for s in series)
            grid = np.linspace(lo, hi, GRID_POINTS) if hi > lo else np.array([lo])
            ys = np.array([np.interp(grid, s[x].to_numpy(float), s[metric].to_numpy(float)) for s in series])
            _band(ax, grid, ys, label)
        ax.set_xlabel("generated tokens" if x == "train/tokens" else x)
        ax.legend(fontsize="small")
    return fig


def _final_avg(sweep: Sweep, ks: Iterable[int]) -> pd.DataFrame:
    scores = load.scores(sweep, ks, last_only=True)
    return scores[scores["benchmark"] == "avg"]


def default_ks(sweep: Sweep) -> list[int]:
    """Powers of two up to the largest sample count n in the records."""
    n = int(sweep.problems["n"].max()) if len(sweep.problems) else 16
    return [2**i for i in range(int(np.log2(max(n, 1))) + 1)]


def pass_at_k_curve(sweep: Sweep, ks: Sequence[int] | None = None) -> Figure:
    """Average pass@k vs k at each run's last evaluated step."""
    ks = list(ks or default_ks(sweep))
    runs = _finished(sweep)
    scores = _final_avg(sweep, ks).set_index("run")
    models = sorted(runs["model"].dropna().unique())
    fig, axes = _panels(models, "avg pass@k")
    for ax, model in zip(axes, models):
        for label, group in runs[runs["model"] == model].groupby("label"):
            rows = scores.reindex(group["run"]).dropna(how="all")
            if len(rows):
                _band(ax, np.array(ks), rows[[f"pass@{k}" for k in ks]].to_numpy(float), label)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("k")
        ax.legend(fontsize="small")
    return fig


def ablation_curve(sweep: Sweep, factor: str, k: int = 16) -> Figure:
    """Average pass@k at the last step vs a numeric config ``factor`` (lam, quantile)."""
    runs = sweep.finished[sweep.finished[factor].notna()]
    runs = runs.assign(label=load.labels(runs, exclude=("model", factor)).to_numpy() if len(runs) else [])
    scores = _final_avg(sweep, [k]).set_index("run")[f"pass@{k}"]
    runs = runs.assign(value=runs["run"].map(scores)).dropna(subset=["value"])
    models = sorted(runs["model"].dropna().unique())
    fig, axes = _panels(models, f"avg pass@{k}")
    for ax, model in zip(axes, models):
        for label, group in runs[runs["model"] == model].groupby("label"):
            stats = group.groupby(factor)["value"].agg(["mean", "std"]).sort_index()
            ax.errorbar(stats.index, stats["mean"], yerr=stats["std"].fillna(0), marker="o", capsize=3, label=label)
        ax.set_xlabel(factor)
        ax.legend(fontsize="small")
    return fig


def save(fig: Figure, stem: str | Path) -> list[Path]:
    """Write ``stem``.png and ``stem``.pdf."""
    paths = [Path(f"{stem}.png"), Path(f"{stem}.pdf")]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=150)
    return paths
