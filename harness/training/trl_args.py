"""The TRL seam of the config: ``trl.GRPOConfig`` from the harness's config, and the checks on the
``trainer.trl`` passthrough (every key a ``GRPOConfig`` field the harness does not set itself), run by
preflight before any compute; the reward functions TRL calls."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from trl import GRPOConfig

from harness.config.schema import TrainConfig, accumulation_steps
from harness.contract import CHECKPOINTS
from harness.errors import ConfigError
from harness.grading.trl import MathAccuracy, OneBoxFormat
from harness.run.run_dir import RunRecord
from harness.training import distributed


def grpo_args(cfg: TrainConfig, run_dir: Path, world_size: int = 1) -> GRPOConfig:
    """TRL's ``GRPOConfig``: ours (``grpo_kwargs``) plus the ``trainer.trl`` passthrough."""
    check_trl_passthrough(cfg, world_size)
    try:
        return GRPOConfig(**grpo_kwargs(cfg, run_dir, world_size), **cfg.trainer.trl)
    except (TypeError, ValueError) as err:  # a passthrough value GRPOConfig rejects
        raise ConfigError(f"trainer.trl: {err}") from None


DEPRECATED_ALIASES = {  # TrainingArguments' old names, which the new ones silently override
    "gradient_checkpointing": "activation_checkpointing",
    "gradient_checkpointing_kwargs": "activation_checkpointing_kwargs",
}


def check_trl_passthrough(cfg: TrainConfig, world_size: int = 1) -> None:
    """Every ``trainer.trl`` key is a ``GRPOConfig`` field the harness does not set itself."""
    known = {f.name for f in dataclasses.fields(GRPOConfig)}
    ours = set(grpo_kwargs(cfg, Path("."), world_size))
    ours |= {old for old, new in DEPRECATED_ALIASES.items() if new in ours}
    for key in cfg.trainer.trl:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(f"trainer.trl.{key}: not a field of trl.GRPOConfig{hint}")
        if key in ours:
            raise ConfigError(
                f"trainer.trl.{key}: the harness sets it from its own config "
                "(trainer.*, model.*, method.*); set it there"
            )


def grpo_kwargs(cfg: TrainConfig, run_dir: Path, world_size: int = 1) -> dict[str, Any]:
    """The ``GRPOConfig`` fields the harness sets: batch geometry, sampling, schedule, checkpoints."""
    t, m = cfg.trainer, cfg.model
    accumulation = accumulation_steps(cfg, world_size)
    cuda = torch.cuda.is_available()
    return dict(
        output_dir=str(run_dir / CHECKPOINTS),
        max_steps=t.steps,
        learning_rate=t.lr,
        lr_scheduler_type=t.lr_scheduler,
        weight_decay=t.weight_decay,
        warmup_steps=int(t.warmup_ratio * t.steps),
        max_grad_norm=t.max_grad_norm,
        per_device_train_batch_size=m.micro_batch_size,
        steps_per_generation=accumulation * t.mini_batches,  # micro-steps per rollout
        gradient_accumulation_steps=accumulation,
        num_generations=t.group_size,
        num_iterations=t.ppo_epochs,
        max_completion_length=t.max_completion_length,
        temperature=t.temperature,
        top_p=t.top_p,
        beta=getattr(cfg.method, "beta", 0.0),
        scale_rewards=t.scale_rewards,
        reward_weights=[1.0, t.format_reward_weight] if t.format_reward_weight else None,
        logging_steps=1,
        save_strategy="steps",
        save_steps=t.save_steps,
        save_total_limit=t.save_total_limit,
        seed=t.seed,
        data_seed=t.seed,
        use_cpu=not cuda,
        bf16=cuda and m.dtype == "bfloat16",
        activation_checkpointing=m.gradient_checkpointing,  # transformers 5 name of gradient checkpointing
        use_vllm=t.rollout == "vllm",
        vllm_mode="colocate",
        vllm_gpu_memory_utilization=t.vllm_gpu_memory_utilization,
        vllm_max_model_length=t.max_prompt_length + t.max_completion_length,
        log_completions=t.log_completions,
        report_to="none",  # W&B mirrors metrics.jsonl instead (harness.run.wandb_log): our keys, our config
        run_name=RunRecord(run_dir).data.get("name"),
        disable_tqdm=not cfg.logger.progress_bar,
        dataloader_num_workers=0,
        **distributed.trainer_kwargs(cfg, world_size),  # ddp / zero3 when several processes
    )


def reward_funcs(cfg: TrainConfig) -> list[Callable[..., list[float]]]:
    accuracy = MathAccuracy(cfg.trainer.reward_timeout_s)
    return [accuracy, OneBoxFormat()] if cfg.trainer.format_reward_weight else [accuracy]
