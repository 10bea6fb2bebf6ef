"""Test-wide settings: nothing downloads, W&B stays offline, runs are small."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")


from pathlib import Path

import pytest

from harness.config.schema import register_configs
from harness.methods import METHODS as REGISTERED

register_configs()  # what the entry points (harness.train.cli, harness.eval cli) do before composing


METHODS = sorted(REGISTERED)


@pytest.fixture(scope="session")
def warm_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One warm-start cache for the whole session: the first run makes it, the rest reuse it."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def method_runs(tmp_path_factory: pytest.TempPathFactory, warm_cache: Path) -> dict[str, Path]:
    """A real tiny 'sweep': every method trained for 2 steps through the CLI, one run dir each."""
    from tests.train.runs import run_train

    root = tmp_path_factory.mktemp("sweep")
    runs = {m: root / m for m in METHODS}
    for method, run_dir in runs.items():
        run_train(run_dir, warm_cache, f"method={method}", "trainer.steps=2")
    return runs
