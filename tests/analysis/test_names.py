"""Every model config and method choice has a display name (none is shown as its raw name)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from analysis import names

REPO = Path(__file__).resolve().parents[2]
MODEL_CONFIGS = sorted((REPO / "conf" / "model").glob("*.yaml"))


def test_there_are_model_configs() -> None:
    assert {"tiny.yaml", "tiny-m.yaml", "qwen3-4b.yaml"} <= {p.name for p in MODEL_CONFIGS}


@pytest.mark.parametrize("path", MODEL_CONFIGS, ids=lambda p: p.stem)
def test_every_model_config_has_a_display_name(path: Path) -> None:
    name = yaml.safe_load(path.read_text())["name"]
    assert name == path.stem  # the choice and the name a run records agree
    assert name in names.MODELS
    assert names.model(name) != name


def test_the_toy_models_read_as_toys() -> None:
    assert names.model("tiny") == "Tiny Qwen3 (toy)"
    assert names.model("tiny-m") == "Tiny-M Qwen3 (toy)"


def test_every_method_choice_has_a_display_name() -> None:
    from harness.methods import METHODS

    presets = {p.stem for p in (REPO / "conf" / "method").glob("*.yaml")}
    choices = set(METHODS) | presets
    assert {"grpo", "grpo_lambda", "gspo", "ptrace", "strace", "grpo_entropy_mask"} <= choices
    missing = sorted(c for c in choices if c not in names.METHODS)
    assert missing == []
    assert all(names.method(c) != c for c in choices)


def _ignored(path: str) -> bool:
    found = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=REPO, check=False)
    return found.returncode == 0


@pytest.mark.skipif(not (REPO / ".git").exists(), reason="not a git checkout")
def test_report_tables_under_docs_are_tracked_but_a_root_tables_dir_is_not() -> None:
    """`make tables` writes tables/ at the root (ignored); docs/results/*/tables are results."""
    assert _ignored("tables/main.md")
    assert not _ignored("docs/results/toy/tables/main.md")
    assert not _ignored("docs/results/toy/k1/tables/main.csv")
    assert not (REPO / "docs" / "results" / ".gitignore").exists()
