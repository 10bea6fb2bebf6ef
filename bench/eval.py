"""Throughput of the evaluator on the tiny model (CPU): ``python -m bench.eval``.

Reports problems/s and generated tokens/s of ``harness.eval.runner.evaluate`` at
n = 16 samples per problem, and the share of the evaluation's wall time spent
verifying answers (``harness.grading``), which must stay under 10%.  A second
measurement scores synthetic completions shaped like a trained model's (boxed
integers right and wrong, symbolic answers) to show verification cost when every
completion has an answer.

    python -m bench.eval                       # warm-started tiny model if cached, else random init
    python -m bench.eval --warm-start          # train (once, cached) the warm start first
    python -m bench.eval --checkpoint outputs/.../final
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

MAX_VERIFY_SHARE = 0.10


def _warm_start_path(cache_dir: str, train: bool) -> Path | None:
    from harness.config.schema import ModelConfig, TaskConfig, WarmStartConfig
    from harness.training.warmstart import warm_start

    model = ModelConfig(name="tiny", build="tiny", warm_start=WarmStartConfig(steps=300))
    task = TaskConfig()
    if not train:
        from harness.training.warmstart import cache_key

        path = Path(cache_dir) / "warmstart" / f"tiny-{cache_key(model, task, 0)}"
        return path if (path / "config.json").exists() else None
    return warm_start(model, task, 0, cache_dir)


def load_model(args: argparse.Namespace) -> tuple[Any, Any, str]:
    from harness.training.models import build_tiny, load_pretrained

    path = Path(args.checkpoint) if args.checkpoint else _warm_start_path(args.cache_dir, args.warm_start)
    if path is not None:
        model, tokenizer = load_pretrained(str(path), "float32")
        return model, tokenizer, str(path)
    model, tokenizer = build_tiny("tiny", seed=0)
    return model, tokenizer, "tiny (random init; pass --warm-start for a model that answers)"


def bench_evaluate(args: argparse.Namespace) -> dict[str, float]:
    from harness.config.eval import EvalConfig
    from harness.eval.runner import evaluate

    model, tokenizer, source = load_model(args)
    cfg = EvalConfig(
        n=args.n,
        k=[1, 4, args.n],
        temperature=1.0,
        top_p=1.0,
        max_new_tokens=args.max_new_tokens,
        batch_size=args.batch_size,
        progress=False,
        samples_per_benchmark=0,
    )
    bench = {"arith_test": {"source": "arith", "n_problems": args.problems}}
    with tempfile.TemporaryDirectory() as tmp:
        evaluate(
            model, tokenizer, {"arith_test": {"source": "arith", "n_problems": 2}}, cfg, step=0, run_dir=tmp
        )
        res = evaluate(model, tokenizer, bench, cfg, step=0, run_dir=tmp)  # timed run (after warm-up)
    t = res.timing
    print(f"model: {source}")
    print(
        f"evaluate: {int(t['problems'])} problems x n={args.n}, max_new_tokens={args.max_new_tokens}, "
        f"batch_size={args.batch_size}, torch threads={_threads()}"
    )
    print(f"  wall {t['total_s']:.2f}s  generate {t['generate_s']:.2f}s  verify {t['verify_s'] * 1e3:.1f}ms")
    print(f"  problems/s          {t['problems'] / t['total_s']:.2f}")
    print(f"  completions/s       {t['problems'] * args.n / t['total_s']:.1f}")
    print(f"  generated tokens/s  {t['tokens'] / t['generate_s']:.0f}  ({int(t['tokens'])} tokens)")
    share = t["verify_s"] / t["total_s"]
    print(f"  verification share  {share:.2%}  (limit {MAX_VERIFY_SHARE:.0%})")
    print(
        f"  pass@1 {res.metrics['eval/arith_test/pass@1']:.3f}  pass@{args.n} "
        f"{res.metrics[f'eval/arith_test/pass@{args.n}']:.3f}"
    )
    return {"verify_share": share}


def synthetic_completions(count: int, seed: int = 0) -> list[tuple[str, str]]:
    """(completion, gold) pairs: 60% boxed integers (half right), 25% symbolic, 15% no box."""
    rng = random.Random(seed)
    symbolic = [
        (r"\frac{1}{2}", "0.5"),
        (r"2\sqrt{2}", r"\sqrt{8}"),
        (r"x=3", "3"),
        (r"(1,2]", "(1,2]"),
        (r"\frac{\sqrt{3}}{2}", r"\frac{\sqrt3}{2}"),
        (r"3\pi", r"\pi"),
        (r"x^2+1", "1+x^2"),
    ]
    out = []
    for _ in range(count):
        body = "7 + 5 = 12. 12 * 3 = 36. 36 - 4 = 32. " * rng.randint(1, 8)
        u = rng.random()
        if u < 0.6:
            gold = str(rng.randint(-500, 5000))
            pred = gold if rng.random() < 0.5 else str(int(gold) + rng.randint(1, 9))
            out.append((f"{body}The answer is \\boxed{{{pred}}}.", gold))
        elif u < 0.85:
            pred, gold = rng.choice(symbolic)
            out.append((f"{body}The answer is \\boxed{{{pred}}}.", gold))
        else:
            out.append((body, "32"))
    return out


def bench_verification(count: int) -> None:
    from harness import grading

    pairs = synthetic_completions(count)
    grading.warmup_verifier()
    grading.clear_verdict_cache()
    t0 = time.perf_counter()
    scores = [grading.math_reward(c, g) for c, g in pairs]
    dt = time.perf_counter() - t0
    print(f"verification: {count} synthetic completions (60% boxed ints, 25% symbolic, 15% unboxed)")
    print(
        f"  {count / dt:,.0f} completions/s  ({dt / count * 1e6:.0f} us each; mean reward {sum(scores) / count:.3f})"
    )


def _threads() -> int:
    import torch

    return torch.get_num_threads()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--checkpoint", default="", help="from_pretrained dir to evaluate")
    parser.add_argument(
        "--warm-start", action="store_true", help="train the cached tiny warm start if missing"
    )
    parser.add_argument("--cache-dir", default=".cache/harness")
    parser.add_argument("--problems", type=int, default=32)
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--verify-count", type=int, default=20000)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    result = bench_evaluate(args)
    bench_verification(args.verify_count)
    if result["verify_share"] >= MAX_VERIFY_SHARE:
        raise SystemExit(f"FAIL: verification share {result['verify_share']:.2%} >= {MAX_VERIFY_SHARE:.0%}")
    print("OK: verification share under the limit")


if __name__ == "__main__":
    main()
