"""The papers' tables as :class:`~analysis.table.Table` objects (numbers, best marks, notes).

Every cell is a mean ± sample std (ddof=1) over the seeds of the *finished* runs
of one variant: runs whose flattened configs agree on every key but the seed
and bookkeeping (:mod:`analysis.variants`), so configs that differ are never
pooled. A row is labelled by model, method and the keys that vary beyond them.

The grid is every model crossed with every variant seen for any model
(including runs that failed; for ablations, every model the method ran on) and
every column, so a variant that never finished on some model, or an ablation
value it was not run at, shows "—" with a footnote naming its failed or
unfinished runs, or "no run". Cells that did average something but left runs
out say so in a footnote too.

Bold marks the best value, compared at the shown precision within each
comparison (a row, or a column within a model) only among its cells over the
largest number of seeds n that at least two of them share: a one-seed cell is
never compared with three-seed means.

"Δ avg vs GRPO" is paired by seed: the mean over the seeds both a variant and
GRPO have of (variant − GRPO at that seed), never one seed against GRPO's
mean over others.

Ablation tables exist only for axes the runs vary within some model and method,
and have rows only for the variants run at two or more values of the axis
(:func:`analysis.variants.ablation_runs`); asking for another raises
:class:`~analysis.variants.NotAnAxis`. ``python -m analysis`` writes them all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from numbers import Real

import numpy as np
import pandas as pd

from analysis import efficiency, names, paper_numbers, scores, variants
from analysis.load import FINISHED, Sweep
from analysis.table import MISSING_CELL, Cell, Table
from analysis.variants import HEAD, MISSING, SEED

METHOD_ORDER = ["grpo", "grpo_lambda", "gspo", "ptrace", "strace"]
DELTA = "Δ avg vs GRPO"
PAPER = "paper Δ"
BASELINE = "grpo"
_TIES = "ties at the shown precision are all bold; nothing is bold where there is one value or all values tie"


def _sort_key(row: tuple) -> tuple:
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
    column_kind: str = "benchmark",
    unit: str = "",
) -> Table:
    """Aggregate per-run ``values`` (run, ``column``, value) into a :class:`Table`.

    If ``column`` is a config column of ``runs`` (an ablation axis), each run
    belongs to one column; otherwise a run contributes to every column.
    ``rows`` starts with model and method; ``best`` marks the best mean per
    column within each model ("column") or per row ("row"), compared at the
    shown precision among the cells over the same n (:func:`_best`); ``higher`` says, per column or overall, whether larger is
    better. The grid crosses every variant with every model, or with the models
    its method ran on (``per_method``, for ablations), and with every column.
    """
    runs = runs.assign(_row=variants.row_tuples(runs, rows))
    per_run_col = column in runs.columns
    done = runs[runs["status"] == FINISHED]
    vals = values.merge(done[["run", "_row"]], on="run").dropna(subset=["value"])
    if columns is None:
        found = (runs if per_run_col else vals)[column].dropna().unique()
        columns = sorted(found, key=lambda v: _sort_key((v,)))
    index = pd.MultiIndex.from_tuples(sorted(_grid_rows(runs, per_method), key=_sort_key), names=rows)
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
    table.best, varies = _best(table, best, higher)
    scope = "in each row" if best == "row" else "per column within each model"
    if not varies:
        table.best_rule = f"Bold: the best value {scope} ({_TIES})."
    else:
        table.best_rule = (
            f"Bold: the best value {scope}, compared only among the cells over the same number of "
            "seeds, the largest n that at least two of them share; a cell over another n is never "
            f"bold ({_TIES})."
        )
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


def _label(row: tuple, keys: list[str]) -> str:
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
            label = _label(row, keys)
            label += f", {names.key(column)}={names.value(column, col)}" if per_run_col else ""
            if pd.isna(table.mean.at[row, col]):
                notes[(row, col)] = f"{label}: " + ("; ".join(parts) if parts else "no run")
            elif parts:
                notes[(row, col)] = f"{label}: excludes " + "; ".join(parts)
    return notes


def _winners(shown: pd.Series, up: bool) -> pd.Series:
    """Which of ``shown`` (values as displayed) are best; none if < 2 values or all tie."""
    present = shown.dropna()
    if len(present) < 2 or present.nunique() == 1:
        return pd.Series(False, index=shown.index)
    return shown == (present.max() if up else present.min())


def _same_n(shown: pd.Series, count: pd.Series) -> pd.Series:
    """The cells of one comparison that may win: those over the largest n (seeds) that at least
    two filled cells share, so a one-seed cell is never compared with three-seed means."""
    filled = count[shown.notna()]
    shared = [n for n, times in Counter(filled.tolist()).items() if times >= 2]
    return shown.where(count == max(shared)) if shared else shown.where(count < 0)


def _best(table: Table, best: str, higher: bool | dict) -> tuple[pd.DataFrame, bool]:
    """Best marks, compared at the shown precision within each comparison (a row, or a column
    within a model) among its cells over the same n (:func:`_same_n`); and whether n varies."""
    shown = pd.DataFrame(
        {c: (table.mean[c] * table.scale).round(table.digits_of(c)) for c in table.mean.columns},
        index=table.mean.index,
    )
    filled = table.count.where(shown.notna() & (table.count > 0)).stack().dropna()
    varies = filled.nunique() > 1
    marks = pd.DataFrame(False, index=shown.index, columns=table.mean.columns)
    if not len(shown):
        return marks, varies
    if best == "row":
        for row in shown.index:
            group = _same_n(shown.loc[row], table.count.loc[row])
            marks.loc[row] = _winners(group, bool(higher)).to_numpy()
        return marks, varies
    for col in shown.columns:
        up = higher.get(col, True) if isinstance(higher, dict) else higher
        for _, group in shown[col].groupby(level=0):
            candidates = _same_n(group, table.count.loc[group.index, col])
            marks.loc[group.index, col] = _winners(candidates, up)
    return marks, varies


def _final_scores(sweep: Sweep, k: int, step: int | None) -> pd.DataFrame:
    found = scores.scores(sweep, [k], last_only=step is None)
    found = found if step is None else found[found["step"] == step]
    return found.rename(columns={f"pass@{k}": "value"})[["run", "benchmark", "value"]]


def row_keys(sweep: Sweep, runs: pd.DataFrame, exclude: Iterable[str] = ()) -> list[str]:
    """Model, method and the identity keys that vary beyond them in ``runs``."""
    return variants.label_keys(runs, variants.identity_keys(sweep.config_keys), exclude)


def main_table(sweep: Sweep, k: int = 16, step: int | None = None, references: bool = True) -> Table:
    """Methods × benchmarks pass@k (default 16) and their average, per model.

    Uses each run's last evaluated step unless ``step`` is given. With one
    benchmark there is no "Avg." column (it would repeat the benchmark's). With
    ``references``, extra columns give each variant's average minus GRPO's on
    the same model, paired by seed (:func:`with_references`), and the papers'
    stated gains (:mod:`analysis.paper_numbers`).
    """
    runs = configured(sweep.runs)
    values = _final_scores(sweep, k, step)
    benches = sorted(b for b in values["benchmark"].unique() if b != scores.AVG)
    rows = row_keys(sweep, runs)
    table = build_table(
        values,
        runs,
        rows,
        "benchmark",
        name="main",
        title=f"pass@{k} per benchmark and their average, per model"
        if len(benches) != 1
        else f"pass@{k} on {names.benchmark(benches[0])}, per model",
        columns=[*benches, scores.AVG] if len(benches) > 1 else benches,
        scale=100.0,
        digits=1,
        unit=f"pass@{k} in % (points), at each run's last evaluation.",
    )
    if not references:
        return table
    return with_references(table, k, per_seed(runs, rows, values[values["benchmark"] == scores.AVG]))


def per_seed(runs: pd.DataFrame, rows: list[str], values: pd.DataFrame) -> pd.DataFrame:
    """``values`` (run, value) of finished ``runs`` with each run's table row and seed."""
    done = runs[runs["status"] == FINISHED]
    seeds = variants.row_tuples(done, [SEED]) if SEED in done.columns else [(MISSING,)] * len(done)
    frame = pd.DataFrame(
        {"run": done["run"], "row": variants.row_tuples(done, rows), "seed": [s for (s,) in seeds]}
    )
    return frame.merge(values[["run", "value"]], on="run").dropna(subset=["value"])


def _baseline_rows(table: Table) -> dict[object, tuple]:
    """The one GRPO row per model (models with several GRPO variants have no baseline)."""
    rows: dict[object, list[tuple]] = {}
    for row in table.mean.index:
        if row[1] == BASELINE:
            rows.setdefault(row[0], []).append(row)
    return {model: found[0] for model, found in rows.items() if len(found) == 1}


def _seeds(seeds: Iterable[object]) -> str:
    found = sorted(seeds, key=lambda s: _sort_key((s,)))
    return ("seed " if len(found) == 1 else "seeds ") + ", ".join(names.value(SEED, s) for s in found)


def _signed(value: float, digits: int) -> str:
    """``+1.2``, ``-0.3``; a value that rounds to zero reads ``+0.0`` (never ``-0.0``)."""
    text = f"{value:+.{digits}f}"
    return f"{0.0:+.{digits}f}" if float(text) == 0 else text


def paired_delta(mine: dict[object, float], base: dict[object, float]) -> tuple[float, list[object]]:
    """Mean over the seeds in both of (``mine`` − ``base`` at the same seed), and those seeds
    (NaN and [] where they share none)."""
    common = sorted(set(mine) & set(base), key=lambda s: _sort_key((s,)))
    if not common:
        return float("nan"), []
    return float(np.mean([mine[s] - base[s] for s in common])), common


def with_references(table: Table, k: int, seeds: pd.DataFrame) -> Table:
    """``table`` (a main table) with "Δ avg vs GRPO" and, where a paper states one, "paper Δ".

    ``seeds`` (:func:`per_seed`) holds each finished run's average pass@k with its row and
    seed. Δ is paired by seed: the mean over the seeds a variant shares with GRPO on its
    model of (variant − GRPO at that seed), so a one-seed variant is compared with GRPO at
    that seed, never with GRPO's mean over others. "—" (footnoted) where they share no seed.
    """
    base = _baseline_rows(table)
    by_row: dict[tuple, dict[object, float]] = {}
    for row, seed, value in zip(seeds["row"], seeds["seed"], seeds["value"], strict=True):
        by_row.setdefault(row, {})[seed] = float(value)
    digits = table.digits_of(scores.AVG)
    delta, paper = {}, {}
    for row in table.mean.index:
        ref = base.get(row[0])
        if ref is not None and row != ref:
            mine, theirs = by_row.get(row, {}), by_row.get(ref, {})
            value, common = paired_delta(mine, theirs)
            if not common:
                delta[row] = MISSING_CELL
                if mine and theirs:  # (a row without any value already says why in its notes)
                    table.notes[(row, DELTA)] = (
                        f"No {DELTA}: this variant ({_seeds(mine)}) and GRPO ({_seeds(theirs)}) "
                        "share no seed."
                    )
            else:
                delta[row] = _signed(table.scale * value, digits)
                if set(common) != set(mine) or set(common) != set(theirs):
                    table.notes[(row, DELTA)] = (
                        f"{DELTA} is over {_seeds(common)} only, the ones both have "
                        f"(this variant: {_seeds(mine)}; GRPO: {_seeds(theirs)})."
                    )
        claims = paper_numbers.claims_for(row[1], row[0], k)
        if claims:
            paper[row] = " / ".join(f"{c.text} (paper)" for c in claims)
            table.notes[(row, PAPER)] = " ".join(f"{c.source}. {c.note}".strip() for c in claims)
    extra = {name: col for name, col in ((DELTA, delta), (PAPER, paper)) if col}
    if not extra:
        return table
    table.extra = pd.DataFrame(
        {name: pd.Series(col, dtype=object) for name, col in extra.items()}, index=table.mean.index
    ).fillna("")
    benches = [c for c in table.mean.columns if c != scores.AVG]
    averaged = (
        f"pass@{k} on {names.benchmark(benches[0])} (the one benchmark)"
        if len(benches) == 1
        else f"average pass@{k} over benchmarks"
    )
    table.extra_caption = (
        f"{DELTA}: paired by seed, the mean over the seeds a variant shares with GRPO on the same "
        f"model of its {averaged} minus GRPO's at the same seed, in points (no ±); {MISSING_CELL} "
        "where they share no seed."
        + (
            f" {PAPER}: the gain over GRPO its paper states for the same model, cited; the papers' "
            "runs are not ours and are never averaged in."
            if paper
            else ""
        )
    )
    return table


def paper_reference(main: Table | None = None) -> pd.DataFrame:
    """Every number the papers state (:data:`analysis.paper_numbers.CLAIMS`), with our Δ beside it
    where ``main`` (a :func:`main_table`) has the same method and model."""
    ours = (
        main.extra[DELTA]
        if main is not None and main.extra is not None and DELTA in main.extra
        else pd.Series(dtype=object)
    )
    rows = []
    for claim in paper_numbers.CLAIMS:
        found = [
            ours[r]
            for r in ours.index
            if r[:2] == (claim.model, claim.method) and ours[r] not in ("", MISSING_CELL)
        ]
        if claim.model is None:
            our = "n/a (not one of our model configs)"
        else:
            our = " / ".join(found) if found else "not measured here"
        rows.append(
            {
                "method": names.method(claim.method),
                "baseline": names.method(claim.baseline),
                "paper's model": claim.paper_model,
                "paper Δ": claim.text,
                "metric": claim.metric,
                "our Δ": our,
                "source": claim.source,
                "note": claim.note,
            }
        )
    return pd.DataFrame(rows)


def ablation_table(
    sweep: Sweep,
    factor: str,
    *,
    k: int = 16,
    benchmark: str = scores.AVG,
    step: int | None = None,
    groups: Iterable[str] | None = None,
    name: str | None = None,
    title: str | None = None,
) -> Table:
    """pass@k on ``benchmark`` (default: the average) with a config key's values as the columns.

    ``factor`` is any flattened config key (``method.lam``, ``trainer.lr``) or a
    short name for one (``lam``, ``clip_high``, ``quantile``); it must vary within
    some model and method. Rows are the variants run at two or more of its values
    (:func:`analysis.variants.ablation_runs`: not P-trace at its one λ in a GRPO-λ
    λ sweep); a value a row was not run at shows "—". ``groups`` restricts to
    run.json groups. The best value of each row is marked.
    """
    key = variants.resolve(factor, sweep.config_keys)
    runs = configured(sweep.runs)
    if groups is not None:
        wanted = set(groups)
        stand_ins = {d.kept for d in sweep.duplicates if d.group in wanted}  # a copy was in the group
        runs = runs[runs["group"].isin(wanted) | runs["run"].isin(stand_ins)]
    runs = variants.ablation_runs(runs, key, sweep.config_keys)
    found = _final_scores(sweep, k, step)
    if benchmark == scores.AVG:
        benches = [b for b in found["benchmark"].unique() if b != scores.AVG]
        shown = names.benchmark(benches[0] if len(benches) == 1 else benchmark)
    else:
        shown = names.benchmark(benchmark)
    values = found[found["benchmark"] == benchmark].drop(columns="benchmark")
    values = values.merge(runs[["run", key]], on="run")
    return build_table(
        values,
        runs,
        row_keys(sweep, runs, exclude=[key]),
        key,
        name=name or f"ablation_{key}",
        title=title or f"{shown} pass@{k} by {names.key(key)}",
        best="row",
        scale=100.0,
        digits=1,
        per_method=True,
        column_kind=key,
        unit=f"pass@{k} in % (points), at each run's last evaluation.",
    )


def efficiency_table(
    sweep: Sweep,
    target: float | dict | None = None,
    metric: str = "train/reward_mean",
    smooth: int | None = None,
) -> Table:
    """Sample and token efficiency and the area under the training curve
    (:mod:`analysis.efficiency`: the target is a gain over each run's own start)."""
    runs = configured(sweep.runs)
    per_run = efficiency.per_run(sweep, target=target, metric=metric, smooth=smooth)
    cols = list(efficiency.COLUMNS)
    values = per_run.melt(id_vars="run", value_vars=cols, var_name="metric", value_name="value")
    targets = per_run.merge(runs[["run", variants.MODEL]], on="run").groupby(variants.MODEL)["target"].first()
    shown = ", ".join(f"+{t:.3g} on {names.model(m)}" for m, t in targets.items() if pd.notna(t))
    window = int(per_run["window"].iloc[0]) if len(per_run) else 1
    title = (
        f"Efficiency (target: {names.metric(metric)} ≥ each run's start {shown})" if shown else "Efficiency"
    )
    table = build_table(
        values,
        runs,
        row_keys(sweep, runs),
        "metric",
        name="efficiency",
        title=title,
        columns=cols,
        higher=efficiency.HIGHER,
        digits=efficiency.DIGITS,
        column_kind="as is",
        unit=efficiency.units(window, default_target=target is None),
    )
    table.best_rule = table.best_rule.replace("Bold:", "Bold (fewer steps, prompts and tokens are better):")
    return table


def status_table(sweep: Sweep) -> pd.DataFrame:
    """Every run that is not finished (failed, running/killed, broken, unknown), with its error."""
    runs = sweep.incomplete
    keys = [k for k in row_keys(sweep, configured(sweep.runs)) if k in runs.columns]
    seed = [variants.SEED] if variants.SEED in runs.columns else []
    return runs[["name", "status", "error", "steps", "run", *keys, *seed]].reset_index(drop=True)


def ablation_axes(sweep: Sweep) -> list[str]:
    """The config keys this sweep varies within some model and method (each gets an ablation)."""
    return variants.axes(configured(sweep.runs), sweep.config_keys)


def all_tables(sweep: Sweep, k: int = 16, target: float | dict | None = None) -> list[Table]:
    """Every table this sweep has data for (at each run's last evaluation): the main table,
    efficiency, and one ablation per axis the sweep varies."""
    sweep = scores.last_eval(sweep)
    tables = [main_table(sweep, k=k), efficiency_table(sweep, target=target)]
    return tables + [ablation_table(sweep, axis, k=k) for axis in ablation_axes(sweep)]


if __name__ == "__main__":
    raise SystemExit("the report command is `python -m analysis <sweep_dir...> --out <dir>`")
