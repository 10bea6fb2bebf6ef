"""Each cell's CI and its paired Δ vs a baseline variant; bold only where that Δ's CI excludes 0.

The baseline is GRPO by default, or any variant: a selector ``method`` or
``method,key=value,...`` (``grpo_lambda,method.lam=0``) naming config values the
baseline's runs must have. On each model its finished runs that match form the
baseline; a model where they are several variants (GRPO at two clip ranges) has
no baseline until the selector tells them apart. A cell is compared with the
baseline on the same model and benchmark(s), paired by seed and by problem
(:mod:`analysis.uncertainty`): over the seeds both have and the problems both
evaluated. A cell made of the baseline's own runs has no Δ.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis import names, uncertainty, variants
from analysis.grid import configured, seeds_of, sort_key
from analysis.load import FINISHED, Sweep
from analysis.scores import ProblemScores
from analysis.table import Table
from analysis.variants import MODEL

DEFAULT_BASELINE = "grpo"
#: The Δ a table reports how many seeds it would need (in the table's unit, i.e. points).
EFFECT = 1.0


@dataclass(frozen=True)
class Baseline:
    """A baseline selector: config key → the value (as text) its runs have."""

    where: dict[str, str]

    @classmethod
    def parse(cls, text: str) -> Baseline:
        """``grpo`` or ``grpo_lambda,method.lam=0`` (a bare first item is the method)."""
        where: dict[str, str] = {}
        for i, part in enumerate(p.strip() for p in text.split(",")):
            key, eq, value = part.partition("=")
            if not eq and i == 0:
                key, value = variants.METHOD, part
            elif not eq or not key or not value:
                raise ValueError(f"baseline {text!r}: {part!r} is not key=value (e.g. grpo,method.lam=0.9)")
            where[key.strip()] = value.strip()
        return cls(where)

    def name(self) -> str:
        return names.label({k: _typed(v) for k, v in self.where.items()})

    def matches(self, runs: pd.DataFrame) -> pd.Series:
        """Which ``runs`` have every value the selector names (numbers compared as numbers)."""
        keep = pd.Series(True, index=runs.index)
        for key, value in self.where.items():
            if key not in runs.columns:
                return pd.Series(False, index=runs.index)
            keep &= runs[key].map(lambda v, want=value: _same(v, want))
        return keep


def _typed(value: str) -> object:
    try:
        return float(value)
    except ValueError:
        return value


def _same(value: object, want: str) -> bool:
    """A config value equals the selector's text: ``0.0`` is ``0``, ``0.90`` is ``0.9``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return not math.isnan(value) and float(value) == float(want)
        except ValueError:
            return False
    return str(value) == want


def compare_with(
    table: Table,
    sweep: Sweep,
    source: ProblemScores,
    benchmarks_of: Callable[[object], list[str]],
    baseline: str,
) -> Table:
    """:func:`add_uncertainty` against the variant ``baseline`` names (:class:`Baseline`); a model
    where it names several variants gets a footnote saying so instead of a Δ."""
    chosen = Baseline.parse(baseline)
    base, why = baseline_runs(sweep, chosen)
    table = add_uncertainty(table, source, benchmarks_of, base, chosen.name())
    for model, text in why.items():
        for row in table.mean.index:
            if row[0] == model:
                table.notes[(row, table.mean.columns[-1])] = f"No Δ: {text}."
    return table


def baseline_runs(
    sweep: Sweep, baseline: Baseline
) -> tuple[dict[object, dict[object, str]], dict[object, str]]:
    """Per model: seed → run of the baseline's finished runs; and why a model has none."""
    runs = configured(sweep.runs)
    runs = runs[(runs["status"] == FINISHED) & baseline.matches(runs)]
    keys = [k for k in variants.identity_keys(sweep.config_keys) if k in runs.columns]
    found: dict[object, dict[object, str]] = {}
    why: dict[object, str] = {}
    for model, group in runs.groupby(MODEL):
        kinds = set(variants.row_tuples(group, keys))
        if len(kinds) > 1:
            why[model] = (
                f"{len(kinds)} variants of {baseline.name()} ran on {names.model(model)}: "
                "name the baseline's config values (e.g. --baseline grpo,method.clip_high=0.28)"
            )
            continue
        found[model] = dict(zip(seeds_of(group), group["run"], strict=True))
    return found, why


def add_uncertainty(
    table: Table,
    source: ProblemScores,
    benchmarks_of: Callable[[object], list[str]],
    base: dict[object, dict[object, str]],
    baseline: str,
) -> Table:
    """Fill ``table.ci`` and ``table.paired`` (vs ``base``: per model, seed → run), bold the
    cells whose paired Δ's CI excludes 0, and state the detectable effect."""
    cells = table.cells if table.cells is not None else pd.DataFrame(columns=["run", "_row", "_col", "seed"])
    by_cell = {key: dict(zip(g["seed"], g["run"], strict=True)) for key, g in cells.groupby(["_row", "_col"])}
    table.baseline = baseline
    for (row, col), mine in by_cell.items():
        if row not in table.mean.index or col not in table.mean.columns or pd.isna(table.mean.at[row, col]):
            continue
        benches = benchmarks_of(col)
        values, strata = source.matrix(list(mine.values()), benches)
        if not np.isnan(values).any():
            table.ci[(row, col)] = uncertainty.crossed_bootstrap(values, strata)
        theirs = base.get(row[0], {})
        if set(mine.values()) == set(theirs.values()):
            table.baseline_rows[row[0]] = row
            continue
        common = sorted(set(mine) & set(theirs), key=lambda s: sort_key((s,)))
        if not common:
            continue
        values, strata = source.matrix([mine[s] for s in common] + [theirs[s] for s in common], benches)
        if not np.isnan(values).any():
            half = len(common)
            table.paired[(row, col)] = uncertainty.paired(values[:half], values[half:], strata)
            table.paired_seeds[(row, col)] = tuple(common)
    table.best = pd.DataFrame(False, index=table.mean.index, columns=table.mean.columns)
    for (row, col), found in table.paired.items():
        table.best.at[row, col] = found.significant
    table.best_rule = (
        f"Bold: the paired Δ vs {baseline} (same model, seeds and problems) has a 95% CI that excludes 0, "
        "above or below (its sign says which); no mean is bold for being the largest."
    )
    table.detectable = detectable_line(table)
    return table


def detectable_line(table: Table) -> str:
    """The smallest Δ the table's comparisons could tell from 0, and the seeds a 1-point Δ needs."""
    found = list(table.paired.values())
    if not found:
        return f"Detectable effect: no cell shares a seed with {table.baseline or 'a baseline'} on its model."
    se = np.array([p.delta.se for p in found])
    mde = np.array([uncertainty.detectable(s) for s in se]) * table.scale
    seeds = sorted({p.delta.seeds for p in found})
    problems = sorted({p.delta.problems for p in found})
    needed = [
        uncertainty.seeds_needed(p.delta.se, p.seed_share, p.delta.seeds, EFFECT / table.scale) for p in found
    ]
    known = [n for n in needed if not math.isnan(n)]
    noise = [p.eval_se for p in found if not math.isnan(p.eval_se)]
    lo, hi = f"{np.nanmin(mde):.1f}", f"{np.nanmax(mde):.1f}"
    span = f"{np.nanmedian(mde):.1f} points" + (
        f" (median over {len(found)} comparisons; {lo}–{hi})" if len(found) > 1 and lo != hi else ""
    )
    line = (
        f"Detectable effect: with {_span(seeds)} paired seeds and {_span(problems)} problems, a true Δ of {span} "
        f"vs {table.baseline} is found at 95% (two-sided) with 80% power "
        "((z_0.975 + z_0.8)·SE = 2.80·SE, SE the bootstrap standard error of the paired Δ)."
    )
    if noise:
        line += (
            f" Evaluation noise: the SE of one seed's paired Δ over the problems is "
            f"{float(np.median(noise)) * table.scale:.1f} points (median)."
        )
    if not known:
        return (
            line + f" The seeds a {EFFECT:g}-point Δ needs are unknown: that takes ≥ 2 seeds per comparison."
        )
    median = float(np.median(known))
    if math.isinf(median):
        return line + (
            f" A {EFFECT:g}-point Δ is out of reach by adding seeds: the problem-to-problem part of the "
            "SE alone is too large (more problems would help)."
        )
    return line + (
        f" A {EFFECT:g}-point Δ would need about {median:.0f} seeds (median over comparisons; the "
        "seed part of the variance shrinking as 1/seeds, the problem part fixed)."
    )


def _span(values: list[int]) -> str:
    return f"{values[0]}" if len(values) == 1 else f"{values[0]}–{values[-1]}"
