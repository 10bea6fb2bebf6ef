"""Benchmark the grader's fast paths (the wall-clock numbers the tests no longer assert).

    .venv/bin/python -m bench.grading

Prints the time to grade 5000 integer-answer completions (the fast path: no
math-verify) and one 100 kB completion whose answer is at the end (a linear
scan), and the ratio of each to its budget (1 s and 0.5 s on this 2-core box).
"""

from __future__ import annotations

import statistics
import time

from harness.grading import clear_verdict_cache, math_reward, warmup_verifier


def best_of(fn: object, repeats: int = 5) -> float:
    """Median seconds of `fn()` over `repeats` calls."""
    times = []
    for _ in range(repeats):
        clear_verdict_cache()
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    warmup_verifier()
    texts = [f"work ... so \\boxed{{{i % 50}}}" for i in range(5000)]
    many = best_of(lambda: [math_reward(t, "7") for t in texts])
    huge_text = "y" * 100_000 + r" \boxed{5}"
    huge = best_of(lambda: math_reward(huge_text, "5"))
    print("# bench.grading: median of 5")
    print(f"5000 integer completions   {many * 1e3:8.1f} ms   {many / 1.0:5.2f} of its 1 s budget")
    print(f"one 100 kB completion      {huge * 1e3:8.3f} ms   {huge / 0.5:5.2f} of its 0.5 s budget")


if __name__ == "__main__":
    main()
