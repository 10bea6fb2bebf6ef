"""The papers' tables as :class:`~analysis.table.Table` objects: the main table, the ablations
and the efficiency table (the grid and its notes: :mod:`analysis.grid`).

Every main and ablation cell is the mean over the seeds of the finished runs of one
variant, with a 95% CI from a bootstrap over seeds and over the problems within each
seed (:mod:`analysis.uncertainty`), and its paired Δ vs a baseline (GRPO unless
``baseline`` names another variant, :mod:`analysis.compare`) with a CI and P(X >
baseline). Bold marks only the cells whose paired Δ has a CI that excludes 0; each
table's caption states the smallest Δ it could detect. The efficiency table stays
mean ± std over seeds, with nothing bold.

Ablation tables exist only for axes the runs vary within some model and method,
and have rows only for the variants run at two or more values of the axis
(:func:`analysis.variants.ablation_runs`); asking for another raises
:class:`~analysis.variants.NotAnAxis`. ``python -m analysis`` writes them all.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from analysis import compare, efficiency, names, scores, variants
from analysis.compare import DEFAULT_BASELINE
from analysis.grid import METHOD_ORDER, build_table, configured, sort_key
from analysis.load import Sweep
from analysis.references import PAPER, better_column, delta_column, paper_reference, with_references
from analysis.table import Table, signed

__all__ = [
    "METHOD_ORDER",
    "PAPER",
    "Table",
    "ablation_axes",
    "ablation_table",
    "all_tables",
    "better_column",
    "build_table",
    "delta_column",
    "efficiency_table",
    "main_table",
    "paper_reference",
    "signed",
    "sort_key",
    "status_table",
]


def _final_scores(sweep: Sweep, k: int, step: int | None) -> pd.DataFrame:
    found = scores.scores(sweep, [k], last_only=step is None)
    found = found if step is None else found[found["step"] == step]
    return found.rename(columns={f"pass@{k}": "value"})[["run", "benchmark", "value"]]


def row_keys(sweep: Sweep, runs: pd.DataFrame, exclude: Iterable[str] = ()) -> list[str]:
    """Model, method and the identity keys that vary beyond them in ``runs``."""
    return variants.label_keys(runs, variants.identity_keys(sweep.config_keys), exclude)


def main_table(
    sweep: Sweep,
    k: int = 16,
    step: int | None = None,
    references: bool = True,
    baseline: str = DEFAULT_BASELINE,
) -> Table:
    """Methods × benchmarks pass@k (default 16) and their average, per model, with 95% CIs.

    Uses each run's last evaluated step unless ``step`` is given. With one
    benchmark there is no "Avg." column (it would repeat the benchmark's). Every
    cell is compared with ``baseline`` (a method, or ``method,key=value``;
    :class:`analysis.compare.Baseline`) on the same model, paired by seed and problem.
    With ``references``, extra columns give the average's Δ vs the baseline with its
    CI and P(X > baseline) (:func:`analysis.references.with_references`), and the
    papers' stated gains (:mod:`analysis.paper_numbers`).
    """
    runs = configured(sweep.runs)
    source = scores.problem_scores(sweep, k, step)
    values = _final_scores(sweep, k, step)
    benches = sorted(b for b in values["benchmark"].unique() if b != scores.AVG)
    rows = row_keys(sweep, runs)
    columns = [*benches, scores.AVG] if len(benches) > 1 else benches
    table = build_table(
        values,
        runs,
        rows,
        "benchmark",
        name="main",
        title=f"pass@{k} per benchmark and their average, per model"
        if len(benches) != 1
        else f"pass@{k} on {names.benchmark(benches[0])}, per model",
        columns=columns,
        scale=100.0,
        digits=1,
        unit=f"pass@{k} in % (points), at each run's last evaluation.",
    )
    table = compare.compare_with(table, sweep, source, source.benchmarks_of, baseline)
    if not references or not columns:
        return table
    return with_references(table, k, columns[-1])


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
    baseline: str = DEFAULT_BASELINE,
) -> Table:
    """pass@k on ``benchmark`` (default: the average) with a config key's values as the columns.

    ``factor`` is any flattened config key (``method.lam``, ``trainer.lr``) or a
    short name for one (``lam``, ``clip_high``, ``quantile``); it must vary within
    some model and method. Rows are the variants run at two or more of its values
    (:func:`analysis.variants.ablation_runs`: not P-trace at its one λ in a GRPO-λ
    λ sweep); a value a row was not run at shows "—". ``groups`` restricts to
    run.json groups. Each cell shows its 95% CI and its paired Δ and P(X > baseline) vs
    ``baseline`` on the same model (whether or not the baseline is a row here); bold
    where that Δ's CI excludes 0.
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
    table = build_table(
        values,
        runs,
        row_keys(sweep, runs, exclude=[key]),
        key,
        name=name or f"ablation_{key}",
        title=title or f"{shown} pass@{k} by {names.key(key)}",
        scale=100.0,
        digits=1,
        per_method=True,
        column_kind=key,
        unit=f"pass@{k} in % (points), at each run's last evaluation.",
    )
    table.delta_in_cells = True
    source = scores.problem_scores(sweep, k, step)
    return compare.compare_with(table, sweep, source, lambda _: source.benchmarks_of(benchmark), baseline)


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
        digits=efficiency.DIGITS,
        column_kind="as is",
        unit=efficiency.units(window, default_target=target is None),
    )
    table.best_rule = "Nothing is bold: these are means over seeds without a paired test."
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


def all_tables(
    sweep: Sweep, k: int = 16, target: float | dict | None = None, baseline: str = DEFAULT_BASELINE
) -> list[Table]:
    """Every table this sweep has data for (at each run's last evaluation): the main table,
    efficiency, and one ablation per axis the sweep varies, compared with ``baseline``."""
    sweep = scores.last_eval(sweep)
    tables = [main_table(sweep, k=k, baseline=baseline), efficiency_table(sweep, target=target)]
    return tables + [ablation_table(sweep, axis, k=k, baseline=baseline) for axis in ablation_axes(sweep)]


if __name__ == "__main__":
    raise SystemExit("the report command is `python -m analysis <sweep_dir...> --out <dir>`")
