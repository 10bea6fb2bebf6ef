"""Checkpoints: a damaged one is named, set aside (not deleted) and the previous intact one used;
a checkpoint only appears under its real name once complete."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from transformers import Qwen3Config, Qwen3ForCausalLM

from harness.run.checkpoints import SET_ASIDE, STAGING, AtomicCheckpoints, damage, resumable_checkpoint
from harness.run.run_dir import CHECKPOINTS


@pytest.fixture(scope="module")
def model() -> Qwen3ForCausalLM:
    config = Qwen3Config(
        vocab_size=32,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        intermediate_size=32,
        head_dim=8,
    )
    return Qwen3ForCausalLM(config)


def write_checkpoint(run_dir: Path, step: int, model: Qwen3ForCausalLM) -> Path:
    """The files transformers' Trainer writes for a checkpoint, in their real formats."""
    ckpt = run_dir / CHECKPOINTS / f"checkpoint-{step}"
    model.save_pretrained(ckpt)
    optimizer = torch.optim.AdamW(model.parameters())
    torch.save(optimizer.state_dict(), ckpt / "optimizer.pt")
    torch.save({"last_epoch": step}, ckpt / "scheduler.pt")
    torch.save({"cpu": torch.get_rng_state()}, ckpt / "rng_state.pth")
    torch.save({"seed": 0}, ckpt / "training_args.bin")
    (ckpt / "trainer_state.json").write_text(json.dumps({"global_step": step, "log_history": []}))
    return ckpt


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_an_intact_checkpoint_has_no_damage(tmp_path: Path, model) -> None:
    assert damage(write_checkpoint(tmp_path, 2, model)) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("model.safetensors", "model.safetensors cannot be loaded (SafetensorError"),
        ("optimizer.pt", "optimizer.pt cannot be loaded (BadZipFile"),
        ("rng_state.pth", "rng_state.pth cannot be loaded (BadZipFile"),
        ("trainer_state.json", "trainer_state.json cannot be loaded (JSONDecodeError"),
    ],
)
def test_a_truncated_file_is_named(tmp_path: Path, model, name: str, expected: str) -> None:
    ckpt = write_checkpoint(tmp_path, 2, model)
    truncate(ckpt / name)
    assert damage(ckpt).startswith(expected)


def test_a_missing_file_or_a_wrong_step_is_named(tmp_path: Path, model) -> None:
    ckpt = write_checkpoint(tmp_path, 2, model)
    (ckpt / "optimizer.pt").unlink()
    assert damage(ckpt) == "optimizer.pt is missing"
    other = write_checkpoint(tmp_path, 4, model)
    (other / "trainer_state.json").write_text(json.dumps({"global_step": 3}))
    assert damage(other) == "trainer_state.json says global_step 3, not 4"


def test_resume_sets_a_damaged_checkpoint_aside_and_uses_the_previous(tmp_path: Path, model, caplog) -> None:
    """Defect 5: a truncated file in the last checkpoint used to make every re-run fail."""
    write_checkpoint(tmp_path, 2, model)
    newest = write_checkpoint(tmp_path, 4, model)
    truncate(newest / "model.safetensors")
    with caplog.at_level(logging.WARNING):
        assert resumable_checkpoint(tmp_path, max_step=4) == tmp_path / CHECKPOINTS / "checkpoint-2"
    moved = tmp_path / CHECKPOINTS / SET_ASIDE / "checkpoint-4"
    assert not newest.exists()
    assert (moved / "model.safetensors").exists()
    assert (moved / "REASON.txt").read_text().startswith("model.safetensors cannot be loaded")
    assert f"checkpoint {newest} not used: model.safetensors cannot be loaded" in caplog.text


def test_resume_ignores_steps_beyond_the_run_and_unfinished_saves(tmp_path: Path, model) -> None:
    write_checkpoint(tmp_path, 2, model)
    write_checkpoint(tmp_path, 9, model)  # trainer.steps=8: never resume past the end
    write_checkpoint(tmp_path / CHECKPOINTS / STAGING, 4, model)  # a save cut short by a kill
    assert resumable_checkpoint(tmp_path, max_step=8) == tmp_path / CHECKPOINTS / "checkpoint-2"
    assert (
        tmp_path / CHECKPOINTS / SET_ASIDE / "checkpoint-9" / "REASON.txt"
    ).read_text() == "beyond trainer.steps=8\n"
    assert not (tmp_path / CHECKPOINTS / STAGING).exists()
    assert resumable_checkpoint(tmp_path / "empty", max_step=8) is None


class _Trainer:
    """The few members of transformers' Trainer that AtomicCheckpoints uses."""

    def __init__(self, root: Path) -> None:
        self.args = SimpleNamespace(output_dir=str(root), should_save=True, save_total_limit=2)
        self.state = SimpleNamespace(global_step=0, best_model_checkpoint=None)
        self.accelerator = SimpleNamespace(wait_for_everyone=lambda: None)
        self.visible_while_saving: list[list[str]] = []

    def _get_output_dir(self, trial):
        return self.args.output_dir

    def _save_checkpoint(self, model, trial):
        out = Path(self._get_output_dir(trial)) / f"checkpoint-{self.state.global_step}"
        out.mkdir(parents=True)
        (out / "trainer_state.json").write_text(json.dumps({"global_step": self.state.global_step}))
        self.visible_while_saving.append(
            sorted(p.name for p in Path(self.args.output_dir).glob("checkpoint-*"))
        )


class _Atomic(AtomicCheckpoints, _Trainer):
    pass


def test_a_checkpoint_appears_under_its_name_only_when_complete(tmp_path: Path) -> None:
    trainer = _Atomic(tmp_path)
    for step in (2, 4, 6):
        trainer.state.global_step = step
        trainer._save_checkpoint(None, None)
    assert trainer.visible_while_saving == [[], ["checkpoint-2"], ["checkpoint-2", "checkpoint-4"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-4", "checkpoint-6"]  # rotated to 2
