"""pass@k, avg@n and maj@n from per-problem sample counts.

pass@k uses the unbiased estimator of Chen et al. (2021),
``1 - C(n-c, k) / C(n, k)``, evaluated as ``1 - prod_{i=n-c+1}^{n} (1 - k/i)``.
The product is taken in log space with a shared cumulative sum, so it is vectorised
over problems and never forms a binomial coefficient (which overflows for n ~ 1000).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike


def _as_counts(x: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be integer counts, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
        raise ValueError(f"{name} must be whole numbers, got {x!r}")
    return arr.astype(np.int64)


def _check(n: np.ndarray, c: np.ndarray, k: int) -> None:
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if np.any(n < 1):
        raise ValueError(f"n (samples per problem) must be >= 1, got min {n.min()}")
    if np.any(c < 0):
        raise ValueError(f"c (correct samples) must be >= 0, got min {c.min()}")
    if np.any(c > n):
        raise ValueError("c (correct samples) must be <= n for every problem")
    if np.any(k > n):
        raise ValueError(f"k={k} exceeds n={int(n.min())}: pass@k needs k <= n samples")


def pass_at_k(n: ArrayLike, c: ArrayLike, k: int) -> np.ndarray:
    """Unbiased pass@k per problem, ``1 - C(n-c, k)/C(n, k)``; arrays broadcast.

    >>> float(pass_at_k(4, 1, 2))
    0.5
    """
    n_arr, c_arr = np.broadcast_arrays(_as_counts(n, "n"), _as_counts(c, "c"))
    _check(n_arr, c_arr, k)
    k = int(k)
    # L[m] = sum_{i=k+1}^{m} log(1 - k/i) for m >= k (L[m] = 0 for m <= k).
    top = int(n_arr.max()) if n_arr.size else k
    i = np.arange(k + 1, top + 1, dtype=np.float64)
    cum = np.concatenate([np.zeros(k + 1), np.cumsum(np.log1p(-k / i))])
    fail_free = n_arr - c_arr  # samples that are wrong
    out = np.ones(n_arr.shape, dtype=np.float64)
    ok = fail_free >= k  # otherwise every k-subset contains a correct sample
    out[ok] = 0.0 - np.expm1(cum[n_arr[ok]] - cum[fail_free[ok]])  # 0.0 - : no -0.0
    return out


def avg_at_n(n: ArrayLike, c: ArrayLike) -> float:
    """Mean accuracy over problems and samples (avg@n = mean of c/n)."""
    n_arr, c_arr = np.broadcast_arrays(_as_counts(n, "n"), _as_counts(c, "c"))
    _check(n_arr, c_arr, 1)
    return float(np.mean(c_arr / n_arr)) if n_arr.size else float("nan")


def maj_at_n(majority_correct: ArrayLike) -> float:
    """Fraction of problems whose majority-vote answer is correct."""
    arr = np.asarray(majority_correct, dtype=bool)
    return float(arr.mean()) if arr.size else float("nan")


def majority_vote(answers: Sequence[str | None], rewards: Sequence[float]) -> tuple[str | None, bool]:
    """Most frequent non-empty answer (ties: the first to appear) and whether it is correct.

    Answers are grouped by their normalised string; a group is correct if its samples
    were rewarded (they all share one answer, so they share one verdict).
    """
    if len(answers) != len(rewards):
        raise ValueError(f"{len(answers)} answers but {len(rewards)} rewards")
    counts: Counter[str] = Counter(a for a in answers if a)
    if not counts:
        return None, False
    best = max(counts.values())
    winner = next(a for a in answers if a and counts[a] == best)
    correct = any(r > 0.5 for a, r in zip(answers, rewards, strict=True) if a == winner)
    return winner, correct
