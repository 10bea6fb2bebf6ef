"""``python -m analysis``: a whole report; the package's modules import without a cycle."""

from __future__ import annotations

import ast
import graphlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
from synthetic_runs import SyntheticSweeps

from analysis import cli

REPO = Path(__file__).resolve().parents[2]


def test_report_links_every_table_and_figure(sweeps: SyntheticSweeps, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert cli.main([str(sweeps.main), str(sweeps.ablation), "--out", str(out)]) == 0
    index = (out / "index.md").read_text()
    links = re.findall(r"\]\(([^)]+)\)", index)
    assert links
    assert all((out / link).is_file() for link in links)
    names = [
        "main",
        "efficiency",
        "paper_reference",
        "ablation_method.lam",
        "ablation_method.placement",
        "ablation_method.entropy_quantile",
    ]
    assert {f"tables/{n}.{ext}" for n in names for ext in ("md", "tex", "csv")} <= set(links)
    figures = [
        "reward_mean_vs_step",
        "reward_mean_vs_tokens",
        "accuracy_vs_step",
        "pass_at_k",
        "ablation_method.lam",
        "ablation_method.placement",
        "ablation_method.entropy_quantile",
    ]
    assert {f"figures/{n}.{ext}" for n in figures for ext in ("png", "pdf")} <= set(links)
    assert (out / "figures" / "pass_at_k.png").read_bytes()[:4] == b"\x89PNG"
    assert "| gspo-tiny-s1 | failed | RuntimeError: CUDA out of memory |" in index  # unfinished runs listed
    assert "20 runs: 15 finished, 4 failed, 1 running." in index


def test_a_sweep_that_varies_no_axis_gets_no_ablation(sweeps: SyntheticSweeps, tmp_path: Path) -> None:
    assert cli.main([str(sweeps.main), "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in (tmp_path / "tables").glob("*.md")) == [
        "efficiency.md",
        "main.md",
        "paper_reference.md",
    ]
    assert not list((tmp_path / "figures").glob("ablation_*"))


def test_a_k_beyond_the_samples_is_reported(
    sweeps: SyntheticSweeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([str(sweeps.main), "--out", str(tmp_path), "--k", "64"]) == 0
    assert capsys.readouterr().err == (
        "warning: the runs sampled at most 32 completions per problem, so pass@64 is empty; try --k 32\n"
    )


def test_module_entry_points(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "analysis", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--out" in proc.stdout
    assert proc.stderr == ""
    bad = subprocess.run(
        [sys.executable, "-m", "analysis", str(tmp_path / "nope"), "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert f"not a directory: {tmp_path / 'nope'}" in bad.stderr
    old = subprocess.run(
        [sys.executable, "-m", "analysis.tables", "x"], cwd=REPO, capture_output=True, text=True
    )
    assert old.returncode == 1
    assert old.stderr == "the report command is `python -m analysis <sweep_dir...> --out <dir>`\n"


def _imports(path: Path) -> set[str]:
    """analysis.* modules ``path`` imports at run time (``if TYPE_CHECKING:`` blocks left out)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            node.body = []
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("analysis"):
            found |= (
                {f"analysis.{a.name}" for a in node.names} if node.module == "analysis" else {node.module}
            )
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("analysis.")}
    return found


def test_no_import_cycle_in_the_analysis_package() -> None:
    modules = {f"analysis.{p.stem}": p for p in (REPO / "analysis").glob("*.py") if p.stem != "__init__"}
    graph = {name: _imports(path) & set(modules) for name, path in modules.items()}
    order = list(graphlib.TopologicalSorter(graph).static_order())  # raises CycleError on a cycle
    assert order.index("analysis.render") < order.index("analysis.table") < order.index("analysis.tables")
    assert [name for name, deps in graph.items() if "analysis.cli" in deps] == ["analysis.__main__"]


@pytest.mark.parametrize("module", ["analysis.render", "analysis.names", "analysis.table"])
def test_renderers_read_no_files(module: str) -> None:
    source = (REPO / f"{module.replace('.', '/')}.py").read_text()
    assert "open(" not in source
    assert "read_text" not in source
    assert "load_sweeps" not in source


def test_baseline_flag_picks_the_variant_every_delta_compares_with(
    sweeps: SyntheticSweeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([str(sweeps.main), "--out", str(tmp_path), "--baseline", "gspo"]) == 0
    main = (tmp_path / "tables" / "main.md").read_text()
    assert "| Δ avg vs GSPO | P(> GSPO) |" in main
    assert "Bold: the paired Δ vs GSPO" in main
    index = (tmp_path / "index.md").read_text()
    assert "The runs do not record the commit they ran on (no `commit` in their run.json)." in index
    with pytest.raises(SystemExit):
        cli.main([str(sweeps.main), "--out", str(tmp_path), "--baseline", "grpo,lam"])
    assert capsys.readouterr().err.endswith(
        "error: baseline 'grpo,lam': 'lam' is not key=value (e.g. grpo,method.lam=0.9)\n"
    )
