"""A real HarnessGRPOTrainer on the tiny model, and a random micro-batch for its loss: no generation."""

from __future__ import annotations

from pathlib import Path

import torch
from hydra import compose, initialize_config_dir

from harness.config.schema import validate
from harness.problems.dataset import train_dataset
from harness.training.engine import HarnessGRPOTrainer
from harness.training.models import build_tiny
from harness.training.trl_args import grpo_args, reward_funcs

CONF = str(Path(__file__).resolve().parents[2] / "conf")


def compose_train(*overrides: str):
    with initialize_config_dir(CONF, version_base="1.3"):
        return compose("train", overrides=list(overrides))


def tiny_trainer(method: str, tmp_path: Path, *overrides: str) -> HarnessGRPOTrainer:
    """The adapter as a run builds it (4 prompts x 4 samples, micro-batch 8), for ``method``."""
    cfg = validate(
        compose_train(
            f"method={method}",
            "logger=none",
            "trainer.prompts_per_step=4",
            "trainer.group_size=4",
            "model.micro_batch_size=8",
            "task.n_problems=16",
            *overrides,
        )
    )
    model, tok = build_tiny("tiny", seed=0)
    return HarnessGRPOTrainer(
        model=model,
        reward_funcs=reward_funcs(cfg),
        args=grpo_args(cfg, tmp_path),
        train_dataset=train_dataset(cfg.task),
        processing_class=tok,
        method=cfg.method,
        scale_rewards="group",
    )


def random_batch(n: int = 16, prompt: int = 5, comp: int = 7) -> dict[str, torch.Tensor]:
    """What TRL's rollout hands ``_compute_loss``: ragged completions, random advantages (seed 0)."""
    g = torch.Generator().manual_seed(0)
    lengths = torch.randint(1, comp + 1, (n,), generator=g)
    mask = (torch.arange(comp)[None] < lengths[:, None]).long()
    return {
        "prompt_ids": torch.randint(0, 300, (n, prompt), generator=g),
        "prompt_mask": torch.ones(n, prompt, dtype=torch.long),
        "completion_ids": torch.randint(0, 300, (n, comp), generator=g),
        "completion_mask": mask,
        "advantages": torch.randn(n, generator=g),
        "num_items_in_batch": mask.sum(),
    }
