"""Where the time of a toy study goes: warm start, RL step phases, evaluation; before vs after.

    python -m bench.profile_step [--steps 8] [--warm-steps 40] [--threads 1]

Every number is measured in this one process, so the ratios hold on a loaded machine even
when the seconds do not. For each setting (before: the old toy protocol,
``trainer=cpu``; after: the credit study's, sweeps/credit_main.yaml) it
times, on the same warm-started tiny model:

* the RL optimizer step, split into generation (``_generate``), reward scoring
  (``_calculate_rewards``), the rest of TRL's rollout bookkeeping (old/ref log-probs, padding,
  advantages), the loss forward (``_compute_loss``), backward, optimizer and what is left
  (TRL/Trainer overhead: dataloader, logging, callbacks);
* one evaluation of the run's benchmarks (``harness.eval.runner.evaluate``);
* the supervised warm start per SFT step, at 1 and 2 torch threads (two 1-thread jobs beat
  one 2-thread job when the second thread buys less than 2x);

then the estimated wall time of one run (steps x step + 2 evaluations) and of one warm start.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from hydra import compose, initialize_config_dir
from transformers import TrainerCallback
from transformers.trainer_callback import PrinterCallback, ProgressCallback

from harness.config import TrainConfig, register_configs, validate
from harness.engine import HarnessGRPOTrainer
from harness.models import load_pretrained
from harness.tasks.datasets import train_dataset
from harness.training_run import grpo_args, reward_funcs, seed_everything
from harness.warmstart import warm_start

CONF = Path(__file__).resolve().parents[1] / "conf"
CACHE = Path(".cache/harness").resolve()
BEFORE = ["trainer=cpu"]
AFTER = [
    "trainer=cpu_ppo",
    "model.warm_start.steps=600",
    "benchmark.arith_test.n_problems=400",
    "eval.n=4",
    "eval.k=[1,4]",
]  # as sweeps/credit_main.yaml
OVERRIDES = (("before", BEFORE), ("after", AFTER))
PHASES = ("generate", "score", "rollout_rest", "loss_fwd", "backward", "optimizer", "overhead")


def compose_cfg(overrides: list[str]) -> TrainConfig:
    register_configs()
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return validate(compose("train", overrides=["method=grpo", "logger=none", *overrides]))


class Clock:
    """Seconds per phase, accumulated by wrapped trainer methods and callbacks."""

    def __init__(self) -> None:
        self.total: dict[str, float] = defaultdict(float)

    def wrap(self, obj: Any, name: str, phase: str) -> None:
        inner: Callable[..., Any] = getattr(obj, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.total[phase] += time.perf_counter() - t

        setattr(obj, name, timed)


class PhaseCallback(TrainerCallback):
    def __init__(self, clock: Clock) -> None:
        self.clock, self.steps = clock, 0
        self.clip_frac: list[float] = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "method/clip_frac" in logs:
            self.clip_frac.append(logs["method/clip_frac"])

    def on_step_begin(self, args, state, control, **kwargs):
        self._step = time.perf_counter()

    def on_pre_optimizer_step(self, args, state, control, **kwargs):
        self._opt = time.perf_counter()

    def on_optimizer_step(self, args, state, control, **kwargs):
        self.clock.total["optimizer"] += time.perf_counter() - self._opt

    def on_step_end(self, args, state, control, **kwargs):
        self.clock.total["step"] += time.perf_counter() - self._step
        self.steps += 1


def rl_phases(cfg: TrainConfig, model_path: str, steps: int) -> dict[str, float]:
    """Seconds per optimizer step of each phase (the first rollout's steps are warm-up, dropped)."""
    seed_everything(cfg.trainer.seed)
    model, tok = load_pretrained(model_path)
    with tempfile.TemporaryDirectory() as tmp:
        args = grpo_args(cfg, Path(tmp))
        args.max_steps = steps
        args.save_strategy, args.disable_tqdm, args.report_to = "no", True, "none"
        trainer = HarnessGRPOTrainer(
            model=model,
            reward_funcs=reward_funcs(cfg),
            args=args,
            train_dataset=train_dataset(cfg.task),
            processing_class=tok,
            method=cfg.method,
            scale_rewards=cfg.trainer.scale_rewards,
        )
        clock = Clock()
        clock.wrap(trainer, "_generate", "generate")
        clock.wrap(trainer, "_calculate_rewards", "score")
        clock.wrap(trainer, "_generate_and_score_completions", "rollout")
        clock.wrap(trainer, "_compute_loss", "loss_fwd")
        clock.wrap(trainer, "training_step", "train_step")
        clock.wrap(trainer, "_prepare_inputs", "prepare")
        callback = PhaseCallback(clock)
        for cb in (PrinterCallback, ProgressCallback):
            trainer.remove_callback(cb)
        trainer.add_callback(callback)
        trainer.train()
    t = clock.total
    out = {
        "generate": t["generate"],
        "score": t["score"],
        "rollout_rest": t["rollout"] - t["generate"] - t["score"],
        "loss_fwd": t["loss_fwd"],
        "backward": t["train_step"] - t["prepare"] - t["loss_fwd"],
        "optimizer": t["optimizer"],
    }
    out["overhead"] = t["step"] - sum(out.values())
    out["step"] = t["step"]
    out = {k: v / callback.steps for k, v in out.items()}
    out["clip_frac"] = sum(callback.clip_frac) / max(1, len(callback.clip_frac))
    return out


def eval_seconds(cfg: TrainConfig, model_path: str) -> float:
    from harness.eval.runner import evaluate

    model, tok = load_pretrained(model_path)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        evaluate(model, tok, cfg.benchmark, cfg.eval, step=0, run_dir=Path(tmp))
        return time.perf_counter() - t


def sft_seconds_per_step(cfg: TrainConfig, steps: int) -> float:
    """Seconds per SFT step of the warm start (``steps`` steps, trained in a scratch dir)."""
    from dataclasses import replace

    from trl import SFTTrainer

    from harness.warmstart import _train

    model_cfg = replace(cfg.model, warm_start=replace(cfg.model.warm_start, steps=steps))
    clock = Clock()  # train() alone: not the dataset's tokenization, paid once per warm start
    clock.wrap(SFTTrainer, "train", "train")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            _train(model_cfg, cfg.task, cfg.trainer.seed, Path(tmp) / "out")
    finally:
        del SFTTrainer.train  # the wrapper was set on the class; the inherited method shows again
    return clock.total["train"] / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8, help="optimizer steps timed per setting")
    parser.add_argument("--warm-steps", type=int, default=40, help="SFT steps timed per thread count")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for the RL/eval timings")
    parser.add_argument(
        "--model-warm-steps",
        type=int,
        default=400,
        help="SFT steps of the warm starts the RL steps are timed on (both settings; the warm-start "
        "time reported is each setting's own steps x the measured time per step)",
    )
    ns = parser.parse_args()
    settings = {"before": compose_cfg(BEFORE), "after": compose_cfg(AFTER)}
    profiled = {n: compose_cfg([*o, f"model.warm_start.steps={ns.model_warm_steps}"]) for n, o in OVERRIDES}
    torch.set_num_threads(ns.threads)
    rows: dict[str, dict[str, float]] = {}
    for name, cfg in settings.items():
        model = profiled[name].model
        path = str(warm_start(model, cfg.task, cfg.trainer.seed, CACHE))
        t = cfg.trainer
        warmup = t.mini_batches * t.ppo_epochs  # the first rollout pays first-call costs
        rl_phases(cfg, path, warmup)
        rows[name] = rl_phases(cfg, path, max(ns.steps, warmup) + warmup)
        rows[name]["eval"] = eval_seconds(cfg, path)
        rows[name]["run"] = t.steps * rows[name]["step"] + 2 * rows[name]["eval"]
    sft = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        sft[threads] = {n: sft_seconds_per_step(c, ns.warm_steps) for n, c in settings.items()}
    torch.set_num_threads(ns.threads)
    for name, cfg in settings.items():
        rows[name]["sft_step"] = sft[1][name]
        rows[name]["warm_start"] = cfg.model.warm_start.steps * sft[1][name]
    report(settings, rows, sft, ns.threads)


def report(
    settings: dict[str, TrainConfig],
    rows: dict[str, dict[str, float]],
    sft: dict[int, dict[str, float]],
    threads: int,
) -> None:
    for name, cfg in settings.items():
        t, e = cfg.trainer, cfg.eval
        bench = ", ".join(f"{b.name} {b.n_problems}" for b in cfg.benchmark.values())
        print(
            f"{name}: {t.prompts_per_step}x{t.group_size} per rollout, {t.mini_batches} mini-batches, "
            f"{t.max_completion_length} new tokens, {t.steps} steps; eval {bench} problems x {e.n}; "
            f"warm start {cfg.model.warm_start.steps} SFT steps; {threads} torch thread(s)"
        )
    print(f"\n{'seconds per optimizer step':<28}{'before':>9}{'after':>9}{'after/before':>14}")
    b, a = rows["before"], rows["after"]
    for key in (*PHASES, "step"):
        share = f"  ({100 * b[key] / b['step']:.0f}% / {100 * a[key] / a['step']:.0f}%)"
        print(f"{key:<28}{b[key]:>9.3f}{a[key]:>9.3f}{a[key] / b[key]:>14.2f}{share}")
    print(f"\n{'seconds per':<28}{'before':>9}{'after':>9}{'after/before':>14}")
    for key, label in (
        ("eval", "evaluation"),
        ("run", "RL run (steps + 2 evals)"),
        ("sft_step", "warm-start SFT step"),
        ("warm_start", "warm start"),
    ):
        print(f"{label:<28}{b[key]:>9.2f}{a[key]:>9.2f}{a[key] / b[key]:>14.2f}")
    print(f"mean train/clip_frac (GRPO): before {b['clip_frac']:.4f}, after {a['clip_frac']:.4f}")
    for name in settings:
        ratio = sft[1][name] / sft[2][name]
        print(f"warm start ({name}): 2 threads are {ratio:.2f}x as fast as 1 (two 1-thread jobs: 2x)")


if __name__ == "__main__":
    main()
