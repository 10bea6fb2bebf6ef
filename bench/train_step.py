"""Time per RL step of every method against plain TRL GRPO on the same tiny config.

    python -m bench.train_step [--steps 4] [--arch qwen3-1.7b]

Each method runs the same number of optimizer steps from the same warm-start
weights and seed (so the first rollout is identical); we report the median
step time and its ratio to TRL's own ``GRPOTrainer(loss_type="grpo")``.
``--arch qwen3-1.7b`` (GPU) instead times one bf16 step of a randomly
initialised model with the real Qwen3-1.7B shapes, for each method.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir
from transformers import Qwen3Config, Qwen3ForCausalLM, TrainerCallback
from transformers.trainer_callback import PrinterCallback
from trl import GRPOTrainer

from harness.config.schema import register_configs, validate
from harness.methods import METHODS
from harness.problems.dataset import train_dataset
from harness.training.engine import HarnessGRPOTrainer
from harness.training.execute import seed_everything
from harness.training.models import load_pretrained, train_tiny_tokenizer
from harness.training.trl_args import grpo_args, reward_funcs
from harness.training.warmstart import warm_start

CONF = Path(__file__).resolve().parents[1] / "conf"
QWEN3_1_7B = {
    "hidden_size": 2048,
    "intermediate_size": 6144,
    "num_hidden_layers": 28,
    "num_attention_heads": 16,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "vocab_size": 151936,
    "max_position_embeddings": 40960,
    "tie_word_embeddings": True,
}


class StepTimer(TrainerCallback):
    def __init__(self) -> None:
        self.times: list[float] = []

    def on_step_begin(self, args, state, control, **kwargs):
        self._t = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        self.times.append(time.perf_counter() - self._t)


def _cfg(method: str, overrides: list[str]):
    register_configs()
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return validate(compose("train", overrides=[f"method={method}", "logger=none", *overrides]))


def _time(
    method: str, model_path: str, steps: int, overrides: list[str], plain: bool = False
) -> tuple[float, float]:
    cfg = _cfg("grpo" if plain else method, [f"trainer.steps={steps}", *overrides])
    seed_everything(cfg.trainer.seed)
    model, tok = load_pretrained(model_path)
    with tempfile.TemporaryDirectory() as tmp:
        args = grpo_args(cfg, Path(tmp))
        args.save_strategy, args.disable_tqdm, args.report_to = "no", True, "none"
        kwargs = {
            "model": model,
            "reward_funcs": reward_funcs(cfg),
            "args": args,
            "train_dataset": train_dataset(cfg.task),
            "processing_class": tok,
        }
        if plain:
            args.loss_type, args.importance_sampling_level = "grpo", "token"
            trainer = GRPOTrainer(**kwargs)
        else:
            trainer = HarnessGRPOTrainer(**kwargs, method=cfg.method, scale_rewards=cfg.trainer.scale_rewards)
        timer = StepTimer()
        trainer.remove_callback(PrinterCallback)
        trainer.add_callback(timer)
        trainer.train()
    return statistics.median(timer.times[1:] or timer.times), min(timer.times)


def tiny_table(steps: int, overrides: list[str]) -> None:
    cfg = _cfg("grpo", overrides)
    path = str(warm_start(cfg.model, cfg.task, cfg.trainer.seed, Path(".cache/harness").resolve()))
    _time("grpo", path, 2, overrides, plain=True)  # warm-up: allocator, first-call costs
    base, base_min = _time("grpo", path, steps, overrides, plain=True)
    print(
        f"tiny model, {cfg.trainer.prompts_per_step} prompts x {cfg.trainer.group_size} samples, "
        f"{cfg.trainer.max_completion_length} new tokens, {steps} steps (median of steps 2..)"
    )
    print(f"{'method':<14}{'median s':>9}{'min s':>9}{'ratio':>8}{'min ratio':>10}")
    print(f"{'TRL grpo':<14}{base:>9.3f}{base_min:>9.3f}{1.0:>8.2f}{1.0:>10.2f}")
    for name in METHODS:
        t, t_min = _time(name, path, steps, overrides)
        print(f"{name:<14}{t:>9.3f}{t_min:>9.3f}{t / base:>8.2f}{t_min / base_min:>10.2f}")


def real_arch_table(overrides: list[str]) -> None:
    """One bf16 step per method of a random-init Qwen3-1.7B-shaped model (needs a GPU)."""
    tok = train_tiny_tokenizer()
    with tempfile.TemporaryDirectory() as tmp:
        config = Qwen3Config(**QWEN3_1_7B, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
        Qwen3ForCausalLM(config).to(torch.bfloat16).save_pretrained(tmp)
        tok.save_pretrained(tmp)
        ov = ["model=qwen3-1.7b", f"model.path={tmp}", "model.gradient_checkpointing=true", *overrides]
        print(f"{'method':<14}{'s/step':>9}{'peak GiB':>10}")
        for name in ["grpo", *[m for m in METHODS if m != "grpo"]]:
            torch.cuda.reset_peak_memory_stats()
            t, _ = _time(name, tmp, 2, ov)
            print(f"{name:<14}{t:>9.3f}{torch.cuda.max_memory_allocated() / 2**30:>10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--arch", choices=["tiny", "qwen3-1.7b"], default="tiny")
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides")
    ns = parser.parse_args()
    if ns.arch == "tiny":
        tiny_table(ns.steps, ns.overrides)
    else:
        real_arch_table(ns.overrides)


if __name__ == "__main__":
    main()
