"""GPU acceptance: every method, one bf16 training step through TRL (vLLM colocate) and through
verl's loss path, then ``bench.losses``; throughput and peak memory per method.

    .venv/bin/python -m bench.gpu_acceptance          # a GPU machine: Qwen3-1.7B shapes, random weights
    .venv/bin/python -m bench.gpu_acceptance --tiny   # CPU: the same sections on a tiny model

The harness's TRL path needs the main venv and verl its own (it pins transformers<5.11): run from
the main venv, the verl section runs in .venv-verl (``make install-verl``) when that exists.

Nothing is downloaded: the model is built from a Qwen3 config and saved with a locally trained
tokenizer. Sections (``--sections``, default all):

- ``trl``: one optimizer step per method of ``HarnessGRPOTrainer`` (``bench.train_step``), vLLM
  colocated on a GPU, HF generation with ``--tiny``; seconds per step, completion tokens per
  second, peak GPU memory.
- ``verl``: the model's forward + verl's ``ppo_loss`` with ``harness_<method>`` (entropies on) +
  backward on a random batch; tokens per second and peak memory. Needs verl (``make install-verl``).
- ``losses``: ``python -m bench.losses --device cuda --dtype bfloat16`` (``--quick`` on CPU).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from bench.train_step import QWEN3_1_7B, _time
from harness.methods import METHODS
from harness.training.models import train_tiny_tokenizer

TINY = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "max_position_embeddings": 512,
    "tie_word_embeddings": True,
}
SECTIONS = ("trl", "verl", "losses")
VERL_PY = Path(__file__).resolve().parents[1] / ".venv-verl" / "bin" / "python"


@contextmanager
def random_model(tiny: bool) -> Iterator[Path]:
    """A randomly initialised Qwen3 (1.7B shapes, or tiny) and a local tokenizer, in a temp dir."""
    from transformers import Qwen3Config, Qwen3ForCausalLM

    tok = train_tiny_tokenizer()
    shape = TINY | {"vocab_size": len(tok)} if tiny else QWEN3_1_7B
    with tempfile.TemporaryDirectory() as tmp:
        config = Qwen3Config(**shape, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
        Qwen3ForCausalLM(config).to(torch.float32 if tiny else torch.bfloat16).save_pretrained(tmp)
        tok.save_pretrained(tmp)
        yield Path(tmp)


def _peak_gib() -> float:
    return torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else float("nan")


def _reset_peak() -> None:
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def trl_section(model: Path, tiny: bool) -> list[dict[str, float | str]]:
    """One TRL step per method (vLLM colocate on GPU, HF generation on CPU)."""
    ov = [
        "model=qwen3-1.7b",
        f"model.path={model}",
        "trainer.prompts_per_step=2" if tiny else "trainer.prompts_per_step=8",
        "trainer.group_size=2" if tiny else "trainer.group_size=8",
        "trainer.max_completion_length=16" if tiny else "trainer.max_completion_length=512",
        "model.micro_batch_size=4" if tiny else "model.micro_batch_size=16",
        "model.dtype=float32" if tiny else "model.dtype=bfloat16",
        "trainer.rollout=hf" if tiny else "trainer.rollout=vllm",
        "model.gradient_checkpointing=true",
    ]
    samples = (2 * 2 * 16) if tiny else (8 * 8 * 512)  # upper bound on completion tokens per step
    rows = []
    for name in sorted(METHODS):
        _reset_peak()
        seconds, _ = _time(name, str(model), 1, ov)
        rows.append(
            {"method": name, "s/step": seconds, "tok/s (max)": samples / seconds, "peak GiB": _peak_gib()}
        )
    return rows


def verl_section(model: Path, tiny: bool) -> list[dict[str, float | str]]:
    """Forward + verl ppo_loss(harness_<method>) + backward, per method."""
    from transformers import AutoModelForCausalLM

    from bench.verl_step import ppo_step
    from harness.verl import loss_mode

    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.float32 if tiny else torch.bfloat16
    policy = AutoModelForCausalLM.from_pretrained(model, dtype=dtype).to(device)
    B, P, T = (4, 8, 16) if tiny else (16, 256, 1024)
    rows = []
    for name in sorted(METHODS):
        ppo_step(policy, loss_mode(name), B, P, T, device)  # warm-up
        _reset_peak()
        start = time.perf_counter()
        loss, _ = ppo_step(policy, loss_mode(name), B, P, T, device)
        if device == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        rows.append(
            {
                "method": name,
                "loss": loss,
                "s/step": seconds,
                "tok/s": B * (P + T) / seconds,
                "peak GiB": _peak_gib(),
            }
        )
    return rows


def losses_section(tiny: bool) -> int:
    cmd = [sys.executable, "-m", "bench.losses"] + (
        ["--quick"] if tiny else ["--device", "cuda", "--dtype", "bfloat16"]
    )
    print("$ " + " ".join(cmd[1:]), flush=True)
    return subprocess.run(cmd).returncode


def print_table(title: str, rows: list[dict[str, float | str]]) -> None:
    print(f"\n{title}")
    if not rows:
        return
    keys = list(rows[0])
    print("".join(f"{k:>14}" for k in keys))
    for row in rows:
        print("".join(f"{v:>14.4g}" if isinstance(v, float) else f"{v:>14}" for v in row.values()))


def _has_verl() -> bool:
    return importlib.util.find_spec("verl") is not None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tiny", action="store_true", help="a tiny model on CPU (what CI checks)")
    p.add_argument(
        "--sections", default=",".join(SECTIONS), help=f"comma-separated, from {', '.join(SECTIONS)}"
    )
    args = p.parse_args(argv)
    sections = args.sections.split(",")
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        p.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    if not args.tiny and not torch.cuda.is_available():
        p.error("no GPU here: run with --tiny for the CPU check")
    with random_model(args.tiny) as model:
        shape = "tiny Qwen3" if args.tiny else "Qwen3-1.7B-shaped (random init)"
        print(f"model: {shape}; device: {'cuda' if torch.cuda.is_available() else 'cpu'}", flush=True)
        if "trl" in sections and _has_verl():
            print("\nTRL section skipped: this is the verl venv (transformers<5.11); run it from .venv")
        elif "trl" in sections:
            print_table(
                "TRL (HarnessGRPOTrainer), one optimizer step per method", trl_section(model, args.tiny)
            )
        if "verl" in sections and not _has_verl() and VERL_PY.exists():
            tiny = ["--tiny"] if args.tiny else []
            subprocess.run(
                [str(VERL_PY), "-m", "bench.gpu_acceptance", "--sections", "verl", *tiny], check=True
            )
        elif "verl" in sections:
            try:
                rows = verl_section(model, args.tiny)
            except ModuleNotFoundError as err:
                print(f"\nverl section skipped: {err} (make install-verl)")
            else:
                print_table("verl loss path (ppo_loss), forward + backward per method", rows)
    return losses_section(args.tiny) if "losses" in sections else 0


if __name__ == "__main__":
    sys.exit(main())
