"""Where the time of a toy study goes: warm start, RL step phases, evaluation; before vs after.

    python -m bench.profile_step [--steps 8] [--warm-steps 20] [--repeats 3]

Before: the old toy protocol (``trainer=cpu``, a 1000-step warm start per seed, two 300 x 16
evaluations per run); after: the credit study's (sweeps/credit_main.yaml: ``trainer=cpu_ppo``, one
600-step warm start for every seed, 400 x 4 evaluations, the step-0 one made once per study). Both
are timed in this one process, interleaved and repeated (medians), on the same warm-started tiny
model at 1 torch thread, so the ratios hold on a loaded machine even when the seconds do not:

* the RL optimizer step, split into generation (``_generate``), reward scoring
  (``_calculate_rewards``), the rest of TRL's rollout bookkeeping (old/ref log-probs, padding,
  advantages), the loss forward (``_compute_loss``), backward, optimizer and what is left
  (TRL/Trainer overhead: dataloader, logging, callbacks);
* one evaluation of the run's benchmarks (``harness.eval.runner.evaluate``);
* a warm-start SFT step, at 1 and 2 torch threads (two 1-thread jobs beat one 2-thread job
  when the second thread buys less than 2x);

then the cost of one run, one warm start and a whole study (``--runs``, ``--seeds``) in job-seconds,
and the study's wall-time ratio with the old launch (1 job, 2 threads) vs the new (2 jobs, 1 thread).
"""

from __future__ import annotations

import argparse
import statistics
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

from harness.config.schema import TrainConfig, register_configs, validate
from harness.engine import HarnessGRPOTrainer
from harness.problems.dataset import train_dataset
from harness.training.execute import seed_everything
from harness.training.models import load_pretrained
from harness.training.trl_args import grpo_args, reward_funcs
from harness.training.warmstart import warm_start

CONF = Path(__file__).resolve().parents[1] / "conf"
CACHE = Path(".cache/harness").resolve()
BEFORE = ["trainer=cpu"]
AFTER = [
    "trainer=cpu_ppo",
    "model.warm_start.steps=600",
    "model.warm_start.seed=0",
    "benchmark.arith_test.n_problems=400",
    "eval.n=4",
    "eval.k=[1,4]",
]  # as sweeps/credit_main.yaml
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

    from harness.training.warmstart import _train

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
    parser.add_argument("--steps", type=int, default=8, help="optimizer steps timed per setting and repeat")
    parser.add_argument(
        "--warm-steps", type=int, default=20, help="SFT steps timed per thread count and repeat"
    )
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats (the median is reported)")
    parser.add_argument("--runs", type=int, default=35, help="runs of the study costed at the end")
    parser.add_argument("--seeds", type=int, default=5, help="seeds of the study costed at the end")
    parser.add_argument(
        "--model-warm-steps",
        type=int,
        default=600,
        help="SFT steps of the one warm start both settings' RL steps and evaluations are timed on "
        "(the credit study's; the warm-start times reported are each setting's own steps x the "
        "measured time per SFT step)",
    )
    ns = parser.parse_args()
    settings = {"before": compose_cfg(BEFORE), "after": compose_cfg(AFTER)}
    shared = compose_cfg([*AFTER, f"model.warm_start.steps={ns.model_warm_steps}"])
    path = str(warm_start(shared.model, shared.task, 0, CACHE))
    torch.set_num_threads(1)
    for cfg in settings.values():  # first-call costs (allocator, tokenizer, generate's setup)
        rl_phases(cfg, path, cfg.trainer.mini_batches * cfg.trainer.ppo_epochs)
    samples: dict[str, list[dict[str, float]]] = defaultdict(list)
    sft: dict[int, list[float]] = defaultdict(list)
    for _ in range(ns.repeats):  # interleaved, so a change of the machine's load hits both settings
        for name, cfg in settings.items():
            t = cfg.trainer
            steps = max(ns.steps, t.mini_batches) // t.mini_batches * t.mini_batches  # whole rollouts
            samples[name].append({**rl_phases(cfg, path, steps), "eval": eval_seconds(cfg, path)})
        for threads in (1, 2):
            torch.set_num_threads(threads)
            sft[threads].append(sft_seconds_per_step(shared, ns.warm_steps))
        torch.set_num_threads(1)
    rows = {n: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for n, rs in samples.items()}
    sft_step = {n: statistics.median(v) for n, v in sft.items()}
    report(settings, rows, sft_step, ns)


def study_seconds(
    cfg: TrainConfig, row: dict[str, float], sft_step: float, ns: argparse.Namespace
) -> dict[str, float]:
    """Job-seconds of a study of ``ns.runs`` runs over ``ns.seeds`` seeds with this setting."""
    shared = cfg.model.warm_start.seed is not None  # one warm start, one step-0 evaluation per study
    run = cfg.trainer.steps * row["step"] + (1 if shared else 2) * row["eval"]
    warm = cfg.model.warm_start.steps * sft_step
    return {
        "run": run,
        "warm_start": warm,
        "study": ns.runs * run + (1 if shared else ns.seeds) * warm + (row["eval"] if shared else 0.0),
    }


def report(
    settings: dict[str, TrainConfig],
    rows: dict[str, dict[str, float]],
    sft_step: dict[int, float],
    ns: argparse.Namespace,
) -> None:
    for name, cfg in settings.items():
        t, e, ws = cfg.trainer, cfg.eval, cfg.model.warm_start
        bench = ", ".join(f"{b.name} {b.n_problems}" for b in cfg.benchmark.values())
        per_seed = "one per seed" if ws.seed is None else "one for all seeds"
        print(
            f"{name}: {t.prompts_per_step}x{t.group_size} per rollout, {t.mini_batches} mini-batch(es), "
            f"{t.max_completion_length} new tokens, {t.steps} steps; eval {bench} problems x {e.n}; "
            f"warm start {ws.steps} SFT steps, {per_seed}"
        )
    print(
        f"(1 torch thread; medians of {ns.repeats} interleaved repeats; one {ns.model_warm_steps}-step warm start)"
    )
    print(f"\n{'seconds per optimizer step':<28}{'before':>9}{'after':>9}{'after/before':>14}")
    b, a = rows["before"], rows["after"]
    for key in (*PHASES, "step"):
        share = f"  ({100 * b[key] / b['step']:.0f}% / {100 * a[key] / a['step']:.0f}%)"
        print(f"{key:<28}{b[key]:>9.3f}{a[key]:>9.3f}{a[key] / b[key]:>14.2f}{share}")
    cost = {n: study_seconds(c, rows[n], sft_step[1], ns) for n, c in settings.items()}
    cb, ca = cost["before"], cost["after"]
    print(f"\n{'seconds per (1 thread)':<28}{'before':>9}{'after':>9}{'after/before':>14}")
    for label, x, y in (
        ("evaluation", b["eval"], a["eval"]),
        ("RL run (steps + evals)", cb["run"], ca["run"]),
        ("warm start", cb["warm_start"], ca["warm_start"]),
        (f"study ({ns.runs} runs, {ns.seeds} seeds)", cb["study"], ca["study"]),
    ):
        print(f"{label:<28}{x:>9.1f}{y:>9.1f}{y / x:>14.2f}")
    speedup = sft_step[1] / sft_step[2]
    print(f"mean train/clip_frac (GRPO): before {b['clip_frac']:.4f}, after {a['clip_frac']:.4f}")
    print(
        f"2 torch threads run a warm-start step {speedup:.2f}x as fast as 1; two 1-thread jobs at once: 2x "
        f"on 2 free cores. Study wall time, before (1 job, 2 threads) -> after (2 jobs, 1 thread): "
        f"{(ca['study'] / 2) / (cb['study'] / speedup):.2f}x"
    )


if __name__ == "__main__":
    main()
