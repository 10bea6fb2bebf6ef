"""A table's grid: per-run values aggregated into cells of the variants × columns, with notes.

Every cell holds the seeds of the *finished* runs of one variant: runs whose flattened
configs agree on every key but the seed and bookkeeping (:mod:`analysis.variants`), so
configs that differ are never pooled. A row is labelled by model, method and the keys
that vary beyond them.

The grid is every model crossed with every variant seen for any model (including runs
that failed; for ablations, every model the method ran on) and every column, so a
variant that never finished on some model, or an ablation value it was not run at,
shows "—" with a footnote naming its failed or unfinished runs, or "no run". Cells that
did average something but left runs out say so in a footnote too.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real

import numpy as np
import pandas as pd

from analysis import names, variants
from analysis.load import FINISHED
from analysis.table import Cell, Table
from analysis.variants import HEAD, MISSING, SEED

METHOD_ORDER = ["grpo", "grpo_lambda", "gspo", "ptrace", "strace"]


def sort_key(row: tuple) -> tuple:
    """Numbers in order, then methods in :data:`METHOD_ORDER`, then text, then missing."""
    key = []
    for value in row:
        if isinstance(value, Real) and not isinstance(value, bool):
            key.append((0, float(value), ""))
        elif value in METHOD_ORDER:
            key.append((1, METHOD_ORDER.index(value), ""))
        elif value == MISSING:
            key.append((3, 0, ""))
        else:
            key.append((2, 0, str(value)))
    return tuple(key)


def _describe(runs: list[dict]) -> str:
    return ", ".join(f"{r['name']} ({r['status']}; {r['run']})" for r in runs)


def configured(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs whose config was read (a run without one has no row to go to)."""
    return runs[runs[list(HEAD)].notna().any(axis=1)]


def _grid_rows(runs: pd.DataFrame, per_method: bool) -> set[tuple]:
    """The rows of the grid: each variant seen crossed with every model (``per_method``: every
    model its method was run on)."""
    models: dict[object, set] = {}
    for row in runs["_row"]:  # (model, method, ...)
        models.setdefault(row[1] if per_method else None, set()).add(row[0])
    seen = {row[1:] for row in runs["_row"]}
    return {(m, *other) for other in seen for m in models[other[0] if per_method else None]}


def seeds_of(runs: pd.DataFrame) -> list[object]:
    """Each run's seed (:data:`~analysis.variants.MISSING` where the config has none)."""
    if SEED not in runs.columns:
        return [MISSING] * len(runs)
    return [s for (s,) in variants.row_tuples(runs, [SEED])]


def cell_values(values: pd.DataFrame, runs: pd.DataFrame, rows: list[str]) -> pd.DataFrame:
    """``values`` (run, column, value) of the finished ``runs``, with each run's row and seed."""
    done = runs[runs["status"] == FINISHED]
    keyed = pd.DataFrame(
        {"run": done["run"], "_row": variants.row_tuples(done, rows), "seed": seeds_of(done)}
    )
    return values.merge(keyed, on="run").dropna(subset=["value"])


def build_table(
    values: pd.DataFrame,
    runs: pd.DataFrame,
    rows: list[str],
    column: str,
    *,
    name: str,
    title: str,
    columns: Sequence | None = None,
    scale: float = 1.0,
    digits: int | dict = 3,
    per_method: bool = False,
    column_kind: str = "benchmark",
    unit: str = "",
) -> Table:
    """Aggregate per-run ``values`` (run, ``column``, value) into a :class:`Table`.

    If ``column`` is a config column of ``runs`` (an ablation axis), each run
    belongs to one column; otherwise a run contributes to every column.
    ``rows`` starts with model and method. The grid crosses every variant with
    every model, or with the models its method ran on (``per_method``, for
    ablations), and with every column. Nothing is bold here: only a paired Δ
    whose CI excludes 0 is (:mod:`analysis.compare`).
    """
    runs = runs.assign(_row=variants.row_tuples(runs, rows))
    per_run_col = column in runs.columns
    vals = cell_values(values, runs, rows)
    if columns is None:
        found = (runs if per_run_col else vals)[column].dropna().unique()
        columns = sorted(found, key=lambda v: sort_key((v,)))
    index = pd.MultiIndex.from_tuples(sorted(_grid_rows(runs, per_method), key=sort_key), names=rows)
    mean, std, count = _grid(vals, column, index, pd.Index(list(columns), name=column))
    expected = pd.DataFrame(True, index=index, columns=mean.columns, dtype=bool)
    table = Table(
        name,
        title,
        mean,
        std,
        count,
        mean.notna() & False,
        expected,
        scale=scale,
        digits=digits,
        column_kind=column_kind,
        unit=unit,
    )
    table.notes = _notes(runs, vals, table, column, per_run_col)
    table.cells = vals.rename(columns={column: "_col"})[["run", "_row", "_col", "seed", "value"]]
    return table


def _grid(
    vals: pd.DataFrame, column: str, index: pd.MultiIndex, columns: pd.Index
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Mean, std and count of ``vals["value"]`` per (row, column), on ``index`` × ``columns``."""
    agg = vals.groupby(["_row", column])["value"].agg(["mean", "std", "count"])
    out = []
    for stat in ("mean", "std", "count"):
        frame = pd.DataFrame(np.nan, index=index, columns=columns)
        for (row, col), value in agg[stat].items():
            if row in frame.index and col in frame.columns:
                frame.at[row, col] = value
        out.append(frame)
    return out[0], out[1], out[2].fillna(0).astype(int)


def label(row: tuple, keys: list[str]) -> str:
    """``tiny / GRPO-λ (λ=0.9, trace placement=ε-weight)``."""
    values = dict(zip(keys, row, strict=True))
    return f"{names.model(values.pop(variants.MODEL))} / {names.label(values)}"


def _notes(
    runs: pd.DataFrame, vals: pd.DataFrame, table: Table, column: str, per_run_col: bool
) -> dict[Cell, str]:
    """Footnote text per expected cell that is empty or left runs out."""
    by_row: dict[tuple, list[dict]] = {}
    cols = ["run", "name", "status", "_row", *([column] if per_run_col else [])]
    for run in runs[cols].to_dict("records"):
        by_row.setdefault(run["_row"], []).append(run)
    have = set(zip(vals["run"], vals[column], strict=True))
    keys = list(table.mean.index.names)
    notes: dict[Cell, str] = {}
    for row in table.mean.index:
        for col in table.mean.columns:
            if not table.expected.at[row, col]:
                continue
            cell = [r for r in by_row.get(row, []) if not per_run_col or r[column] == col]
            bad = [r for r in cell if r["status"] != FINISHED]
            novalue = [r for r in cell if r["status"] == FINISHED and (r["run"], col) not in have]
            parts = [f"not finished: {_describe(bad)}"] if bad else []
            parts += [f"no {table.column_label(col)} value: {_describe(novalue)}"] if novalue else []
            text = label(row, keys)
            text += f", {names.key(column)}={names.value(column, col)}" if per_run_col else ""
            if pd.isna(table.mean.at[row, col]):
                notes[(row, col)] = f"{text}: " + ("; ".join(parts) if parts else "no run")
            elif parts:
                notes[(row, col)] = f"{text}: excludes " + "; ".join(parts)
    return notes
