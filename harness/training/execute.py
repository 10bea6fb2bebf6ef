"""The body of one training run: model, data, engine, evaluation, resume.

A resume starts from the newest intact checkpoint (``harness.run.checkpoints``) and forgets every
metrics row and evaluation after it, so replayed steps are written exactly once. A run whose
newest checkpoint is its last step only finishes: ``final/``, the final evaluation, the status.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import torch
from omegaconf import DictConfig
from transformers import PreTrainedModel, PreTrainedTokenizerBase
from transformers.trainer_callback import ProgressCallback
from trl import GRPOConfig

from harness import contract
from harness.config.schema import TrainConfig, WandbMode
from harness.plain import plain_dict
from harness.problems.dataset import rows_dataset
from harness.run import faults
from harness.run.checkpoints import resumable_checkpoint
from harness.run.run_dir import (
    FINAL,
    METRICS_FILE,
    MetricsLog,
    RunRecord,
    checkpoint_step,
    discard_evals_after,
    publish_dir,
    read_metrics,
)
from harness.run.wandb_log import mirror
from harness.training import distributed
from harness.training.callbacks import EvalCallback, RewardProgressCallback, RunDirCallback
from harness.training.engine import HarnessGRPOTrainer
from harness.training.models import load_pretrained
from harness.training.trl_args import grpo_args, reward_funcs

if TYPE_CHECKING:
    from wandb.sdk.wandb_run import Run as WandbRun

FINAL_STAGING = ".final.staging"


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def init_wandb(cfg: TrainConfig, raw: DictConfig, run_dir: Path, record: RunRecord) -> WandbRun | None:
    """One W&B run per run dir; its id lives in run.json so a resumed run continues it."""
    w = cfg.logger.wandb
    if w.mode == "disabled":
        return None
    import wandb

    run = wandb.init(
        project=w.project,
        entity=w.entity or None,
        group=record.data.get("group") or None,
        name=record.data["name"],
        tags=record.data["tags"],
        id=record.data.get("wandb_id"),
        resume="allow",
        mode=cast(WandbMode, w.mode),  # one of WANDB_MODES (checked by the schema)
        dir=str(run_dir),
        config=plain_dict(raw),
    )
    record.update(wandb_id=run.id)
    return run


class Evaluator:
    """Evaluates the configured benchmarks at a step; logs to metrics.jsonl and W&B.

    A step already evaluated (its metrics row and summary written) is not evaluated again: its
    stored metrics are returned, so a re-run never repeats nor duplicates an evaluation. With
    ``warm_start`` (the cached warm start the run starts from), step 0 is evaluated once per warm
    start and protocol and copied into every run that starts from it (``harness.eval.start_cache``).
    """

    def __init__(
        self,
        cfg: TrainConfig,
        tokenizer: PreTrainedTokenizerBase,
        run_dir: Path,
        metrics: MetricsLog,
        wandb_run: WandbRun | None,
        warm_start: Path | None = None,
    ) -> None:
        self.cfg, self.tokenizer, self.run_dir = cfg, tokenizer, run_dir
        self.metrics, self.wandb_run = metrics, wandb_run
        self.warm_start = warm_start

    def stored(self, step: int) -> dict[str, float] | None:
        row = self.metrics.get("eval", step)
        if row is None or not (contract.step_dir(self.run_dir, step) / contract.SUMMARY).is_file():
            return None
        return {k: v for k, v in row.items() if k != "step"}

    def __call__(self, model: Any, step: int) -> dict[str, float]:
        if not self.cfg.benchmark:
            return {}
        done = self.stored(step)
        if done is not None:
            return done
        from harness.eval import start_cache
        from harness.eval.runner import evaluate, log_to_wandb, step_dir

        shared = None
        if step == 0 and self.warm_start is not None:
            shared = start_cache.start_eval_dir(self.warm_start, self.cfg.eval, self.cfg.benchmark)
            kept = start_cache.reuse(shared, step_dir(self.run_dir, 0))
            if kept is not None:
                faults.point("eval")
                self.metrics.write(step, kept)
                return kept
        was_training = model.training
        result = evaluate(
            model, self.tokenizer, self.cfg.benchmark, self.cfg.eval, step=step, run_dir=self.run_dir
        )
        model.train(was_training)
        if shared is not None:
            start_cache.keep(result.out_dir, shared)
        faults.point("eval")
        self.metrics.write(step, result.metrics)
        if self.wandb_run is not None:
            log_to_wandb(result, step, metrics=False)  # the row itself went through the metrics mirror
        return result.metrics


def build_trainer(
    cfg: TrainConfig,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    args: GRPOConfig,
    rows: list[dict[str, str]],
) -> HarnessGRPOTrainer:
    trainer = HarnessGRPOTrainer(
        model=model,
        reward_funcs=reward_funcs(cfg),
        args=args,
        train_dataset=rows_dataset(rows),
        processing_class=tokenizer,
        method=cfg.method,
        scale_rewards=cfg.trainer.scale_rewards,
    )
    if cfg.logger.progress_bar:
        trainer.remove_callback(ProgressCallback)
        trainer.add_callback(RewardProgressCallback)
    return trainer


def _model_source(cfg: TrainConfig, cache: Path) -> str:
    if not cfg.model.build:
        return cfg.model.source
    from harness.training.warmstart import warm_start

    return str(distributed.rank_zero_first(warm_start, cfg.model, cfg.task, cfg.trainer.seed, cache))


def _last(rows: list[dict[str, Any]], key: str) -> float:
    values = [r[key] for r in rows if key in r]
    return values[-1] if values else 0.0


def execute(
    cfg: TrainConfig,
    raw: DictConfig,
    run_dir: Path,
    record: RunRecord,
    rows: list[dict[str, str]],
    cache: Path,
) -> dict[str, float]:
    """Train (resuming from the run dir's newest intact checkpoint), evaluate before and after."""
    lead = distributed.is_main()  # several processes: rank 0 alone writes the run dir and W&B
    resume = distributed.rank_zero_first(resumable_checkpoint, run_dir, cfg.trainer.steps)
    start = checkpoint_step(resume) if resume else 0
    metrics: MetricsLog | None = None
    if lead:
        shutil.rmtree(run_dir / FINAL_STAGING, ignore_errors=True)
        metrics = MetricsLog(run_dir, keep_upto=start)  # rows after the checkpoint will be replayed
        discard_evals_after(run_dir, start)
    if resume and start >= cfg.trainer.steps:
        return (
            finish_from_checkpoint(cfg, raw, run_dir, record, metrics, resume) if metrics is not None else {}
        )
    source = _model_source(cfg, cache)  # the warm start's trainer first: it sets up accelerate's state
    args = grpo_args(cfg, run_dir, distributed.world_size())
    seed_everything(cfg.trainer.seed)
    model, tokenizer = load_pretrained(source, cfg.model.dtype)
    wandb_run = init_wandb(cfg, raw, run_dir, record) if lead else None
    if metrics is not None and wandb_run is not None:
        metrics.mirrors.append(mirror(wandb_run))
    trainer = build_trainer(cfg, model, tokenizer, args, rows)
    distributed.add_callbacks(trainer, run_dir)
    done = (
        metrics.rows
        if metrics is not None
        else [r for r in read_metrics(run_dir / METRICS_FILE)[0] if r["step"] <= start]
    )
    trainer.tokens_seen = _last(done, contract.TOKENS)
    trainer.prompts_seen = _last(done, contract.PROMPTS)
    warm = Path(source) if cfg.model.build else None  # a cached warm start: its step-0 eval is shared
    evaluate = (
        Evaluator(cfg, tokenizer, run_dir, metrics, wandb_run, warm) if metrics is not None else _off_main
    )
    evaluator = distributed.on_main(trainer, evaluate)
    if metrics is not None:
        trainer.add_callback(RunDirCallback(metrics, wall_offset=_last(done, contract.WALL)))
    trainer.add_callback(EvalCallback(evaluator, cfg.eval.interval))
    before = evaluator(model, 0)  # stored, if step 0 was already evaluated
    if resume:
        print(f"[harness] resuming from {resume}")
    trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    trainer.save_model(str(run_dir / FINAL_STAGING))
    trainer.accelerator.wait_for_everyone()
    if lead:
        publish_dir(run_dir / FINAL_STAGING, run_dir / FINAL)
    after = evaluator(trainer.model, trainer.state.global_step)
    _report(before, after)
    if wandb_run is not None:
        wandb_run.finish()
    return after


def _off_main(model: Any, step: int) -> dict[str, float]:
    """Ranks other than 0 evaluate nothing (``distributed.on_main`` never calls this)."""
    return {}


def finish_from_checkpoint(
    cfg: TrainConfig, raw: DictConfig, run_dir: Path, record: RunRecord, metrics: MetricsLog, checkpoint: Path
) -> dict[str, float]:
    """The last step's checkpoint exists (a kill came after it): write ``final/`` and the final
    evaluation from it, without training."""
    step = checkpoint_step(checkpoint)
    print(f"[harness] {checkpoint} is the last step ({step}): finishing without training")
    model, tokenizer = load_pretrained(str(checkpoint), cfg.model.dtype)
    model.save_pretrained(run_dir / FINAL_STAGING)
    tokenizer.save_pretrained(run_dir / FINAL_STAGING)
    publish_dir(run_dir / FINAL_STAGING, run_dir / FINAL)
    wandb_run = init_wandb(cfg, raw, run_dir, record)
    if wandb_run is not None:
        metrics.mirrors.append(mirror(wandb_run))
    evaluator = Evaluator(cfg, tokenizer, run_dir, metrics, wandb_run)
    after = evaluator(model, step)
    _report(evaluator.stored(0) or {}, after)
    if wandb_run is not None:
        wandb_run.finish()
    return after


def _report(before: dict[str, float], after: dict[str, float]) -> None:
    def show(value: float | None) -> str:
        return "nan" if value is None else f"{value:.3f}"

    avg = contract.eval_key(contract.AVG, "")
    for key in sorted(k for k in after if k.startswith(contract.EVAL) and not k.startswith(avg)):
        tail = f"{show(before[key])} -> {show(after[key])}" if key in before else show(after[key])
        print(f"[harness] held-out {key}: {tail}")
