"""``model.warm_start.seed``: one warm start for every seed of a study, or one per seed (the default)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config.schema import ModelConfig, TaskConfig, WarmStartConfig
from harness.training import warmstart


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    seeds: list[int] = []

    def fake_train(model, task, seed: int, out: Path) -> None:
        seeds.append(seed)
        out.mkdir()

    monkeypatch.setattr(warmstart, "_train", fake_train)
    return seeds


def test_a_set_warm_start_seed_gives_every_run_seed_one_checkpoint(tmp_path: Path, built: list[int]) -> None:
    model = ModelConfig(build="tiny", warm_start=WarmStartConfig(steps=5, seed=7))
    paths = {warmstart.warm_start(model, TaskConfig(), seed, tmp_path) for seed in (0, 1, 2)}
    assert built == [7]
    per_seed = ModelConfig(build="tiny", warm_start=WarmStartConfig(steps=5))
    assert paths == {warmstart.warm_start(per_seed, TaskConfig(), 7, tmp_path)}  # the same entry as seed 7's
    assert built == [7]


def test_by_default_each_run_seed_has_its_own_warm_start(tmp_path: Path, built: list[int]) -> None:
    model = ModelConfig(build="tiny", warm_start=WarmStartConfig(steps=5))
    paths = {warmstart.warm_start(model, TaskConfig(), seed, tmp_path) for seed in (0, 1)}
    assert built == [0, 1]
    assert len(paths) == 2


def test_the_cache_key_of_a_per_seed_warm_start_is_unchanged() -> None:
    # the key before the field existed: existing caches stay valid
    model = ModelConfig(build="tiny", warm_start=WarmStartConfig(steps=1000))
    assert warmstart.cache_key(model, TaskConfig(n_operations=2, max_operand=12), 0) == "a80f406832734666"
