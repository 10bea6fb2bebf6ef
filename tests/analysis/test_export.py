"""Markdown / LaTeX / CSV renderings and the ``python -m analysis.tables`` CLI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from synthetic_runs import SyntheticSweeps

from analysis import export, load, tables

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def main_table(sweeps: SyntheticSweeps) -> tables.Table:
    return tables.main_table(load.load_sweeps(sweeps.main))


def test_markdown_bolds_best_and_footnotes_gaps(main_table: tables.Table) -> None:
    md = export.to_markdown(main_table)
    lines = md.splitlines()
    assert "| model | method | aime24 | math500 | avg |" in lines
    strace = next(ln for ln in lines if ln.startswith("| tiny | strace |"))
    assert strace.count("**") == 6  # best in all three columns
    assert "| tiny-m | gspo | —<sup>2</sup> | —<sup>2</sup> | —<sup>2</sup> |" in lines
    assert "<sup>2</sup> tiny-m / gspo: no run  " in lines


def test_latex_is_booktabs(main_table: tables.Table) -> None:
    tex = export.to_latex(main_table)
    for token in (r"\toprule", r"\midrule", r"\bottomrule", r"\begin{tabular}{llrrr}", r"\label{tab:main}"):
        assert token in tex
    assert r"tiny-m & gspo & ---\textsuperscript{2}" in tex
    assert re.search(r"tiny & strace & \\textbf\{[\d.]+ \$\\pm\$ [\d.]+\}", tex)
    assert "±" not in tex and "—" not in tex


def test_csv_holds_the_unscaled_numbers(main_table: tables.Table, tmp_path: Path) -> None:
    paths = export.write_table(main_table, tmp_path)
    frame = pd.read_csv(paths["csv"]).set_index(["model", "method"])
    assert frame.at[("tiny", "strace"), "avg"] == pytest.approx(main_table.mean.at[("tiny", "strace"), "avg"])
    assert frame.at[("tiny", "strace"), "avg std"] == pytest.approx(main_table.std.at[("tiny", "strace"), "avg"])
    assert frame.at[("tiny-m", "gspo"), "avg n"] == 0 and frame.at[("tiny-m", "gspo"), "notes"].endswith("no run")


def test_cli_writes_every_table_and_figure_with_an_index(sweeps: SyntheticSweeps, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert export.main([str(sweeps.main), str(sweeps.ablation), "--out", str(out)]) == 0
    index = (out / "index.md").read_text()
    links = re.findall(r"\]\(([^)]+)\)", index)
    assert links and all((out / link).is_file() for link in links)
    for name in ("main", "efficiency", "lambda_ablation", "quantile_ablation", "placement_ablation"):
        assert {f"tables/{name}.{ext}" for ext in ("md", "tex", "csv")} <= set(links)
    for name in ("reward_mean_vs_step", "reward_mean_vs_tokens", "accuracy_vs_step", "pass_at_k", "lam_ablation"):
        assert {f"figures/{name}.png", f"figures/{name}.pdf"} <= set(links)
    assert (out / "figures" / "pass_at_k.png").read_bytes()[:4] == b"\x89PNG"
    assert "gspo-tiny-s1 | failed" in index  # unfinished runs are listed


def test_module_entry_point_runs_cleanly(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "analysis.tables", "--help"], cwd=REPO,
                          capture_output=True, text=True, check=True)
    assert "--out" in proc.stdout and "RuntimeWarning" not in proc.stderr
    bad = subprocess.run([sys.executable, "-m", "analysis.tables", str(tmp_path / "nope"), "--out", str(tmp_path)],
                         cwd=REPO, capture_output=True, text=True)
    assert bad.returncode == 2 and "not a directory" in bad.stderr
