"""A table's numbers and all its renderings say about them (cells, CIs, bold marks, notes, caption).

A :class:`Table` holds raw names (``grpo_lambda``, ``math500``, ``method.lam``)
so code can index it; :meth:`Table.header`, :meth:`Table.row_labels` and
:meth:`Table.text` give what a reader sees (``GRPO-λ``, ``MATH-500``, ``λ``).
Renderers (:mod:`analysis.render`) only lay these out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from analysis import names, render
from analysis.uncertainty import METHOD, Interval, Paired

MISSING_CELL = "—"
Cell = tuple[tuple, object]


@dataclass
class Table:
    """Mean/std/count over seeds per (row, column), CIs, paired Δs, bold marks, footnotes and
    extra text columns.

    ``expected`` is False for cells outside the grid (shown blank, no note);
    ``extra`` holds display-only columns to the right (e.g. our Δ vs GRPO and the
    papers' stated Δ), never part of the numbers. ``ci`` and ``paired`` hold each
    cell's CI and its paired Δ vs the baseline (:mod:`analysis.compare`); ``best``
    (bold) marks the cells whose Δ's CI excludes 0.
    """

    name: str
    title: str
    mean: pd.DataFrame
    std: pd.DataFrame
    count: pd.DataFrame
    best: pd.DataFrame
    expected: pd.DataFrame
    notes: dict[Cell, str] = field(default_factory=dict)
    scale: float = 1.0
    digits: int | dict[object, int] = 3
    column_kind: str = "benchmark"  # how column labels read: benchmark, config key, or as is
    best_rule: str = ""  # caption text saying what bold marks
    unit: str = ""  # caption text for the unit, e.g. "pass@16 in %"
    extra: pd.DataFrame | None = None
    extra_caption: str = ""
    #: The finished runs behind the cells: run, _row, _col, seed, value.
    cells: pd.DataFrame | None = None
    ci: dict[Cell, Interval] = field(default_factory=dict)
    paired: dict[Cell, Paired] = field(default_factory=dict)
    paired_seeds: dict[Cell, tuple] = field(default_factory=dict)  # the seeds each Δ pairs, in order
    baseline: str = ""  # the baseline's display name, e.g. "GRPO"
    baseline_rows: dict[object, tuple] = field(default_factory=dict)  # per model, where it is a row
    delta_in_cells: bool = False  # show each cell's Δ and P(> baseline) in the cell itself
    detectable: str = ""  # caption line: the smallest Δ this table could tell from 0

    def digits_of(self, col: object) -> int:
        return self.digits.get(col, 3) if isinstance(self.digits, dict) else self.digits

    def columns(self) -> list[object]:
        """Number columns, then extra text columns."""
        extra = list(self.extra.columns) if self.extra is not None else []
        return [*self.mean.columns, *extra]

    def footnotes(self) -> tuple[dict[Cell, int], list[str]]:
        """Footnote number per annotated cell (row-major), and the footnote texts."""
        numbers: dict[str, int] = {}
        marks: dict[Cell, int] = {}
        for row in self.mean.index:
            for col in self.columns():
                text = self.notes.get((row, col))
                if text is not None:
                    marks[(row, col)] = numbers.setdefault(text, len(numbers) + 1)
        return marks, list(numbers)

    def text(self, row: tuple, col: object) -> str:
        """The cell as plain text: "mean [CI]" (or "mean ± std" without a CI, "mean" for one
        seed), "(n=…)" where tables mix seed counts, its Δ where shown in cells; "—" if missing."""
        if col not in self.mean.columns:
            return str(self.extra.at[row, col]) if self.extra is not None else ""
        if not self.expected.at[row, col]:
            return ""
        mean, std = self.mean.at[row, col], self.std.at[row, col]
        if pd.isna(mean):
            return MISSING_CELL
        d = self.digits_of(col)
        out = f"{mean * self.scale:.{d}f}"
        ci = self.ci.get((row, col))
        if ci is not None and not math.isnan(ci.low):
            out += f" [{ci.low * self.scale:.{d}f}, {ci.high * self.scale:.{d}f}]"
        elif not pd.isna(std):
            out += f" ± {std * self.scale:.{d}f}"
        lo, hi = self.seeds()
        if lo != hi:
            out += f" (n={self.count.at[row, col]})"
        found = self.paired.get((row, col))
        if self.delta_in_cells and found is not None:
            out += f"; Δ {self.delta_text(found.delta, d)}, P {self.better_text(found.better)}"
        return out

    def delta_text(self, delta: Interval, digits: int) -> str:
        """``+0.3 [-0.9, +1.5]`` in the table's unit."""
        bounds = (
            f" [{signed(delta.low * self.scale, digits)}, {signed(delta.high * self.scale, digits)}]"
            if not math.isnan(delta.low)
            else ""
        )
        return signed(delta.value * self.scale, digits) + bounds

    def per_seed_text(self, row: tuple, col: object) -> str:
        """Each paired seed's own Δ: ``seed 0: +0.3; seed 1: -0.5`` (empty without a Δ)."""
        found = self.paired.get((row, col))
        if found is None or self.cells is None:
            return ""
        seeds = self.paired_seeds.get((row, col), ())
        d = self.digits_of(col)
        return "; ".join(
            f"seed {names.value('trainer.seed', s)}: {signed(v * self.scale, d)}"
            for s, v in zip(seeds, found.per_seed, strict=True)
        )

    @staticmethod
    def better_text(better: Interval) -> str:
        """P(X > baseline) as ``0.51 [0.47, 0.55]``."""
        bounds = f" [{better.low:.2f}, {better.high:.2f}]" if not math.isnan(better.low) else ""
        return f"{better.value:.2f}{bounds}"

    def is_best(self, row: tuple, col: object) -> bool:
        return col in self.best.columns and bool(self.best.at[row, col])

    def index_names(self) -> list[str]:
        return [names.key(k) for k in self.mean.index.names]

    def header(self) -> list[str]:
        """Row-key headings, then column headings, as a reader sees them."""
        return [*self.index_names(), *(self.column_label(c) for c in self.columns())]

    def column_label(self, col: object) -> str:
        if col not in self.mean.columns:
            return str(col)
        if self.column_kind == "benchmark":
            return names.benchmark(col)
        if self.column_kind == "as is":
            return str(col)
        return f"{names.key(self.column_kind)}={names.value(self.column_kind, col)}"

    def csv_label(self, col: object) -> str:
        """A number column's CSV heading: raw names, an ablation's as ``<dotted key>=<value>``
        (``method.lam=0.9``), so a column read alone still says what it holds."""
        if self.column_kind in ("benchmark", "as is"):
            return str(col)
        return f"{self.column_kind}={col}"

    def row_labels(self, row: tuple) -> list[str]:
        return [names.value(k, v) for k, v in zip(self.mean.index.names, row, strict=True)]

    def seeds(self) -> tuple[int, int]:
        """Fewest and most seeds behind a filled cell (0, 0 when nothing is filled)."""
        filled = self.count.where(self.expected & (self.count > 0)).stack().dropna()
        return (int(filled.min()), int(filled.max())) if len(filled) else (0, 0)

    def caption(self) -> str:
        """What a reader needs to read the numbers: n seeds, the CI method, units, bold, gaps."""
        lo, hi = self.seeds()
        n = f"{hi}" if lo == hi else f"{lo}–{hi} (given per cell)"
        if hi == 0:
            parts = ["No finished run has a value here yet."]
        elif self.ci:
            one = " (with one seed, the CI is evaluation noise alone)" if lo == 1 else ""
            parts = [
                f"Each cell: the mean over n = {n} seeds (finished runs only) and its {METHOD}{one}; "
                "the CSV gives n, the seed std and the CI per cell."
            ]
        elif hi == 1:
            parts = ["One seed per cell (finished runs only), so no ± is shown."]
        else:
            single = " (no ± where a cell has one seed)" if lo == 1 else ""
            parts = [
                f"Mean ± sample standard deviation (ddof = 1) over n = {n} seeds per cell{single}, "
                "finished runs only; the CSV gives n per cell."
            ]
        parts += [self.unit] if self.unit else []
        parts += [self.best_rule] if self.best_rule else []
        if any(self.text(r, c) == MISSING_CELL for r in self.mean.index for c in self.mean.columns):
            parts.append(f"{MISSING_CELL}: no value from a finished run (see the notes).")
        parts += [self.extra_caption] if self.extra_caption else []
        parts += [self.detectable] if self.detectable else []
        return " ".join(parts)

    def frame(self) -> pd.DataFrame:
        """Display strings with display headings, footnote numbers appended as "[n]" (no bold)."""
        marks, _ = self.footnotes()
        rows = [
            [
                self.text(row, col) + (f" [{marks[(row, col)]}]" if (row, col) in marks else "")
                for col in self.columns()
            ]
            for row in self.mean.index
        ]
        labels = [tuple(self.row_labels(row)) for row in self.mean.index]
        index = pd.MultiIndex.from_tuples(labels, names=self.index_names()) if labels else None
        heads = self.header()[self.mean.index.nlevels :]
        return pd.DataFrame(rows, index=index, columns=heads, dtype=object)

    def _repr_markdown_(self) -> str:
        return render.to_markdown(self)


def signed(value: float, digits: int) -> str:
    """``+1.2``, ``-0.3``; a value that rounds to zero reads ``+0.0`` (never ``-0.0``)."""
    text = f"{value:+.{digits}f}"
    return f"{0.0:+.{digits}f}" if float(text) == 0 else text
