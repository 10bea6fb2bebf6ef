"""The papers' tables as :class:`Table` objects (numbers, best marks, footnotes).

Every cell is a mean ± sample std (ddof=1) over the seeds of the *finished* runs
sharing a row's config. The expected grid is every model crossed with every
config seen for any model (including runs that failed; for ablations, every
model the method ran on), so a config that never finished on some model shows
"—" with a footnote naming its failed or unfinished runs, or "no run". Cells
that did average something but left runs out say so in a footnote too.

``python -m analysis.tables <sweep_dir...> --out <dir>`` writes them all (see
:mod:`analysis.export`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from numbers import Number

import numpy as np
import pandas as pd

from analysis import efficiency, load
from analysis.load import FINISHED, Sweep

MISSING = "—"
FACTOR_NAMES = {"lam": "λ", "quantile": "entropy quantile", "placement": "trace placement"}
METHOD_ORDER = ["grpo", "grpo_lambda", "gspo", "ptrace", "strace"]
Cell = tuple[tuple, object]


@dataclass
class Table:
    """A table's numbers plus what its renderings need (see :mod:`analysis.export`)."""

    name: str
    title: str
    mean: pd.DataFrame
    std: pd.DataFrame
    count: pd.DataFrame
    best: pd.DataFrame
    expected: pd.DataFrame
    notes: dict[Cell, str] = field(default_factory=dict)
    scale: float = 1.0
    digits: int | dict = 3

    def _digits(self, col: object) -> int:
        return self.digits.get(col, 3) if isinstance(self.digits, dict) else self.digits

    def footnotes(self) -> tuple[dict[Cell, int], list[str]]:
        """Footnote number per annotated cell (row-major), and the footnote texts."""
        numbers: dict[str, int] = {}
        marks: dict[Cell, int] = {}
        for row in self.mean.index:
            for col in self.mean.columns:
                text = self.notes.get((row, col))
                if text is not None:
                    marks[(row, col)] = numbers.setdefault(text, len(numbers) + 1)
        return marks, list(numbers)

    def text(self, row: tuple, col: object) -> str:
        """The cell as plain text: "mean ± std", "mean" for one seed, "—" if missing."""
        if not self.expected.at[row, col]:
            return ""
        mean, std = self.mean.at[row, col], self.std.at[row, col]
        if pd.isna(mean):
            return MISSING
        d = self._digits(col)
        out = f"{mean * self.scale:.{d}f}"
        return out if pd.isna(std) else f"{out} ± {std * self.scale:.{d}f}"

    def frame(self) -> pd.DataFrame:
        """Display strings, footnote numbers appended as "[n]" (no bold)."""
        marks, _ = self.footnotes()
        out = pd.DataFrame(index=self.mean.index, columns=self.mean.columns, dtype=object)
        for row in out.index:
            for col in out.columns:
                mark = f" [{marks[(row, col)]}]" if (row, col) in marks else ""
                out.at[row, col] = self.text(row, col) + mark
        return out

    def _repr_markdown_(self) -> str:
        from analysis.export import to_markdown

        return to_markdown(self)


def _sort_key(row: tuple) -> tuple:
    key = []
    for value in row:
        if isinstance(value, Number) and not isinstance(value, bool):
            key.append((0, float(value), ""))
        elif value in METHOD_ORDER:
            key.append((1, METHOD_ORDER.index(value), ""))
        else:
            key.append((2, 0, str(value)))
    return tuple(key)


def _row_tuples(runs: pd.DataFrame, rows: list[str]) -> list[tuple]:
    frame = runs[rows].astype(object).where(runs[rows].notna(), "")
    return list(frame.itertuples(index=False, name=None))


def _describe(runs: list[dict]) -> str:
    return ", ".join(f"{r['name']} ({r['status']}; {r['run']})" for r in runs)


def _expected_cells(runs: pd.DataFrame, column: str | None, per_method: bool) -> set[Cell]:
    """(row, column value) pairs of the grid: each config seen crossed with every model
    (``per_method``: every model its method was run on)."""
    models: dict[object, set] = {}
    for row in runs["_row"]:  # (model, method, ...), missing values already ""
        models.setdefault(row[1] if per_method else None, set()).add(row[0])
    col_values = runs[column] if column else [None] * len(runs)
    seen = {(row[1:], col) for row, col in zip(runs["_row"], col_values)}
    return {((m, *other), col) for other, col in seen for m in models[other[0] if per_method else None]}


def build_table(
    values: pd.DataFrame,
    runs: pd.DataFrame,
    rows: list[str],
    column: str,
    *,
    name: str,
    title: str,
    columns: Sequence | None = None,
    best: str = "column",
    higher: bool | dict = True,
    scale: float = 1.0,
    digits: int | dict = 3,
    per_method: bool = False,
) -> Table:
    """Aggregate per-run ``values`` (run, ``column``, value) into a :class:`Table`.

    If ``column`` is a config column of ``runs`` (an ablation factor), each run
    belongs to one column; otherwise a run contributes to every column.
    ``rows[0]`` must be ``"model"``; ``best`` marks the best mean per column
    within each model ("column") or per row ("row"); ``higher`` says, per
    column or overall, whether larger is better. The expected grid crosses every
    config with every model, or with the models its method ran on (``per_method``,
    used by ablations that only ran on some models).
    """
    runs = runs.assign(_row=_row_tuples(runs, rows))
    per_run_col = column in runs.columns
    done = runs[runs["status"] == FINISHED]
    vals = values.merge(done[["run", "_row"]], on="run").dropna(subset=["value"])
    if columns is None:
        columns = sorted((runs if per_run_col else vals)[column].dropna().unique(), key=lambda v: _sort_key((v,)))
    columns = list(columns)
    agg = vals.groupby(["_row", column])["value"].agg(["mean", "std", "count"])

    cells = _expected_cells(runs, column if per_run_col else None, per_method)
    index = sorted({row for row, _ in cells}, key=_sort_key)
    cells = cells if per_run_col else None
    index = pd.MultiIndex.from_tuples(index, names=rows) if index else pd.MultiIndex.from_tuples([], names=rows)

    def grid(stat: str) -> pd.DataFrame:
        out = pd.DataFrame(np.nan, index=index, columns=pd.Index(columns, name=column))
        for (row, col), value in agg[stat].items():
            if row in out.index and col in out.columns:
                out.at[row, col] = value
        return out

    mean, std, count = grid("mean"), grid("std"), grid("count").fillna(0).astype(int)
    expected = pd.DataFrame(
        [[cells is None or (row, col) in cells for col in columns] for row in index],
        index=index, columns=mean.columns, dtype=bool,
    )
    notes = _notes(runs, vals, mean, expected, column, per_run_col)
    marks = _best(mean, best, higher)
    return Table(name, title, mean, std, count, marks, expected, notes, scale, digits)


def _notes(runs, vals, mean, expected, column, per_run_col) -> dict[Cell, str]:
    """Footnote text per expected cell that is empty or left runs out."""
    by_row: dict[tuple, list[dict]] = {}
    for run in runs[["run", "name", "status", "_row", *([column] if per_run_col else [])]].to_dict("records"):
        by_row.setdefault(run["_row"], []).append(run)
    have = set(zip(vals["run"], vals[column]))
    notes: dict[Cell, str] = {}
    for row in mean.index:
        for col in mean.columns:
            if not expected.at[row, col]:
                continue
            cell = [r for r in by_row.get(row, []) if not per_run_col or r[column] == col]
            bad = [r for r in cell if r["status"] != FINISHED]
            novalue = [r for r in cell if r["status"] == FINISHED and (r["run"], col) not in have]
            parts = [f"not finished: {_describe(bad)}"] if bad else []
            parts += [f"no {col} value: {_describe(novalue)}"] if novalue else []
            label = " / ".join(str(v) for v in row if v != "") + (f", {column}={col}" if per_run_col else "")
            if pd.isna(mean.at[row, col]):
                notes[(row, col)] = f"{label}: " + ("; ".join(parts) if parts else "no run")
            elif parts:
                notes[(row, col)] = f"{label}: excludes " + "; ".join(parts)
    return notes


def _best(mean: pd.DataFrame, best: str, higher: bool | dict) -> pd.DataFrame:
    marks = pd.DataFrame(False, index=mean.index, columns=mean.columns)
    if not len(mean):
        return marks
    if best == "row":
        target = mean.max(axis=1) if higher else mean.min(axis=1)
        return mean.eq(target, axis=0) & mean.notna()
    for col in mean.columns:
        up = higher.get(col, True) if isinstance(higher, dict) else higher
        by_model = mean[col].groupby(level=0)
        target = by_model.transform("max" if up else "min")
        marks[col] = mean[col].eq(target) & mean[col].notna()
    return marks


def _final_scores(sweep: Sweep, k: int, step: int | None) -> pd.DataFrame:
    scores = load.scores(sweep, [k], last_only=step is None)
    scores = scores if step is None else scores[scores["step"] == step]
    return scores.rename(columns={f"pass@{k}": "value"})[["run", "benchmark", "value"]]


def main_table(sweep: Sweep, k: int = 16, step: int | None = None) -> Table:
    """Methods × benchmarks pass@k (default 16) and their average, per model.

    Uses each run's last evaluated step unless ``step`` is given.
    """
    values = _final_scores(sweep, k, step)
    benches = sorted(b for b in values["benchmark"].unique() if b != "avg")
    return build_table(
        values, sweep.runs, load.varying(sweep.runs), "benchmark",
        name="main", title=f"pass@{k} (%) per benchmark and average",
        columns=[*benches, "avg"] if benches else [], scale=100.0, digits=1,
    )


def ablation_table(
    sweep: Sweep, factor: str, *, k: int = 16, benchmark: str = "avg", step: int | None = None,
    groups: Iterable[str] | None = None, name: str | None = None, title: str | None = None,
) -> Table:
    """Average pass@k with ``factor`` (lam, quantile, placement, ...) as the columns.

    Only runs where ``factor`` applies (non-null) are used; ``groups`` restricts
    to run.json groups. The best value of each row is marked.
    """
    runs = sweep.runs[sweep.runs[factor].notna()]
    if groups is not None:
        runs = runs[runs["group"].isin(list(groups))]
    scores = _final_scores(sweep, k, step)
    values = scores[scores["benchmark"] == benchmark].drop(columns="benchmark")
    values = values.merge(runs[["run", factor]], on="run")
    return build_table(
        values, runs, load.varying(runs, exclude=[factor]), factor,
        name=name or f"{factor}_ablation",
        title=title or f"{benchmark} pass@{k} (%) by {FACTOR_NAMES.get(factor, factor)}",
        best="row", scale=100.0, digits=1, per_method=True,
    )


def lambda_table(sweep: Sweep, **kw) -> Table:
    """λ ablation (methods that have a λ)."""
    return ablation_table(sweep, "lam", name="lambda_ablation", **kw)


def quantile_table(sweep: Sweep, **kw) -> Table:
    """Entropy-quantile ablation (S-trace)."""
    return ablation_table(sweep, "quantile", name="quantile_ablation", **kw)


def placement_table(sweep: Sweep, **kw) -> Table:
    """Trace placement ablation (ratio vs weight, GRPO-λ)."""
    return ablation_table(sweep, "placement", name="placement_ablation", **kw)


def efficiency_table(sweep: Sweep, target: float | dict | None = None,
                     metric: str = "train/reward_mean", smooth: int = 1) -> Table:
    """Sample and token efficiency and the area under the training curve (see :mod:`analysis.efficiency`)."""
    per_run = efficiency.per_run(sweep, target=target, metric=metric, smooth=smooth)
    cols = list(efficiency.COLUMNS)
    values = per_run.melt(id_vars="run", value_vars=cols, var_name="metric", value_name="value")
    targets = per_run.merge(sweep.runs[["run", "model"]], on="run").groupby("model")["target"].first()
    shown = ", ".join(f"{m}: {t:.3g}" for m, t in targets.items())
    return build_table(
        values, sweep.runs, load.varying(sweep.runs), "metric",
        name="efficiency", title=f"efficiency (target {metric} ≥ {shown})" if shown else "efficiency",
        columns=cols, higher=efficiency.HIGHER, digits=efficiency.DIGITS,
    )


def status_table(sweep: Sweep) -> pd.DataFrame:
    """Every run that is not finished (failed, running/killed, unknown), with its error."""
    cols = ["name", "status", "error", "steps", "run", *load.varying(sweep.runs), "seed"]
    return sweep.incomplete[cols].reset_index(drop=True)


def all_tables(sweep: Sweep, k: int = 16, target: float | dict | None = None) -> list[Table]:
    """Every table the papers report that this sweep has data for (at each run's last evaluation)."""
    sweep = load.last_eval(sweep)
    tables = [main_table(sweep, k=k), efficiency_table(sweep, target=target)]
    for make, col in ((lambda_table, "lam"), (quantile_table, "quantile"), (placement_table, "placement")):
        if sweep.runs[col].notna().any():
            tables.append(make(sweep, k=k))
    return tables


if __name__ == "__main__":
    from analysis.export import main

    raise SystemExit(main())
