"""Run identity (issue 12): a run dir holds one semantic config; resume=auto|never|must."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from harness.config.schema import register_configs
from harness.errors import RunDirError
from harness.run.identity import config_diff, config_hash, decide, semantic_config
from harness.run.run_dir import RunRecord
from tests.train.runs import REPO

register_configs()


def semantic(*overrides: str) -> dict:
    with initialize_config_dir(str(REPO / "conf"), version_base="1.3"):
        return semantic_config(compose("train", overrides=list(overrides)))


def make_run(run_dir: Path, cfg: dict, status: str = "running") -> None:
    """A run dir as harness.train leaves it: config.yaml and run.json with the config's hash."""
    run_dir.mkdir(parents=True)
    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(cfg)))
    record = RunRecord(run_dir)
    record.start("grpo-tiny-s0", "", [], 60, config_hash=config_hash(cfg))
    if status == "finished":
        record.finish(60)


def test_bookkeeping_does_not_change_the_hash_but_anything_trained_or_measured_does() -> None:
    base = config_hash(semantic())
    for override in (
        "logger=none",
        "logger.wandb.mode=online",
        "logger.progress_bar=false",
        "resume=never",
        "cache_dir=/elsewhere",
        "run_name=x",
        "trainer.save_total_limit=5",
        "eval.progress=false",
    ):
        assert config_hash(semantic(override)) == base, override
    for override in (
        "trainer.seed=1",
        "method.clip_low=0.1",
        "eval.n=4",
        "benchmark.arith_test.n_problems=5",
        "task.max_operand=9",
        "trainer.steps=61",
    ):
        assert config_hash(semantic(override)) != base, override


def test_the_diff_names_each_changed_key_old_to_new() -> None:
    assert config_diff(semantic(), semantic("trainer.seed=1", "trainer.lr=0.001")) == [
        "trainer.lr: 0.0003 → 0.001",
        "trainer.seed: 0 → 1",
    ]
    assert config_diff({"a": {"b": 1}}, {"a": {"c": 2}}) == ['a.b: 1 → "(absent)"', 'a.c: "(absent)" → 2']


def test_auto_resumes_the_same_config_skips_it_finished_and_refuses_another(tmp_path: Path) -> None:
    cfg = semantic()
    assert decide(tmp_path / "new", cfg, "auto").action == "new"
    make_run(tmp_path / "partial", cfg)
    assert decide(tmp_path / "partial", cfg, "auto").action == "resume"
    make_run(tmp_path / "done", cfg, status="finished")
    assert decide(tmp_path / "done", cfg, "auto").action == "skip"
    changed = decide(tmp_path / "done", semantic("trainer.seed=1"), "auto")
    assert changed.action == "refuse"
    assert (
        f"{tmp_path / 'done'} holds a run (status finished) with a different config:\n  trainer.seed: 0 → 1\n"
        in changed.reason
    )
    with pytest.raises(RunDirError, match=re.escape("trainer.seed: 0 → 1")):
        changed.check()


def test_never_refuses_any_used_run_dir_and_must_refuses_an_empty_one(tmp_path: Path) -> None:
    cfg = semantic()
    make_run(tmp_path / "used", cfg, status="finished")
    assert decide(tmp_path / "used", cfg, "never").reason.startswith(
        f"resume=never: {tmp_path / 'used'} already holds a run (status finished)"
    )
    assert decide(tmp_path / "fresh", cfg, "never").action == "new"
    assert decide(tmp_path / "fresh", cfg, "must").reason.startswith(
        f"resume=must: nothing to resume in {tmp_path / 'fresh'}"
    )
    make_run(tmp_path / "partial", cfg)
    assert decide(tmp_path / "partial", cfg, "must").action == "resume"


def test_a_run_without_a_recorded_hash_is_identified_by_its_config_yaml(tmp_path: Path) -> None:
    cfg = semantic()
    make_run(tmp_path / "old", cfg)
    data = json.loads((tmp_path / "old" / "run.json").read_text())
    del data["config_hash"]  # run dirs written before the hash existed
    (tmp_path / "old" / "run.json").write_text(json.dumps(data))
    assert decide(tmp_path / "old", cfg, "auto").action == "resume"
    assert decide(tmp_path / "old", semantic("eval.n=4"), "auto").action == "refuse"


def test_run_json_names_the_commit_of_the_source_that_ran(tmp_path: Path) -> None:
    """The analysis report names it; ``+dirty`` marks modified tracked files."""
    import subprocess

    make_run(tmp_path / "run", semantic())
    commit = json.loads((tmp_path / "run" / "run.json").read_text())["commit"]
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True)
    assert commit.removesuffix("+dirty") == head.stdout.strip()
