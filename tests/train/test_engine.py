"""The TRL adapter: loss and gradient accumulation equal one big batch; configs fail early."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from hydra.errors import ConfigCompositionException

from harness.config.schema import ConfigError, accumulation_steps, register_configs, validate
from harness.train import run_name
from harness.training.engine import HarnessGRPOTrainer
from harness.training.trl_args import grpo_args
from tests.train.trainers import compose_train, random_batch, tiny_trainer

register_configs()


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("method.lam=1.5", "method.lam"),
        ("method.entropy_quantile=0", "method.entropy_quantile"),
        ("method.style=forward", "method.style"),
        ("method.loss_agg=sum", "method.loss_agg"),
        ("method.clip_low=-0.1", "method.clip_low"),
        ("trainer.group_size=1", "trainer.group_size"),
        ("trainer.top_p=0", "trainer.top_p"),
        ("task.source=csv", "task.source"),
        ("eval.k=[1,64]", "eval.k"),
    ],
)
def test_out_of_range_values_fail_naming_the_key(override: str, key: str) -> None:
    method = (
        "method=strace"
        if "entropy" in override or "lam" in override or "style" in override
        else "method=grpo"
    )
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        validate(compose_train(method, override))


def test_typo_fails_at_composition() -> None:
    with pytest.raises(ConfigCompositionException, match="lamda"):
        compose_train("method=ptrace", "method.lamda=0.9")


def test_overrides_reach_the_method_dataclass() -> None:
    cfg = validate(
        compose_train(
            "method=grpo_lambda",
            "method.lam=0.95",
            "method.style=recent",
            "model=qwen3-1.7b",
            "trainer.group_size=16",
            "model.path=/models/q",
        )
    )
    assert (cfg.method.name, cfg.method.lam, cfg.method.style, cfg.method.adv_clamp) == (
        "grpo_lambda",
        0.95,
        "recent",
        -0.1,
    )
    assert cfg.model.source == "/models/q"
    assert cfg.model.dtype == "bfloat16"
    assert cfg.trainer.group_size == 16


def test_the_batch_geometry_is_checked_and_computed_in_one_place(tmp_path: Path) -> None:
    cfg = validate(
        compose_train("trainer.prompts_per_step=4", "trainer.group_size=4", "model.micro_batch_size=4")
    )
    assert accumulation_steps(cfg, 2) == grpo_args(cfg, tmp_path, 2).gradient_accumulation_steps == 2
    with pytest.raises(ConfigError, match=r"= 16 must be divisible by .* world size = 1 \* 4 \* 3"):
        accumulation_steps(cfg, 3)


def _grads(trainer: HarnessGRPOTrainer, parts: list[dict], gas: int) -> torch.Tensor:
    trainer.model.zero_grad()
    trainer.model.train()
    trainer.current_gradient_accumulation_steps = gas
    trainer.args.steps_per_generation = gas
    total = sum(trainer._compute_loss(trainer.model, p) for p in parts)
    total.backward()
    return torch.cat(
        [p.grad.flatten() for p in trainer.model.parameters() if p.grad is not None]
    ), total.detach()


@pytest.mark.parametrize("method", ["grpo", "grpo_lambda", "ptrace"])
@pytest.mark.parametrize(
    "agg", ["token-mean", "seq-mean-token-mean", "seq-mean-token-sum", "seq-mean-token-sum-norm"]
)
def test_gradient_accumulation_equals_one_big_batch(method: str, agg: str, tmp_path: Path) -> None:
    trainer = tiny_trainer(method, tmp_path, f"method.loss_agg={agg}")
    batch = random_batch()
    halves = [{k: v if v.dim() == 0 else v[i * 8 : (i + 1) * 8] for k, v in batch.items()} for i in range(2)]
    g_big, l_big = _grads(trainer, [batch], gas=1)
    g_acc, l_acc = _grads(trainer, halves, gas=2)
    assert torch.allclose(l_acc, l_big, rtol=1e-5, atol=1e-7)
    assert torch.allclose(g_acc, g_big, rtol=1e-4, atol=1e-7)


def test_non_finite_loss_stops_with_a_clear_error(tmp_path: Path) -> None:
    trainer = tiny_trainer("grpo", tmp_path)
    batch = random_batch()
    batch["advantages"] = torch.full((16,), float("nan"))
    trainer.model.train()
    trainer.current_gradient_accumulation_steps = 1
    with pytest.raises(FloatingPointError, match="non-finite loss"):
        trainer._compute_loss(trainer.model, batch)


def test_mini_batches_scheduler_and_trl_passthrough_reach_grpo_config(tmp_path: Path) -> None:
    """64 samples per rollout, micro-batches of 8, 4 mini-batches: 8 micro-steps a rollout, 2 per update."""
    cfg = validate(
        compose_train(
            "method=grpo",
            "trainer.prompts_per_step=8",
            "trainer.group_size=8",
            "model.micro_batch_size=8",
            "trainer.mini_batches=4",
            "trainer.ppo_epochs=2",
            "trainer.lr_scheduler=constant",
            "+trainer.trl.mask_truncated_completions=true",
            "+trainer.trl.top_k=5",
        )
    )
    args = grpo_args(cfg, tmp_path)
    assert (args.steps_per_generation, args.gradient_accumulation_steps, args.num_iterations) == (8, 2, 2)
    assert args.generation_batch_size == 64
    assert args.lr_scheduler_type == "constant"
    assert args.mask_truncated_completions is True
    assert args.top_k == 5
    assert args.report_to == []  # W&B mirrors metrics.jsonl itself (harness.run.wandb_log)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "+trainer.trl.mask_truncated_completion=true",
            "trainer.trl.mask_truncated_completion: not a field of trl.GRPOConfig; did you mean mask_truncated_completions",
        ),
        (
            "+trainer.trl.learning_rate=0.1",
            "trainer.trl.learning_rate: the harness sets it from its own config",
        ),
        (
            "+trainer.trl.gradient_checkpointing=true",  # the old name of activation_checkpointing
            "trainer.trl.gradient_checkpointing: the harness sets it from its own config",
        ),
        ("trainer.mini_batches=3", "must be divisible by trainer.mini_batches * model.micro_batch_size"),
        ("trainer.lr_scheduler=triangle", "trainer.lr_scheduler: must be one of linear, cosine"),
    ],
)
def test_trainer_config_errors_name_the_key(override: str, message: str, tmp_path: Path) -> None:
    def build() -> None:
        cfg = validate(
            compose_train(
                "method=grpo",
                "trainer.prompts_per_step=4",
                "trainer.group_size=4",
                "model.micro_batch_size=4",
                override,
            )
        )
        grpo_args(cfg, tmp_path)

    with pytest.raises(ConfigError, match=re.escape(message)):
        build()


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        (["method=grpo"], "grpo-tiny-s0"),
        (["method=strace"], "strace-lam0.99-q0.2-tiny-s0"),
        (["method=strace", "method.loss_mask=true"], "strace-lam0.99-q0.2-loss_mask-tiny-s0"),
        (["method=grpo_lambda", "method.lam=0.9"], "grpo_lambda-lam0.9-tiny-s0"),
        (["method=grpo_lambda", "method.form=lag"], "grpo_lambda-lam0.99-lag-tiny-s0"),
        (
            ["method=grpo_lambda", "method.placement=weight", "trainer.seed=2"],
            "grpo_lambda-lam0.99-weight-tiny-s2",
        ),
    ],
)
def test_run_names_tell_apart_runs_whose_knobs_differ(overrides: list[str], name: str) -> None:
    assert run_name(validate(compose_train(*overrides))) == name
