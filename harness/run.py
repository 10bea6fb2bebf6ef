"""The body of one training run: model, data, engine, evaluation, resume."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from transformers.trainer_callback import ProgressCallback
from trl import GRPOConfig

from harness import distributed
from harness.callbacks import EvalCallback, RewardProgressCallback, RunDirCallback
from harness.config import TrainConfig
from harness.engine import HarnessGRPOTrainer
from harness.models import load_pretrained
from harness.grading.trl import MathAccuracy, OneBoxFormat
from harness.rundir import CHECKPOINTS, MetricsLog, RunRecord, last_checkpoint
from harness.tasks.datasets import train_dataset


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def grpo_args(cfg: TrainConfig, run_dir: Path, world_size: int = 1) -> GRPOConfig:
    """TRL's ``GRPOConfig`` from ours: batch geometry, sampling, checkpoints, logging."""
    t, m = cfg.trainer, cfg.model
    per_step = t.generation_batch_size
    if per_step % (m.micro_batch_size * world_size):
        raise ValueError(
            f"trainer.prompts_per_step * trainer.group_size = {per_step} must be divisible by "
            f"model.micro_batch_size * world size = {m.micro_batch_size * world_size}"
        )
    cuda = torch.cuda.is_available()
    return GRPOConfig(
        output_dir=str(run_dir / CHECKPOINTS),
        max_steps=t.steps,
        learning_rate=t.lr,
        weight_decay=t.weight_decay,
        warmup_steps=int(t.warmup_ratio * t.steps),
        max_grad_norm=t.max_grad_norm,
        per_device_train_batch_size=m.micro_batch_size,
        gradient_accumulation_steps=per_step // (m.micro_batch_size * world_size),
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
        gradient_checkpointing=m.gradient_checkpointing,
        use_vllm=t.rollout == "vllm",
        vllm_mode="colocate",
        vllm_gpu_memory_utilization=t.vllm_gpu_memory_utilization,
        vllm_max_model_length=t.max_prompt_length + t.max_completion_length,
        log_completions=t.log_completions,
        report_to=["wandb"] if cfg.logger.wandb.mode != "disabled" else "none",
        run_name=RunRecord(run_dir).data.get("name"),
        disable_tqdm=not cfg.logger.progress_bar,
        dataloader_num_workers=0,
        **distributed.trainer_kwargs(cfg, world_size),  # ddp / zero3 when several processes
    )


def reward_funcs(cfg: TrainConfig) -> list[Any]:
    accuracy = MathAccuracy(cfg.trainer.reward_timeout_s)
    return [accuracy, OneBoxFormat()] if cfg.trainer.format_reward_weight else [accuracy]


def init_wandb(cfg: TrainConfig, raw: DictConfig, run_dir: Path, record: RunRecord) -> Any:
    """One W&B run per run dir; its id lives in run.json so a resumed run continues it."""
    w = cfg.logger.wandb
    if w.mode == "disabled":
        return None
    import wandb

    run = wandb.init(
        project=w.project, entity=w.entity or None, group=record.data.get("group") or None,
        name=record.data["name"], tags=record.data["tags"], id=record.data.get("wandb_id"),
        resume="allow", mode=w.mode, dir=str(run_dir),
        config=OmegaConf.to_container(raw, resolve=True),
    )
    record.update(wandb_id=run.id)
    return run


class Evaluator:
    """Evaluates the configured benchmarks at a step; logs to metrics.jsonl and W&B."""

    def __init__(self, cfg: TrainConfig, tokenizer: Any, run_dir: Path, metrics: MetricsLog, wandb_run: Any) -> None:
        self.cfg, self.tokenizer, self.run_dir = cfg, tokenizer, run_dir
        self.metrics, self.wandb_run = metrics, wandb_run

    def __call__(self, model: Any, step: int) -> dict[str, float]:
        if not self.cfg.benchmark:
            return {}
        from harness.eval.runner import evaluate, log_to_wandb

        was_training = model.training
        result = evaluate(model, self.tokenizer, self.cfg.benchmark, self.cfg.eval, step=step, run_dir=self.run_dir)
        model.train(was_training)
        self.metrics.write(step, result.metrics)
        if self.wandb_run is not None:
            log_to_wandb(result, step)
        return result.metrics


def build_trainer(cfg: TrainConfig, model: Any, tokenizer: Any, args: GRPOConfig) -> HarnessGRPOTrainer:
    trainer = HarnessGRPOTrainer(
        model=model,
        reward_funcs=reward_funcs(cfg),
        args=args,
        train_dataset=train_dataset(cfg.task),
        processing_class=tokenizer,
        method=cfg.method,
        scale_rewards=cfg.trainer.scale_rewards,
    )
    if cfg.logger.progress_bar:
        trainer.remove_callback(ProgressCallback)
        trainer.add_callback(RewardProgressCallback)
    return trainer


def execute(cfg: TrainConfig, raw: DictConfig, run_dir: Path, record: RunRecord, model_source: str) -> dict[str, float]:
    """Train (resuming from the run dir's last checkpoint), evaluate before and after."""
    args = grpo_args(cfg, run_dir, distributed.world_size())
    seed_everything(cfg.trainer.seed)
    model, tokenizer = load_pretrained(model_source, cfg.model.dtype)
    resume = last_checkpoint(run_dir)
    start_step = int(resume.name.split("-")[-1]) if resume else 0
    lead = distributed.is_main()  # several processes: rank 0 alone writes the run dir and W&B
    metrics = MetricsLog(run_dir, resume_step=start_step if lead else None)
    wandb_run = init_wandb(cfg, raw, run_dir, record) if lead else None
    trainer = build_trainer(cfg, model, tokenizer, args)
    distributed.add_callbacks(trainer, run_dir)
    trainer.tokens_seen = metrics.last("train/tokens")
    trainer.prompts_seen = metrics.last("train/prompts")
    evaluator = distributed.on_main(trainer, Evaluator(cfg, tokenizer, run_dir, metrics, wandb_run))
    trainer.add_callback(RunDirCallback(metrics, wall_offset=metrics.last("time/wall")))
    trainer.add_callback(EvalCallback(evaluator, cfg.eval.interval))
    before = evaluator(model, 0) if start_step == 0 else {}
    if resume:
        print(f"[harness] resuming from {resume}")
    trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    trainer.save_model(str(run_dir / "final"))
    after = evaluator(trainer.model, trainer.state.global_step)
    _report(before, after)
    if wandb_run is not None:
        wandb_run.finish()
    return after


def _report(before: dict[str, float], after: dict[str, float]) -> None:
    for key in sorted(k for k in after if k.startswith("eval/") and not k.startswith("eval/avg")):
        prev = before.get(key)
        tail = f"{prev:.3f} -> {after[key]:.3f}" if prev is not None else f"{after[key]:.3f}"
        print(f"[harness] held-out {key}: {tail}")
