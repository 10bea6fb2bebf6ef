"""Pure renderers: a :class:`~analysis.table.Table` or a plain DataFrame in, a string or frame out.

Markdown (GitHub-flavoured, footnotes as superscripts), LaTeX (booktabs, a
midrule between models) and CSV frames. Nothing here reads files or computes
numbers; headings, labels and cell texts come from the Table itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from analysis.table import Table

_LATEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\^{}",
}
_LATEX_UNICODE = {
    "±": r"$\pm$",
    "—": "---",
    "–": "--",
    "λ": r"$\lambda$",
    "ε": r"$\varepsilon$",
    "β": r"$\beta$",
    "γ": r"$\gamma$",
    "Δ": r"$\Delta$",
    "≥": r"$\geq$",
    "·": r"$\cdot$",
}
_BOLD, _MARK, _END = "\0b", "\0m", "\0e"


def _cells(table: Table, bold: str, mark: str) -> list[list[str]]:
    """Row labels + cell texts; best cells wrapped by ``bold``, footnote numbers by ``mark``."""
    marks, _ = table.footnotes()
    out = []
    for row in table.mean.index:
        cells = []
        for col in table.columns():
            text = table.text(row, col)
            text = bold.format(text) if table.is_best(row, col) else text
            cells.append(text + (mark.format(marks[(row, col)]) if (row, col) in marks else ""))
        out.append([*table.row_labels(row), *cells])
    return out


def _md(text: object) -> str:
    return (
        "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text).replace("|", r"\|")
    )


def _md_table(head: list[str], rows: list[list[str]], right_from: int) -> list[str]:
    align = ["---"] * right_from + ["---:"] * (len(head) - right_from)
    return [
        "| " + " | ".join(map(_md, head)) + " |",
        "|" + "|".join(align) + "|",
        *("| " + " | ".join(map(_md, row)) + " |" for row in rows),
    ]


def to_markdown(table: Table) -> str:
    """Title, caption, the table (bold best, "—" gaps) and numbered footnotes."""
    lines = [f"**{table.title}.** {table.caption()}", ""]
    lines += _md_table(table.header(), _cells(table, "**{}**", "<sup>{}</sup>"), table.mean.index.nlevels)
    _, notes = table.footnotes()
    if notes:
        lines += [""] + [f"<sup>{i}</sup> {text}  " for i, text in enumerate(notes, 1)]
    return "\n".join(lines) + "\n"


def frame_to_markdown(frame: pd.DataFrame) -> str:
    """A plain DataFrame (its columns, not its index) as a Markdown table."""
    rows = [list(row) for row in frame.itertuples(index=False)]
    return "\n".join(_md_table([str(c) for c in frame.columns], rows, frame.shape[1]))


def latex_escape(text: object) -> str:
    out = "".join(_LATEX_ESCAPES.get(ch, ch) for ch in str(text))
    for uni, tex in _LATEX_UNICODE.items():
        out = out.replace(uni, tex)
    return out


def _latex_row(cells: list[str]) -> str:
    escaped = [
        latex_escape(c).replace(_BOLD, r"\textbf{").replace(_MARK, r"\textsuperscript{").replace(_END, "}")
        for c in cells
    ]
    return " & ".join(escaped) + r" \\"


def _tabular(head: list[str], rows: list[list[str]], left: int, group_by_first: bool) -> list[str]:
    lines = [
        r"\begin{tabular}{" + "l" * left + "r" * (len(head) - left) + "}",
        r"\toprule",
        _latex_row(head),
        r"\midrule",
    ]
    previous = None
    for row in rows:
        if group_by_first and previous is not None and row[0] != previous:
            lines.append(r"\midrule")
        previous = row[0]
        lines.append(_latex_row(row))
    return [*lines, r"\bottomrule", r"\end{tabular}"]


def to_latex(table: Table) -> str:
    """A booktabs ``table`` environment with the caption; a \\midrule separates models."""
    rows = _cells(table, _BOLD + "{}" + _END, _MARK + "{}" + _END)
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        rf"\caption{{{latex_escape(table.title)}. {latex_escape(table.caption())}}}",
        rf"\label{{tab:{table.name}}}",
        *_tabular(table.header(), rows, table.mean.index.nlevels, group_by_first=True),
    ]
    _, notes = table.footnotes()
    if notes:
        lines.append(r"\par\smallskip\footnotesize")
        lines += [rf"\textsuperscript{{{i}}} {latex_escape(t)}\\" for i, t in enumerate(notes, 1)]
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def frame_to_latex(frame: pd.DataFrame, caption: str, label: str) -> str:
    """A plain DataFrame as a booktabs ``table`` (text columns, left-aligned)."""
    rows = [[_md(v) for v in row] for row in frame.itertuples(index=False)]
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        rf"\caption{{{latex_escape(caption)}}}",
        rf"\label{{tab:{label}}}",
        *_tabular([str(c) for c in frame.columns], rows, frame.shape[1], group_by_first=False),
        r"\end{table}",
    ]
    return "\n".join(lines) + "\n"


def to_csv_frame(table: Table) -> pd.DataFrame:
    """Full-precision numbers in the table's unit: per column (raw names; an ablation's
    columns as ``<key>=<value>``) ``<col>``, ``<col> std``, ``<col> n``, and where computed its
    CI (``<col> ci low``/``high``), its paired Δ vs the baseline with CI (``<col> Δ``, ``Δ low``,
    ``Δ high``), P(X > baseline) (``<col> P(>base)``), the evaluation noise of one seed's Δ
    (``<col> Δ eval SE``) and each seed's Δ (``<col> Δ per seed``); the extra columns as
    shown, and each row's notes."""
    parts: dict[str, pd.Series] = {}
    index = table.mean.index
    for col in table.mean.columns:
        label = table.csv_label(col)
        parts[label] = table.mean[col] * table.scale
        parts[f"{label} std"] = table.std[col] * table.scale
        parts[f"{label} n"] = table.count[col]
        if table.ci:
            for bound in ("low", "high"):
                parts[f"{label} ci {bound}"] = pd.Series(
                    [
                        getattr(table.ci[(r, col)], bound) * table.scale if (r, col) in table.ci else None
                        for r in index
                    ],
                    index=index,
                    dtype=float,
                )
        if table.paired:
            found = [table.paired.get((r, col)) for r in index]
            for name, get in (
                ("Δ", lambda p: p.delta.value * table.scale),
                ("Δ low", lambda p: p.delta.low * table.scale),
                ("Δ high", lambda p: p.delta.high * table.scale),
                ("P(>base)", lambda p: p.better.value),
                ("Δ eval SE", lambda p: p.eval_se * table.scale),
            ):
                parts[f"{label} {name}"] = pd.Series(
                    [get(p) if p is not None else None for p in found], index=index, dtype=float
                )
        if table.paired:
            parts[f"{label} Δ per seed"] = pd.Series(
                [table.per_seed_text(r, col) for r in index], index=index, dtype=object
            )
    frame = pd.DataFrame(parts, index=index)
    if table.extra is not None:
        for col in table.extra.columns:
            frame[str(col)] = table.extra[col]
    frame["notes"] = [
        "; ".join(dict.fromkeys(t for (r, _), t in table.notes.items() if r == row)) for row in frame.index
    ]
    return frame.reset_index()
