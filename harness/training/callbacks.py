"""Trainer callbacks: the run directory's metrics, periodic evaluation, the progress bar."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from transformers import TrainerCallback
from transformers.trainer_callback import ProgressCallback

from harness import contract
from harness.methods.quadrants import MASS_KEYS, shares
from harness.run import faults
from harness.run.run_dir import MetricsLog

# TRL's log keys -> the run directory's (harness.contract, docs/run_dir.md).
TRAIN_KEYS = {
    "reward": contract.REWARD,
    "reward_std": contract.REWARD_STD,
    "rewards/math_reward/mean": contract.ACCURACY,
    "completions/mean_length": contract.RESPONSE_LENGTH,
    "method/clip_frac": contract.CLIP_FRAC,
    "entropy": contract.ENTROPY,
    "method/kl": contract.KL,
    "harness/tokens": contract.TOKENS,
    "harness/prompts": contract.PROMPTS,
    "loss": contract.LOSS,
    "grad_norm": contract.GRAD_NORM,
    "learning_rate": contract.LR,
}


def train_row(logs: dict[str, Any], wall: float) -> dict[str, Any]:
    """One ``metrics.jsonl`` training line from a TRL log dict."""
    row = {ours: logs[theirs] for theirs, ours in TRAIN_KEYS.items() if theirs in logs}
    extra = {
        f"{contract.TRAIN}{k}": v for k, v in logs.items() if k.startswith("method/") and k not in TRAIN_KEYS
    }
    row.update(extra)
    masses = {key: logs[f"method/{key}"] for key in MASS_KEYS if f"method/{key}" in logs}
    row.update({f"{contract.QUADRANT}{q}": share for q, share in shares(masses).items()})
    row[contract.WALL] = wall
    return row


class RunDirCallback(TrainerCallback):
    """Writes each training log line to ``metrics.jsonl`` (main process only); one row per step,
    replaced if a resumed run logs that step again."""

    def __init__(self, metrics: MetricsLog, wall_offset: float = 0.0) -> None:
        self.metrics = metrics
        self.start = time.time() - wall_offset

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and logs and "loss" in logs:
            self.metrics.write(state.global_step, train_row(logs, time.time() - self.start))

    def on_pre_optimizer_step(self, args, state, control, **kwargs):
        faults.point("step")  # tests/reliability: a kill in the middle of a step


class EvalCallback(TrainerCallback):
    """Runs ``evaluate(model, step)`` every ``interval`` optimizer steps (0: never during training)."""

    def __init__(self, evaluate: Callable[[Any, int], object], interval: int) -> None:
        self.evaluate = evaluate
        self.interval = interval

    def on_step_end(self, args, state, control, model=None, **kwargs):
        step = state.global_step
        if self.interval and step % self.interval == 0 and step < state.max_steps:
            self.evaluate(model, step)


class RewardProgressCallback(ProgressCallback):
    """transformers' progress bar (steps, ETA) with reward and accuracy instead of raw log dicts."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and self.training_bar is not None and logs and "reward" in logs:
            acc = logs.get("rewards/math_reward/mean", float("nan"))
            self.training_bar.set_postfix(reward=f"{logs['reward']:.3f}", acc=f"{acc:.3f}")
