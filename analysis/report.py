"""Write a whole report: every table (Markdown, LaTeX, CSV) and figure (PNG, PDF) of a sweep,
the papers' reference numbers, the runs left out, and an ``index.md`` linking them all."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from analysis import names, plots, render, tables
from analysis.load import Duplicate, Sweep
from analysis.table import Table
from harness.contract import ACCURACY, REWARD, TOKENS

STATUS_HEADINGS = {
    "name": "run",
    "status": "status",
    "error": "reason",
    "steps": "steps",
    "run": "directory",
}


def write_table(table: Table, out: Path) -> dict[str, Path]:
    """``out/<name>.md``, ``.tex`` and ``.csv``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {ext: out / f"{table.name}.{ext}" for ext in ("md", "tex", "csv")}
    paths["md"].write_text(render.to_markdown(table))
    paths["tex"].write_text(render.to_latex(table))
    render.to_csv_frame(table).to_csv(paths["csv"], index=False)
    return paths


def write_frame(frame: pd.DataFrame, out: Path, name: str, caption: str) -> dict[str, Path]:
    """A plain frame as ``out/<name>.md``, ``.tex`` and ``.csv``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {ext: out / f"{name}.{ext}" for ext in ("md", "tex", "csv")}
    paths["md"].write_text(f"**{caption}**\n\n{render.frame_to_markdown(frame)}\n")
    paths["tex"].write_text(render.frame_to_latex(frame, caption, name))
    frame.to_csv(paths["csv"], index=False)
    return paths


def status_frame(sweep: Sweep) -> pd.DataFrame:
    """:func:`analysis.tables.status_table` with display headings and values."""
    status = tables.status_table(sweep)
    for col in status.columns:
        if col not in STATUS_HEADINGS:
            status[col] = [names.value(col, v) for v in status[col]]
    return status.rename(columns=lambda c: STATUS_HEADINGS.get(c, names.key(c)))


def figures(sweep: Sweep, k: int) -> dict[str, Callable[[], Figure]]:
    """Every figure this sweep has data for, by file stem (built when called)."""
    figs: dict[str, Callable[[], Figure]] = {}
    for metric in (REWARD, ACCURACY):
        if metric in sweep.steps:
            short = metric.split("/")[1]
            figs[f"{short}_vs_step"] = functools.partial(plots.training_curves, sweep, metric, "step")
            if TOKENS in sweep.steps:
                figs[f"{short}_vs_tokens"] = functools.partial(plots.training_curves, sweep, metric, TOKENS)
    figs["pass_at_k"] = functools.partial(plots.pass_at_k_curve, sweep)
    if any(col in sweep.steps for col in plots.QUADRANTS):
        figs["quadrant_shares"] = functools.partial(plots.quadrant_shares, sweep)
    for axis in tables.ablation_axes(sweep):
        figs[f"ablation_{axis}"] = functools.partial(plots.ablation_curve, sweep, axis, k)
    return figs


def duplicate_lines(sweep: Sweep) -> list[str]:
    """The run dirs left out as duplicates (:func:`analysis.load.drop_duplicates`), for the index."""
    found = sweep.duplicates
    if not found:
        return []
    rule = (
        "A run with the same variant and seed as another is the same experiment: one is kept "
        "(finished first, then the most logged steps, then the first path in sorted order) and "
        "counted once in every table and figure."
    )
    if len(found) == 1:
        return [f"1 duplicate run ignored: `{found[0].run}` ({_reason(found[0])}). {rule}", ""]
    listed = [f"- `{d.run}` ({_reason(d)})" for d in found]
    return [f"{len(found)} duplicate runs ignored. {rule}", "", *listed, ""]


def _reason(dup: Duplicate) -> str:
    if not dup.differs:
        return f"same config as `{dup.kept}`"
    return f"same variant and seed as `{dup.kept}`; differs only in bookkeeping: {', '.join(dup.differs)}"


def _links(paths: dict[str, Path], out: Path) -> str:
    return " · ".join(f"[{ext}]({p.relative_to(out).as_posix()})" for ext, p in paths.items())


def commit_line(sweep: Sweep) -> str:
    """The commit(s) the runs ran on, from run.json's ``commit`` where the runs record it."""
    column = next((c for c in ("commit", "git_commit") if c in sweep.runs.columns), None)
    found = sorted({str(c) for c in sweep.runs[column].dropna()}) if column else []
    if not found:
        return "The runs do not record the commit they ran on (no `commit` in their run.json)."
    missing = int(sweep.runs[column].isna().sum()) if column else 0
    unknown = f"; {missing} runs record none" if missing else ""
    if len(found) == 1:
        return f"The runs ran on commit `{found[0]}`{unknown}."
    return f"The runs ran on {len(found)} commits: " + ", ".join(f"`{c}`" for c in found) + f"{unknown}."


def write_all(
    sweep: Sweep, out: str | Path, k: int = 16, target: float | None = None, baseline: str = "grpo"
) -> Path:
    """Every table and figure under ``out`` and an ``index.md`` linking them; returns the index.
    Every pass@k cell is compared with ``baseline`` (:class:`analysis.compare.Baseline`)."""
    out = Path(out)
    counts = sweep.runs["status"].value_counts()
    lines = [
        "# Sweep report",
        "",
        f"{len(sweep.runs)} runs: " + ", ".join(f"{n} {s}" for s, n in counts.items()) + ".",
        commit_line(sweep),
        "",
        *duplicate_lines(sweep),
        "Only finished runs are averaged; pass@k and accuracies are in % (points) everywhere.",
        f"The efficiency table and the training curves do not depend on k (here {k}); only the "
        "pass@k tables and figures do.",
        "",
        "## Tables",
        "",
    ]
    made = tables.all_tables(sweep, k=k, target=target, baseline=baseline)
    for table in made:
        lines.append(
            f"- **{table.title}.** {table.caption()} {_links(write_table(table, out / 'tables'), out)}"
        )
    reference = tables.paper_reference(made[0])
    caption = "Numbers the papers state, cited, beside ours where we ran the same method and model"
    paths = write_frame(reference, out / "tables", "paper_reference", caption)
    lines += [
        "",
        "## What the papers state (references, not our runs)",
        "",
        render.frame_to_markdown(reference),
        "",
        _links(paths, out),
        "",
        "## Figures",
        "",
    ]
    for stem, make in figures(sweep, k).items():
        png, pdf = plots.save(make(), out / "figures" / stem)
        lines.append(f"- {stem}: {_links({'png': png, 'pdf': pdf}, out)}")
    status = status_frame(sweep)
    status.to_csv(out / "tables" / "incomplete_runs.csv", index=False)
    lines += [
        "",
        "## Runs not finished (excluded from every table)",
        "",
        render.frame_to_markdown(status) if len(status) else "None.",
    ]
    if sweep.warnings:
        lines += ["", "## Skipped while loading", "", *(f"- {w}" for w in sweep.warnings)]
    index = out / "index.md"
    index.write_text("\n".join(lines) + "\n")
    return index
