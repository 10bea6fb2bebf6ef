"""The main table's comparison columns: our paired Δ vs the baseline with its CI, P(X > baseline),
and the gains the papers state (cited), plus every paper number beside ours."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from analysis import names, paper_numbers
from analysis.grid import sort_key
from analysis.table import MISSING_CELL, Table
from analysis.variants import SEED

PAPER = "paper Δ"


def delta_column(baseline: str) -> str:
    """The main table's Δ column heading, e.g. ``Δ avg vs GRPO``."""
    return f"Δ avg vs {baseline}"


def better_column(baseline: str) -> str:
    """The main table's probability-of-improvement heading, e.g. ``P(> GRPO)``."""
    return f"P(> {baseline})"


def _seeds(seeds: Iterable[object]) -> str:
    found = sorted(seeds, key=lambda s: sort_key((s,)))
    return ("seed " if len(found) == 1 else "seeds ") + ", ".join(names.value(SEED, s) for s in found)


def _seed_sets(table: Table, col: object) -> dict[tuple, set]:
    cells = table.cells if table.cells is not None else pd.DataFrame(columns=["_row", "_col", "seed"])
    cells = cells[cells["_col"] == col]
    return {row: set(g["seed"]) for row, g in cells.groupby("_row")}


def with_references(table: Table, k: int, col: object) -> Table:
    """``table`` (a main table, :func:`analysis.compare.add_uncertainty` applied) with the Δ of
    column ``col`` vs the baseline and its CI, P(X > baseline), and where a paper states one,
    "paper Δ"."""
    base_rows = table.baseline_rows
    seeds = _seed_sets(table, col)
    delta_col, better_col = delta_column(table.baseline), better_column(table.baseline)
    digits = table.digits_of(col)
    delta, better, paper = {}, {}, {}
    for row in table.mean.index:
        ref = base_rows.get(row[0])
        found = table.paired.get((row, col))
        if found is not None:
            delta[row] = table.delta_text(found.delta, digits)
            better[row] = table.better_text(found.better)
            mine, theirs = seeds.get(row, set()), seeds.get(ref, set()) if ref is not None else set()
            if ref is not None and (mine != theirs):
                common = mine & theirs
                table.notes[(row, delta_col)] = (
                    f"{delta_col} is over {_seeds(common)} only, the ones both have "
                    f"(this variant: {_seeds(mine)}; {table.baseline}: {_seeds(theirs)})."
                )
        elif ref is not None and row != ref:
            delta[row] = MISSING_CELL
            mine, theirs = seeds.get(row, set()), seeds.get(ref, set())
            if mine and theirs:  # (a row without any value already says why in its notes)
                table.notes[(row, delta_col)] = (
                    f"No {delta_col}: this variant ({_seeds(mine)}) and {table.baseline} ({_seeds(theirs)}) "
                    "share no seed."
                )
        claims = paper_numbers.claims_for(row[1], row[0], k)
        if claims:
            paper[row] = " / ".join(f"{c.text} (paper)" for c in claims)
            table.notes[(row, PAPER)] = " ".join(f"{c.source}. {c.note}".strip() for c in claims)
    extra = {name: c for name, c in ((delta_col, delta), (better_col, better), (PAPER, paper)) if c}
    if not extra:
        return table
    table.extra = pd.DataFrame(
        {name: pd.Series(c, dtype=object) for name, c in extra.items()}, index=table.mean.index
    ).fillna("")
    averaged = (
        f"pass@{k} on {table.column_label(col)}"
        if len(table.mean.columns) == 1
        else f"average pass@{k} over benchmarks"
    )
    table.extra_caption = (
        f"{delta_col}: the {averaged} minus {table.baseline}'s on the same model, paired by seed and by "
        f"problem, in points, with its 95% CI (the same bootstrap); {better_col}: the probability of "
        f"improvement, the share of (seed, problem) pairs where the variant scores higher than "
        f"{table.baseline} (ties count 1/2), with its CI; {MISSING_CELL} where they share no seed."
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
    where ``main`` (a :func:`analysis.tables.main_table`) has the same method and model."""
    column = delta_column(main.baseline) if main is not None else ""
    ours = (
        main.extra[column]
        if main is not None and main.extra is not None and column in main.extra and main.baseline == "GRPO"
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
            if main is not None and main.baseline not in ("", "GRPO"):
                our = f"not measured here (our baseline is {main.baseline}, not GRPO)"
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
