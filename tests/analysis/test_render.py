"""Markdown / LaTeX / CSV renderings: display names, captions, CIs, bold, footnoted gaps."""

from __future__ import annotations

import re

import pytest
from synthetic_runs import SyntheticSweeps

from analysis import load, render, tables


@pytest.fixture(scope="module")
def main_table(sweeps: SyntheticSweeps) -> tables.Table:
    return tables.main_table(load.load_sweeps(sweeps.main))


def test_markdown_has_display_names_caption_bold_best_and_footnotes(
    main_table: tables.Table,
) -> None:
    lines = render.to_markdown(main_table).splitlines()
    assert lines[0] == f"**pass@16 per benchmark and their average, per model.** {main_table.caption()}"
    assert lines[2] == "| model | method | AIME24 | MATH-500 | Avg. | Δ avg vs GRPO | P(> GRPO) |"
    assert lines[3] == "|---|---|---:|---:|---:|---:|---:|"
    strace = next(ln for ln in lines if ln.startswith("| Tiny Qwen3 (toy) | S-trace |"))
    assert (
        strace.count("**") == 2 * main_table.best.loc[("tiny", "strace")].sum() > 0
    )  # bold: Δ's CI excludes 0
    # footnote 2 is GSPO's paired Δ on tiny (its seed 0 only)
    row = ("tiny", "gspo")
    cells = [main_table.text(row, c) for c in main_table.columns()]
    bold = [
        f"**{t}**" if main_table.is_best(row, c) else t
        for t, c in zip(cells, main_table.columns(), strict=False)
    ]
    assert (
        f"| Tiny Qwen3 (toy) | GSPO | {bold[0]}<sup>1</sup> | {bold[1]}<sup>1</sup> | {bold[2]}<sup>1</sup> | "
        f"{cells[3]}<sup>2</sup> | {cells[4]} |" in lines
    )
    assert (
        "<sup>2</sup> Δ avg vs GRPO is over seed 0 only, the ones both have (this variant: seed 0; GRPO: seeds 0, 1).  "
        in lines
    )
    assert "| Tiny-M Qwen3 (toy) | GSPO | —<sup>3</sup> | —<sup>3</sup> | —<sup>3</sup> | — |  |" in lines
    assert "<sup>3</sup> Tiny-M Qwen3 (toy) / GSPO: no run  " in lines
    assert not any("grpo" in ln or "math500" in ln for ln in lines[2:12])


def test_latex_is_booktabs_with_escaped_display_names(main_table: tables.Table) -> None:
    tex = render.to_latex(main_table)
    for token in (
        r"\toprule",
        r"\midrule",
        r"\bottomrule",
        r"\begin{tabular}{llrrrrr}",
        r"\label{tab:main}",
        r"model & method & AIME24 & MATH-500 & Avg. & $\Delta$ avg vs GRPO & P(> GRPO) \\",
        r"\caption{pass@16 per benchmark and their average, per model. Each cell: the mean over n = 1--2",
    ):
        assert token in tex
    assert r"Tiny-M Qwen3 (toy) & GSPO & ---\textsuperscript{3}" in tex
    assert re.search(r"Tiny Qwen3 \(toy\) & S-trace & [\d.]+ \[[\d.]+, [\d.]+\] \(n=2\) & ", tex)
    assert re.search(r"\\textbf\{[\d.]+ \[[\d.]+, [\d.]+\] \(n=2\)\}", tex)
    assert not set("±—–λΔ") & set(tex)


def test_csv_holds_full_precision_numbers_in_the_tables_unit(main_table: tables.Table) -> None:
    frame = render.to_csv_frame(main_table).set_index(["model.name", "method.name"])
    row = ("tiny", "strace")
    assert frame.at[row, "avg"] == pytest.approx(100 * main_table.mean.at[row, "avg"])
    assert frame.at[row, "avg std"] == pytest.approx(100 * main_table.std.at[row, "avg"])
    assert frame.at[row, "avg n"] == 2
    ci, found = main_table.ci[(row, "avg")], main_table.paired[(row, "avg")]
    assert (frame.at[row, "avg ci low"], frame.at[row, "avg ci high"]) == pytest.approx(
        (100 * ci.low, 100 * ci.high)
    )
    assert [frame.at[row, f"avg {c}"] for c in ("Δ", "Δ low", "Δ high", "P(>base)")] == pytest.approx(
        [100 * found.delta.value, 100 * found.delta.low, 100 * found.delta.high, found.better.value]
    )
    assert frame.at[("tiny-m", "gspo"), "avg n"] == 0
    assert frame.at[("tiny-m", "gspo"), "notes"] == "Tiny-M Qwen3 (toy) / GSPO: no run"
    delta = tables.delta_column("GRPO")
    assert frame.at[row, delta] == main_table.extra.at[row, delta]


def test_plain_frames_render_too() -> None:
    import pandas as pd

    frame = pd.DataFrame({"a|b": ["x", None], "λ": [1.5, "—"]})
    assert render.frame_to_markdown(frame) == "| a\\|b | λ |\n|---|---|\n| x | 1.5 |\n|  | — |"
    tex = render.frame_to_latex(frame, "Cap λ", "lab")
    assert r"\caption{Cap $\lambda$}" in tex
    assert r"a|b & $\lambda$ \\" in tex
    assert r" & --- \\" in tex


def test_ablation_csv_headers_name_the_key(sweeps: SyntheticSweeps) -> None:
    table = tables.ablation_table(load.load_sweeps(sweeps.ablation), "lam", k=16)
    frame = render.to_csv_frame(table)
    assert list(frame.columns) == [
        "model.name",
        "method.name",
        "method.placement",
        "method.lam=0.9",
        "method.lam=0.9 std",
        "method.lam=0.9 n",
        "method.lam=0.9 ci low",
        "method.lam=0.9 ci high",
        "method.lam=0.99",
        "method.lam=0.99 std",
        "method.lam=0.99 n",
        "method.lam=0.99 ci low",
        "method.lam=0.99 ci high",
        "notes",  # no GRPO in this sweep: no Δ columns
    ]
    ratio = frame.set_index("method.placement").loc["ratio"]
    assert ratio["method.lam=0.99"] == pytest.approx(
        100 * table.mean.at[("tiny", "grpo_lambda", "ratio"), 0.99]
    )
    assert ratio["method.lam=0.99 n"] == 2
    # the main table keeps the raw benchmark names
    assert list(render.to_csv_frame(tables.main_table(load.load_sweeps(sweeps.main))).columns)[2:5] == [
        "aime24",
        "aime24 std",
        "aime24 n",
    ]
