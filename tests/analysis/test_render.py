"""Markdown / LaTeX / CSV renderings: display names, captions, bold best, footnoted gaps."""

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
    assert lines[2] == "| model | method | AIME24 | MATH-500 | Avg. | Δ avg vs GRPO |"
    assert lines[3] == "|---|---|---:|---:|---:|---:|"
    strace = next(ln for ln in lines if ln.startswith("| Tiny Qwen3 (toy) | S-trace |"))
    assert strace.count("**") == 6  # best in all three columns
    # footnote 2 is GSPO's paired Δ on tiny (its seed 0 only)
    assert (
        "| Tiny Qwen3 (toy) | GSPO | 62.9<sup>1</sup> | 87.4<sup>1</sup> | 75.2<sup>1</sup> | +2.4<sup>2</sup> |"
        in lines
    )
    assert (
        "<sup>2</sup> Δ avg vs GRPO is over seed 0 only, the ones both have (this variant: seed 0; GRPO: seeds 0, 1).  "
        in lines
    )
    assert "| Tiny-M Qwen3 (toy) | GSPO | —<sup>3</sup> | —<sup>3</sup> | —<sup>3</sup> | — |" in lines
    assert "<sup>3</sup> Tiny-M Qwen3 (toy) / GSPO: no run  " in lines
    assert not any("grpo" in ln or "math500" in ln for ln in lines[2:12])


def test_latex_is_booktabs_with_escaped_display_names(main_table: tables.Table) -> None:
    tex = render.to_latex(main_table)
    for token in (
        r"\toprule",
        r"\midrule",
        r"\bottomrule",
        r"\begin{tabular}{llrrrr}",
        r"\label{tab:main}",
        r"model & method & AIME24 & MATH-500 & Avg. & $\Delta$ avg vs GRPO \\",
        r"\caption{pass@16 per benchmark and their average, per model. Mean $\pm$ sample",
    ):
        assert token in tex
    assert r"Tiny-M Qwen3 (toy) & GSPO & ---\textsuperscript{3}" in tex
    assert re.search(r"Tiny Qwen3 \(toy\) & S-trace & \\textbf\{[\d.]+ \$\\pm\$ [\d.]+\}", tex)
    assert not set("±—–λΔ") & set(tex)


def test_csv_holds_full_precision_numbers_in_the_tables_unit(main_table: tables.Table) -> None:
    frame = render.to_csv_frame(main_table).set_index(["model.name", "method.name"])
    assert frame.at[("tiny", "strace"), "avg"] == pytest.approx(
        100 * main_table.mean.at[("tiny", "strace"), "avg"]
    )
    assert frame.at[("tiny", "strace"), "avg std"] == pytest.approx(
        100 * main_table.std.at[("tiny", "strace"), "avg"]
    )
    assert frame.at[("tiny", "strace"), "avg n"] == 2
    assert frame.at[("tiny-m", "gspo"), "avg n"] == 0
    assert frame.at[("tiny-m", "gspo"), "notes"] == "Tiny-M Qwen3 (toy) / GSPO: no run"
    assert frame.at[("tiny", "strace"), tables.DELTA] == main_table.extra.at[("tiny", "strace"), tables.DELTA]


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
        "method.lam=0.99",
        "method.lam=0.99 std",
        "method.lam=0.99 n",
        "notes",
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
