"""Matplotlib figures: training curves, pass@k vs k, ablation curves (a Sweep in, a Figure out).

Figures are built with :class:`matplotlib.figure.Figure` (no pyplot state), so
they render inline in notebooks and save headless (Agg) from the CLI. Each has
one panel per model and one line per variant (method plus the config keys that
vary, :mod:`analysis.variants`); lines are the mean over seeds of finished runs,
bands and error bars its 95% confidence interval across seeds (Student t, n − 1 degrees
of freedom: :func:`seed_ci`; none with one seed). pass@k and accuracies are in %, as in
the tables; names are display names (:mod:`analysis.names`). A panel with more
than :data:`LEGEND_INSIDE` lines has its legend outside, to the right of it, so
it hides no line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from numbers import Real
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy import stats

from analysis import names, scores, variants
from analysis.load import FINISHED, Sweep
from analysis.variants import MODEL
from harness import contract

GRID_POINTS = 200
#: The most lines whose legend goes inside the axes; with more it goes to the right of them.
LEGEND_INSIDE = 4


def _panels(models: Sequence[str], ylabel: str) -> tuple[Figure, list[Axes]]:
    fig = Figure(figsize=(4.5 * max(len(models), 1), 3.5), layout="constrained")
    axes = list(fig.subplots(1, max(len(models), 1), squeeze=False)[0])
    for ax, model in zip(axes, models, strict=False):
        ax.set_title(names.model(model))
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    return fig, axes


def seed_ci(ys: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over seeds (rows) and its ``level`` CI per column: ``mean ± t·s/√n``, ``t`` the
    Student quantile with n − 1 degrees of freedom (NaN bounds where a column has one seed)."""
    ys = np.asarray(ys, dtype=float)
    n = np.sum(~np.isnan(ys), axis=0)
    mean = np.nanmean(ys, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        sem = np.nanstd(ys, axis=0, ddof=1) / np.sqrt(n) if len(ys) > 1 else np.full_like(mean, np.nan)
        half = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * np.where(n > 1, sem, np.nan)
    return mean, mean - half, mean + half


def _band(ax: Axes, x: np.ndarray, ys: np.ndarray, label: str) -> None:
    mean, low, high = seed_ci(ys)
    (line,) = ax.plot(x, mean, label=label)
    if len(ys) > 1:
        ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2, linewidth=0)


def _labelled(sweep: Sweep, runs: pd.DataFrame, exclude: Iterable[str] = ()) -> pd.DataFrame:
    """Finished ``runs`` with a ``label`` column naming each variant (without its model)."""
    runs = runs[(runs["status"] == FINISHED) & runs[MODEL].notna()]
    keys = variants.label_keys(runs, variants.identity_keys(sweep.config_keys), [MODEL, *exclude])
    labels = [names.label(dict(zip(keys, row, strict=True))) for row in variants.row_tuples(runs, keys)]
    return runs.assign(label=labels)


def _models(runs: pd.DataFrame) -> list[str]:
    return sorted(runs[MODEL].dropna().unique())


def _legend(ax: Axes) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if len(handles) > LEGEND_INSIDE:
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
        fig = ax.get_figure()
        if isinstance(fig, Figure):  # widen the figure by about the legend's width, axes kept
            width, height = fig.get_size_inches()
            fig.set_size_inches(width + 0.8 + 0.07 * max(map(len, labels)), height)
    elif handles:
        ax.legend(fontsize="small")


def _avg_label(sweep: Sweep) -> str:
    """What the "avg" benchmark is here: "Avg.", or the one benchmark's name."""
    benches = set(sweep.problems["benchmark"].dropna().unique()) if len(sweep.problems) else set()
    if not benches:
        benches = {
            c.split("/")[1] for c in sweep.evals.columns if c.startswith("eval/") and c.count("/") == 2
        }
    benches.discard(scores.AVG)
    return names.benchmark(benches.pop() if len(benches) == 1 else scores.AVG)


def training_curves(sweep: Sweep, metric: str = "train/reward_mean", x: str = "step") -> Figure:
    """``metric`` vs ``x`` (``step`` or ``train/tokens``), seeds interpolated onto their common
    x-range."""
    runs = _labelled(sweep, sweep.runs)
    have = {metric, x} <= set(sweep.steps.columns)
    data = sweep.steps.dropna(subset=[metric, x]).sort_values(["run", x]) if have else sweep.steps.iloc[:0]
    by_run = dict(tuple(data.groupby("run")))
    scale = 100.0 if names.is_percent(metric) else 1.0
    models = _models(runs)
    fig, axes = _panels(models, names.metric(metric))
    for ax, model in zip(axes, models, strict=False):
        for label, group in runs[runs[MODEL] == model].groupby("label"):
            series = [by_run[r] for r in group["run"] if r in by_run]
            if not series:
                continue
            lo, hi = max(s[x].min() for s in series), min(s[x].max() for s in series)
            grid = np.linspace(lo, hi, GRID_POINTS) if hi > lo else np.array([lo])
            ys = np.array([np.interp(grid, s[x].to_numpy(float), s[metric].to_numpy(float)) for s in series])
            _band(ax, grid, ys * scale, str(label))
        ax.set_xlabel(names.metric(x))
        _legend(ax)
    return fig


def _final_avg(sweep: Sweep, ks: Iterable[int]) -> pd.DataFrame:
    found = scores.scores(sweep, ks, last_only=True)
    return found[found["benchmark"] == scores.AVG]


def default_ks(sweep: Sweep) -> list[int]:
    """Powers of two up to the largest sample count n in the records."""
    n = int(sweep.problems["n"].max()) if len(sweep.problems) else 16
    return [2**i for i in range(int(np.log2(max(n, 1))) + 1)]


def pass_at_k_curve(sweep: Sweep, ks: Sequence[int] | None = None) -> Figure:
    """Average pass@k (%) vs k at each run's last evaluated step."""
    ks = list(ks or default_ks(sweep))
    runs = _labelled(sweep, sweep.runs)
    found = _final_avg(sweep, ks).set_index("run")
    models = _models(runs)
    fig, axes = _panels(models, f"{_avg_label(sweep)} pass@k (%)")
    for ax, model in zip(axes, models, strict=False):
        for label, group in runs[runs[MODEL] == model].groupby("label"):
            rows = found.reindex(group["run"]).dropna(how="all")
            if len(rows):
                _band(
                    ax,
                    np.array(ks),
                    rows[[f"pass@{k}" for k in ks]].to_numpy(float) * 100.0,
                    str(label),
                )
        ax.set_xscale("log", base=2)
        ax.set_xlabel("k")
        _legend(ax)
    return fig


def _positions(values: pd.Series) -> tuple[dict[object, float], bool]:
    """x position per axis value: the value itself when numeric, else its rank."""
    distinct = sorted(values.unique(), key=str)
    if all(isinstance(v, Real) and not isinstance(v, bool) for v in distinct):
        return {v: float(v) for v in distinct}, True
    return {v: float(i) for i, v in enumerate(distinct)}, False


def ablation_curve(sweep: Sweep, factor: str, k: int = 16) -> Figure:
    """Average pass@k (%) at the last step vs a config key the sweep varies (any short name
    :func:`analysis.variants.resolve` accepts), one line per variant run at two or more of
    its values (:func:`analysis.variants.ablation_runs`); a non-numeric key gets one tick per
    value."""
    key = variants.resolve(factor, sweep.config_keys)
    runs = variants.ablation_runs(sweep.runs[sweep.runs[MODEL].notna()], key, sweep.config_keys)
    runs = _labelled(sweep, runs, exclude=[key])
    found = _final_avg(sweep, [k]).set_index("run")[f"pass@{k}"] * 100.0
    runs = runs.assign(value=runs["run"].map(found)).dropna(subset=["value"])
    where, numeric = _positions(runs[key])
    models = _models(runs)
    fig, axes = _panels(models, f"{_avg_label(sweep)} pass@{k} (%)")
    for ax, model in zip(axes, models, strict=False):
        for label, group in runs[runs[MODEL] == model].groupby("label"):
            at = group.groupby(group[key].map(where))["value"].agg(list).sort_index()
            bounds = [seed_ci(np.array(v)[:, None]) for v in at]
            mean = np.array([b[0][0] for b in bounds])
            err = np.nan_to_num(
                np.array([[m - b[1][0], b[2][0] - m] for m, b in zip(mean, bounds, strict=True)]).T
            )
            ax.errorbar(
                at.index,
                mean,
                yerr=err,
                marker="o",
                capsize=3,
                label=str(label),
            )
        if not numeric:
            ax.set_xticks(list(where.values()), [names.value(key, v) for v in where])
        ax.set_xlabel(names.key(key))
        _legend(ax)
    return fig


#: The Four Quadrant shares (harness.methods.quadrants), in stacking order, with their colours.
QUADRANTS = {
    f"{contract.QUADRANT}pos_high": "#1b7837",
    f"{contract.QUADRANT}pos_low": "#a6dba0",
    f"{contract.QUADRANT}neg_high": "#762a83",
    f"{contract.QUADRANT}neg_low": "#c2a5cf",
}


def quadrant_shares(sweep: Sweep) -> Figure:
    """Where each variant puts its gradient: the Four Quadrant shares (A > 0 / A < 0 × entropy
    above / below the batch median) as one stacked bar per variant, the mean over each run's
    logged steps, then over seeds (finished runs)."""
    cols = [c for c in QUADRANTS if c in sweep.steps.columns]
    per_run = sweep.steps.groupby("run")[cols].mean() if cols else pd.DataFrame(columns=list(QUADRANTS))
    runs = sweep.runs.join(per_run.reindex(columns=list(QUADRANTS)), on="run")
    runs = _labelled(sweep, runs.dropna(subset=list(QUADRANTS), how="all"))  # labels: what varies among these
    models = _models(runs)
    fig, axes = _panels(models, "")
    longest = max((len(str(label)) for label in runs["label"]), default=0)
    for ax, model in zip(axes, models, strict=False):
        shares = runs[runs[MODEL] == model].groupby("label")[list(QUADRANTS)].mean().fillna(0.0)
        left = np.zeros(len(shares))
        for col, colour in QUADRANTS.items():
            values = shares[col].to_numpy(float) * 100.0
            ax.barh(range(len(shares)), values, left=left, color=colour, label=names.metric(col))
            left += values
        ax.set_yticks(range(len(shares)), [str(label) for label in shares.index])
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        ax.set_xlabel("share of the gradient (%)")
        ax.set_ylabel("")
        ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.25), ncols=2)
    width, height = fig.get_size_inches()  # room for the variant names and the legend below
    fig.set_size_inches(
        width + 0.07 * longest * len(axes), height + 0.3 * max(len(runs["label"].unique()), 1)
    )
    return fig


def save(fig: Figure, stem: str | Path) -> list[Path]:
    """Write ``stem``.png and ``stem``.pdf."""
    paths = [Path(f"{stem}.png"), Path(f"{stem}.pdf")]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=150)
    return paths
