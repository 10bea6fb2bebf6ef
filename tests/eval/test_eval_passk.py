"""pass@k / avg@n / maj@n against brute force and edge cases."""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.eval import avg_at_n, maj_at_n, majority_vote, pass_at_k


def brute_pass_at_k(n: int, c: int, k: int) -> float:
    """Fraction of k-subsets of n samples (the first c correct) containing a correct one."""
    subsets = list(combinations(range(n), k))
    return sum(any(i < c for i in s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("k", [1, 2, 3, 5, 8])
def test_matches_brute_force_enumeration(k: int) -> None:
    pairs = [(n, c) for n in range(k, 9) for c in range(n + 1)]
    n = np.array([p[0] for p in pairs])
    c = np.array([p[1] for p in pairs])
    expected = np.array([brute_pass_at_k(a, b, k) for a, b in pairs])
    np.testing.assert_allclose(pass_at_k(n, c, k), expected, rtol=0, atol=1e-12)


def test_edge_cases() -> None:
    assert pass_at_k(16, 0, 4) == 0.0
    assert pass_at_k(16, 16, 4) == 1.0
    assert pass_at_k(16, 1, 16) == 1.0
    assert pass_at_k(16, 0, 16) == 0.0
    assert pass_at_k(1, 1, 1) == 1.0
    assert float(pass_at_k(4, 1, 2)) == 0.5
    np.testing.assert_allclose(pass_at_k(16, [0, 1, 8, 16], 1), [0, 1 / 16, 0.5, 1])


def test_large_n_is_stable() -> None:
    exact = 1 - Fraction(math.comb(1990, 1000), math.comb(2000, 1000))
    got = pass_at_k(2000, 10, 1000)
    assert abs(float(got) - float(exact)) < 1e-12
    assert abs(float(pass_at_k(1000, 1, 1)) - 0.001) < 1e-12


def test_shapes_and_broadcasting() -> None:
    out = pass_at_k(8, 3, 2)
    assert isinstance(out, np.ndarray)
    assert out.shape == ()
    out = pass_at_k(np.array([[8, 8], [8, 8]]), np.array([[0, 1], [2, 8]]), 2)
    assert out.shape == (2, 2)
    assert pass_at_k(8, np.array([], dtype=int), 2).shape == (0,)


@pytest.mark.parametrize(
    ("n", "c", "k", "match"),
    [
        (4, 1, 5, "k=5 exceeds n=4"),
        (4, 5, 1, "c .* <= n"),
        (4, -1, 1, "c .* >= 0"),
        (0, 0, 1, "n .* >= 1"),
        (4, 1, 0, "k must be a positive integer"),
        (4, 1.5, 1, "whole numbers"),
        ([4, 2], [1, 1], 3, "exceeds"),
    ],
)
def test_bad_input_raises(n, c, k, match) -> None:
    with pytest.raises(ValueError, match=match):
        pass_at_k(n, c, k)


def test_avg_and_maj() -> None:
    assert avg_at_n([4, 4], [1, 4]) == pytest.approx(0.625)
    assert maj_at_n([True, False, False, True]) == 0.5
    assert majority_vote(["3", "4", "4", None], [1.0, 0.0, 0.0, 0.0]) == ("4", False)
    assert majority_vote(["3", "4", "3", "4"], [1, 0, 1, 0]) == ("3", True)  # tie: first seen
    assert majority_vote([None, None], [0.0, 0.0]) == (None, False)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
def test_monotone_in_k_and_c(nck) -> None:
    n, c, k = nck
    p = float(pass_at_k(n, c, k))
    assert 0.0 <= p <= 1.0
    if k < n:
        assert float(pass_at_k(n, c, k + 1)) >= p - 1e-12
    if c < n:
        assert float(pass_at_k(n, c + 1, k)) >= p - 1e-12
