"""Render tables to Markdown / LaTeX (booktabs) / CSV and write a whole report.

CLI: ``python -m analysis.tables <sweep_dir...> --out <dir>`` (or ``python -m analysis``).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from analysis import load, plots, tables
from analysis.tables import Table

_LATEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}"}
_LATEX_UNICODE = {"±": r"$\pm$", "—": "---", "λ": r"$\lambda$", "≥": r"$\geq$"}


def _header(table: Table) -> list[str]:
    return [*table.mean.index.names, *map(str, table.mean.columns)]


def _rows(table: Table, bold: str, mark: str) -> list[list[str]]:
    """Index labels + cell texts, best cells wrapped by ``bold`` ({} placeholder), footnotes by ``mark``."""
    marks, _ = table.footnotes()
    out = []
    for row in table.mean.index:
        cells = []
        for col in table.mean.columns:
            text = table.text(row, col)
            if table.best.at[row, col]:
                text = bold.format(text)
            if (row, col) in marks:
                text += mark.format(marks[(row, col)])
            cells.append(text)
        out.append([str(v) for v in row] + cells)
    return out


def to_markdown(table: Table) -> str:
    """A GitHub-flavoured Markdown table: bold best, "—" gaps with numbered footnotes."""
    head = _header(table)
    nidx = table.mean.index.nlevels
    lines = [f"**{table.title}**", "", "| " + " | ".join(head) + " |",
             "|" + "|".join(["---"] * nidx + ["---:"] * (len(head) - nidx)) + "|"]
    for row in _rows(table, "**{}**", "<sup>{}</sup>"):
        lines.append("| " + " | ".join(c.replace("|", r"\|") for c in row) + " |")
    _, notes = table.footnotes()
    if notes:
        lines += [""] + [f"<sup>{i}</sup> {text}  " for i, text in enumerate(notes, 1)]
    return "\n".join(lines) + "\n"


def frame_to_markdown(frame: pd.DataFrame) -> str:
    """A plain DataFrame as a Markdown table (no tabulate dependency)."""
    def cell(v: object) -> str:
        return "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v).replace("|", r"\|")

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "|".join(["---"] * frame.shape[1]) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def latex_escape(text: str) -> str:
    out = "".join(_LATEX_ESCAPES.get(ch, ch) for ch in str(text))
    for uni, tex in _LATEX_UNICODE.items():
        out = out.replace(uni, tex)
    return out


def to_latex(table: Table) -> str:
    """A booktabs ``table`` environment; a \\midrule separates models."""
    nidx = table.mean.index.nlevels
    head = _header(table)
    lines = [r"\begin{table}[t]", r"\centering", rf"\caption{{{latex_escape(table.title)}}}",
             rf"\label{{tab:{table.name}}}", r"\begin{tabular}{" + "l" * nidx + "r" * (len(head) - nidx) + "}",
             r"\toprule", " & ".join(map(latex_escape, head)) + r" \\", r"\midrule"]
    previous = None
    for row in _rows(table, "\0bold{}\0", "\0mark{}\0"):
        if previous is not None and row[0] != previous:
            lines.append(r"\midrule")
        previous = row[0]
        cells = [latex_escape(c).replace("\0bold", r"\textbf{").replace("\0mark", r"\textsuperscript{")
                 .replace("\0", "}") for c in row]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    _, notes = table.footnotes()
    if notes:
        lines.append(r"\par\smallskip\footnotesize")
        lines += [rf"\textsuperscript{{{i}}} {latex_escape(t)}\\" for i, t in enumerate(notes, 1)]
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def to_csv_frame(table: Table) -> pd.DataFrame:
    """Numbers (unscaled), one ``<col>``/``<col> std``/``<col> n`` triple per column, plus the row's notes."""
    parts = {}
    for col in table.mean.columns:
        parts[str(col)] = table.mean[col]
        parts[f"{col} std"] = table.std[col]
        parts[f"{col} n"] = table.count[col]
    frame = pd.DataFrame(parts, index=table.mean.index)
    frame["notes"] = ["; ".join(dict.fromkeys(t for (r, _), t in table.notes.items() if r == row))
                      for row in frame.index]
    return frame.reset_index()


def write_table(table: Table, out: Path) -> dict[str, Path]:
    """``out/<name>.md``, ``.tex`` and ``.csv``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {ext: out / f"{table.name}.{ext}" for ext in ("md", "tex", "csv")}
    paths["md"].write_text(to_markdown(table))
    paths["tex"].write_text(to_latex(table))
    to_csv_frame(table).to_csv(paths["csv"], index=False)
    return paths


def _figures(sweep: load.Sweep, k: int) -> dict[str, object]:
    figs = {}
    for metric in ("train/reward_mean", "train/accuracy"):
        if metric in sweep.steps:
            short = metric.split("/")[1]
            figs[f"{short}_vs_step"] = lambda m=metric: plots.training_curves(sweep, m, "step")
            if "train/tokens" in sweep.steps:
                figs[f"{short}_vs_tokens"] = lambda m=metric: plots.training_curves(sweep, m, "train/tokens")
    figs["pass_at_k"] = lambda: plots.pass_at_k_curve(sweep)
    for factor in ("lam", "quantile"):
        if sweep.finished[factor].notna().any():
            figs[f"{factor}_ablation"] = lambda f=factor: plots.ablation_curve(sweep, f, k)
    return figs


def write_all(sweep: load.Sweep, out: str | Path, k: int = 16, target: float | None = None) -> Path:
    """Every table and figure under ``out`` and an ``index.md`` linking them; returns the index."""
    out = Path(out)
    lines = ["# Sweep report", "", f"{len(sweep.runs)} runs, {len(sweep.finished)} finished.", "", "## Tables", ""]
    for table in tables.all_tables(sweep, k=k, target=target):
        paths = write_table(table, out / "tables")
        links = " · ".join(f"[{ext}]({p.relative_to(out).as_posix()})" for ext, p in paths.items())
        lines.append(f"- {table.title}: {links}")
    status = tables.status_table(sweep)
    status.to_csv(out / "tables" / "incomplete_runs.csv", index=False)
    lines += ["", "## Figures", ""]
    for name, make in _figures(sweep, k).items():
        png, pdf = plots.save(make(), out / "figures" / name)
        lines.append(f"- {name}: [png]({png.relative_to(out).as_posix()}) · [pdf]({pdf.relative_to(out).as_posix()})")
    lines += ["", "## Runs not finished (excluded from every table)", ""]
    lines.append(frame_to_markdown(status) if len(status) else "None.")
    index = out / "index.md"
    index.write_text("\n".join(lines) + "\n")
    return index


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.tables", description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dirs", nargs="+", help="sweep or run directories (searched recursively)")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--k", type=int, default=16, help="k of the pass@k tables (default 16)")
    parser.add_argument("--target", type=float, default=None, help="training-reward target for sample efficiency")
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    missing = [d for d in args.sweep_dirs if not os.path.isdir(d)]
    if missing:
        parser.error(f"not a directory: {', '.join(missing)}")
    index = write_all(load.load_sweeps(args.sweep_dirs), args.out, k=args.k, target=args.target)
    print(index)
    return 0
