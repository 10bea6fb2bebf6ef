"""The run-dir contract (issue 19): one bookkeeping table that run-dir names, the resume identity and
analysis's pooling all read, so a requeue with a longer time limit resumes its run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from analysis import variants
from harness import contract
from harness.config.schema import register_configs
from harness.plain import plain_dict
from harness.run.identity import config_hash, semantic_config
from harness.run.naming import overrides_name
from tests.sweeps.runs import multirun_in_process
from tests.train.runs import REPO

register_configs()

#: The resume identity's bookkeeping list before issue 19 (what older run.json hashes were made with).
OLD_IDENTITY = (
    "hydra",
    "logger",
    "resume",
    "cache_dir",
    "run_name",
    "distributed",
    "eval.progress",
    "eval.wandb",
    "eval.out_dir",
    "trainer.save_total_limit",
    "trainer.log_completions",
)
RESOURCE_AND_LOGGING = (
    "model.resources.timeout_min=600",
    "model.resources.gpus_per_node=8",
    "model.micro_batch_size=32",
    "model.gradient_checkpointing=true",
    "distributed=zero3",
    "eval.interval=5",
    "eval.batch_size=8",
    "trainer.save_steps=7",
    "logger=wandb",
    "logger.progress_bar=false",
)


def train_config(*overrides: str) -> dict:
    with initialize_config_dir(str(REPO / "conf"), version_base="1.3"):
        return plain_dict(compose("train", overrides=list(overrides)))


def test_conf_train_yaml_leaves_out_of_names_exactly_the_tables_dir_name_keys() -> None:
    hydra = yaml.safe_load((REPO / "conf" / "train.yaml").read_text())["hydra"]
    exclude = hydra["job"]["config"]["override_dirname"]["exclude_keys"]
    assert sorted(exclude) == sorted(contract.bookkeeping_keys("dir_name"))
    assert len(exclude) == len(set(exclude))


def test_every_key_of_the_table_is_a_key_of_the_config() -> None:
    flat = pd_keys(train_config())
    for row in contract.BOOKKEEPING:
        if row.key != "hydra":  # composed without the hydra node
            assert any(contract.covers(row.key, k) for k in flat), row.key


def pd_keys(data: dict, prefix: str = "") -> list[str]:
    out = []
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else key
        out += pd_keys(value, dotted) if isinstance(value, dict) and value else [dotted]
    return out


def test_names_and_identity_leave_out_the_same_keys_and_pooling_adds_only_the_seed() -> None:
    names, resume = contract.bookkeeping_keys("dir_name"), contract.bookkeeping_keys("resume")
    assert names == resume
    assert set(contract.bookkeeping_keys("pooling")) - set(resume) == {"trainer.seed"}


@pytest.mark.parametrize("override", RESOURCE_AND_LOGGING)
def test_resource_layout_and_logging_keys_change_no_name_no_identity_no_variant(override: str) -> None:
    base, changed = train_config(), train_config(override)
    assert config_hash(semantic_config(changed)) == config_hash(semantic_config(base))
    exclude = contract.bookkeeping_keys("dir_name")
    assert overrides_name([override, "trainer.seed=1"], exclude) == "trainer.seed-1"
    differs = [k for k in set(pd_keys(base)) | set(pd_keys(changed)) if _get(base, k) != _get(changed, k)]
    assert differs
    assert all(variants.is_bookkeeping(k) for k in differs), differs


def _get(data: dict, dotted: str) -> object:
    for part in dotted.split("."):
        data = data.get(part) if isinstance(data, dict) else None  # type: ignore[assignment]
    return data


@pytest.mark.parametrize("override", ["trainer.seed=1", "trainer.lr=0.001", "eval.n=4", "model=tiny-m"])
def test_what_is_trained_or_measured_changes_the_identity(override: str) -> None:
    assert config_hash(semantic_config(train_config(override))) != config_hash(
        semantic_config(train_config())
    )


def test_a_requeue_with_a_longer_timeout_resumes_a_run_recorded_under_the_old_table(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """The reported bug: raising model.resources.timeout_min made resume=auto refuse the run."""
    with initialize_config_dir(str(REPO / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=["trainer.seed=0"])
    run_dir = tmp_path / "trainer.seed-0"
    (run_dir / "checkpoints" / "checkpoint-20").mkdir(parents=True)
    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    old_hash = config_hash(contract.without(plain_dict(cfg), OLD_IDENTITY))  # counts model.resources
    (run_dir / "run.json").write_text(json.dumps({"status": "running", "config_hash": old_hash}))
    multirun_in_process(
        "trainer.seed=0",
        "model.resources.timeout_min=600",
        "logger=none",
        "hydra.launcher.dry_run=true",
        f"hydra.sweep.dir={tmp_path}",
    )
    out = capsys.readouterr().out.splitlines()
    assert out[1] == (
        "  #0 trainer.seed=0 model.resources.timeout_min=600 logger=none  "
        "resume: status running, same config: resume from checkpoint-20"
    )
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == ["trainer.seed-0"]  # no new run dir


def test_the_reader_drops_a_torn_last_line_and_raises_on_damage_before_it(tmp_path: Path) -> None:
    path = tmp_path / contract.METRICS_FILE
    path.write_text('{"step": 1, "train/loss": 0.5}\n\n{"step": 2}\n{"step": 3, "tr')
    rows, torn = contract.read_metrics(path)
    assert rows == [{"step": 1, "train/loss": 0.5}, {"step": 2}]
    assert torn is not None
    assert str(torn) == f"{path}:4: invalid JSON (Unterminated string starting at)"
    path.write_text('{"step": true}\n{"step": 2}\n')
    with pytest.raises(contract.DamagedMetrics, match=re.escape(f"{path}:1: {contract.NOT_A_ROW}")):
        contract.read_metrics(path)
    assert contract.read_metrics(tmp_path / "absent.jsonl") == ([], None)
