"""Built-in multi-step arithmetic task: seeded, procedurally generated, offline.

A problem chains ``n_operations`` operations on small integers, left to right::

    Compute ((7 + 5) * 3) - 4.

and its worked solution spells out one line per operation, ending in the boxed answer::

    7 + 5 = 12. 12 * 3 = 36. 36 - 4 = 32. The answer is \\boxed{32}.

Splits are disjoint by construction: a stable hash of the problem's text puts
it in one of five buckets, 1 for ``test``, 2 for ``warm`` (the supervised warm
start's worked solutions) and 2 for ``train`` (RL), so no seed or size can make
them overlap. RL and evaluation never see a problem whose solution the warm
start was trained on, so RL cannot win by recalling memorised answers.
"""

from __future__ import annotations

import hashlib
import random

OPS = ("+", "-", "*")
SPLITS = ("train", "warm", "test")
_BUCKETS = ("test", "warm", "warm", "train", "train")


def split_of(problem: str) -> str:
    """The split a problem belongs to, from a stable hash of its text."""
    return _BUCKETS[hashlib.sha256(problem.encode()).digest()[0] % len(_BUCKETS)]


def _apply(a: int, op: str, b: int) -> int:
    return a + b if op == "+" else a - b if op == "-" else a * b


def _sample(rng: random.Random, n_operations: int, max_operand: int) -> tuple[str, str, str]:
    value = rng.randint(1, max_operand)
    expr, lines = str(value), []
    for i in range(n_operations):
        op, b = rng.choice(OPS), rng.randint(1, max_operand)
        result = _apply(value, op, b)
        expr = f"({expr} {op} {b})" if i < n_operations - 1 else f"{expr} {op} {b}"
        lines.append(f"{value} {op} {b} = {result}.")
        value = result
    problem = f"Compute {expr}."
    solution = " ".join(lines) + f" The answer is \\boxed{{{value}}}."
    return problem, str(value), solution


def make_problems(
    split: str, n: int, *, n_operations: int = 2, max_operand: int = 9, seed: int = 0
) -> list[dict[str, str]]:
    """``n`` distinct problems of ``split`` ("train", "warm" or "test"), reproducible from ``seed``.

    Each row has ``id``, ``problem``, ``answer`` and ``solution``; the id's ``s<k>`` is ``n_operations``.
    """
    if split not in SPLITS:
        raise ValueError(f"task split must be one of {SPLITS}, got {split!r}")
    if n_operations < 1 or max_operand < 1 or n < 1:
        raise ValueError(
            f"need n_operations >= 1, max_operand >= 1, n >= 1 (got {n_operations}, {max_operand}, {n})"
        )
    rng = random.Random(f"arith-{split}-{n_operations}-{max_operand}-{seed}")
    rows: dict[str, dict[str, str]] = {}
    for _ in range(200 * n):
        problem, answer, solution = _sample(rng, n_operations, max_operand)
        if problem not in rows and split_of(problem) == split:
            rows[problem] = {"problem": problem, "answer": answer, "solution": solution}
            if len(rows) == n:
                break
    if len(rows) < n:
        raise ValueError(
            f"arithmetic task has only {len(rows)} distinct {split} problems with "
            f"n_operations={n_operations}, max_operand={max_operand}; asked for {n}"
        )
    return [{"id": f"arith-{split}-s{n_operations}-{i}", **row} for i, row in enumerate(rows.values())]


def tokenizer_corpus(
    n: int = 4000, n_operations: tuple[int, ...] = (1, 2, 3, 4, 5), max_operand: int = 20
) -> list[str]:
    """Text the tiny models' tokenizer is trained on: problems, solutions, instruction."""
    from harness.problems.prompt import INSTRUCTION

    rng = random.Random("tokenizer-corpus")
    texts = [INSTRUCTION]
    for i in range(n):
        problem, _, solution = _sample(rng, n_operations[i % len(n_operations)], max_operand)
        texts += [problem, solution]
    return texts
