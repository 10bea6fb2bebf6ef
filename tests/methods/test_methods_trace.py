"""The O(B·T) trace operator against the dense O(T²) oracle."""

from __future__ import annotations

import pytest
import torch

import harness.methods.trace as trace_module
from harness.methods import policy_loss
from harness.methods.trace import column_sums, discounted_cumsum, trace

LAMBDAS = [0.0, 0.5, 0.9, 0.99, 1.0]
KERNELS = ["identity", "recent", "both", "uniform"]


def _inputs(B: int, T: int, seed: int, batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, T, generator=g, dtype=torch.float64)
    valid = batch.mask(B, T, g)
    eligible = torch.rand(B, T, generator=g) < 0.5
    return x, valid, eligible


def _check_against_dense(dense, batch, B, T, kernel, lam, normalize, use_eligible, seed=0):
    x, valid, eligible = _inputs(B, T, seed, batch)
    eligible = eligible if use_eligible else None
    upstream = torch.randn(B, T, dtype=torch.float64, generator=torch.Generator().manual_seed(seed + 1))

    fast_x = x.clone().requires_grad_()
    fast = trace(fast_x, valid, kernel, lam, normalize=normalize, eligible=eligible)
    (fast * upstream).sum().backward()
    oracle_x = x.clone().requires_grad_()
    oracle = dense.trace(oracle_x, valid, kernel, lam, normalize, eligible)
    (oracle * upstream).sum().backward()

    torch.testing.assert_close(fast, oracle, rtol=1e-5, atol=1e-10)
    torch.testing.assert_close(fast_x.grad, oracle_x.grad, rtol=1e-5, atol=1e-10)


@pytest.mark.parametrize("use_eligible", [False, True])
@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("lam", LAMBDAS)
@pytest.mark.parametrize("kernel", KERNELS)
def test_trace_matches_dense(dense, batch, kernel, lam, normalize, use_eligible):
    _check_against_dense(dense, batch, 4, 200, kernel, lam, normalize, use_eligible)


@pytest.mark.parametrize("lam", LAMBDAS)
@pytest.mark.parametrize("kernel", ["recent", "both"])
def test_trace_matches_dense_with_deep_chunk_recursion(dense, batch, monkeypatch, kernel, lam):
    """CHUNK = 4 makes T = 300 a four-level scan (300 → 75 → 19 → 5 → 2)."""
    monkeypatch.setattr(trace_module, "CHUNK", 4)
    _check_against_dense(dense, batch, 3, 300, kernel, lam, normalize=True, use_eligible=True, seed=3)
    _check_against_dense(dense, batch, 3, 300, kernel, lam, normalize=False, use_eligible=False, seed=4)


@pytest.mark.parametrize(
    ("kernel", "lam", "normalize"), [("recent", 0.99, True), ("both", 0.99, False), ("recent", 1.0, False)]
)
def test_long_trace_matches_dense(dense, batch, kernel, lam, normalize):
    _check_against_dense(dense, batch, 2, 2048, kernel, lam, normalize, use_eligible=True, seed=5)


@pytest.mark.parametrize("T", [1, 2, 63, 64, 65, 129])
@pytest.mark.parametrize("kernel", ["recent", "both"])
def test_trace_matches_dense_at_chunk_boundaries(dense, batch, kernel, T):
    for lam in (0.0, 0.7, 1.0):
        _check_against_dense(dense, batch, 3, T, kernel, lam, normalize=True, use_eligible=True, seed=T)


@pytest.mark.parametrize("use_eligible", [False, True])
@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("lam", LAMBDAS)
@pytest.mark.parametrize("kernel", KERNELS)
def test_column_sums_match_dense(dense, batch, kernel, lam, normalize, use_eligible):
    _, valid, eligible = _inputs(4, 200, 7, batch)
    eligible = eligible if use_eligible else None
    fast = column_sums(valid, kernel, lam, normalize=normalize, eligible=eligible, dtype=torch.float64)
    oracle = dense.column_sums(valid, kernel, lam, normalize, eligible)
    torch.testing.assert_close(fast, oracle, rtol=1e-5, atol=1e-10)


def test_long_column_sums_match_dense(dense, batch):
    _, valid, eligible = _inputs(2, 2048, 8, batch)
    for kernel in ("recent", "both"):
        fast = column_sums(valid, kernel, 0.99, normalize=True, eligible=eligible, dtype=torch.float64)
        torch.testing.assert_close(
            fast, dense.column_sums(valid, kernel, 0.99, True, eligible), rtol=1e-5, atol=1e-10
        )


def test_column_sums_are_the_trace_gradient(batch):
    """W[i,j] = ∂(Σ_(t valid) X[i,t]) / ∂x[i,j]."""
    x, valid, eligible = _inputs(4, 200, 9, batch)
    x.requires_grad_()
    X = trace(x, valid, "both", 0.9, normalize=True, eligible=eligible)
    (X * valid).sum().backward()
    W = column_sums(valid, "both", 0.9, normalize=True, eligible=eligible, dtype=torch.float64)
    torch.testing.assert_close(x.grad, W, rtol=1e-10, atol=1e-12)


def test_scan_is_twice_differentiable(monkeypatch):
    monkeypatch.setattr(trace_module, "CHUNK", 4)
    x = torch.randn(2, 11, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradgradcheck(lambda v: discounted_cumsum(v, 0.8) ** 2, (x,))


def test_float32_scan_at_16k_tokens_with_lambda_0999():
    """T = 16384, λ = 0.999 in float32: finite, and equal to the float64 scan."""
    T, lam = 16384, 0.999
    g = torch.Generator().manual_seed(0)
    x64 = torch.randn(2, T, generator=g, dtype=torch.float64)
    x32 = x64.float()
    fast32 = discounted_cumsum(x32, lam)
    fast64 = discounted_cumsum(x64, lam)
    assert torch.isfinite(fast32).all()
    scale = fast64.abs().max()
    torch.testing.assert_close(fast32.double(), fast64, rtol=0, atol=1e-5 * scale)
    for t in (0, 1, 4095, 4096, 9999, T - 1):
        direct = (lam ** torch.arange(t, -1, -1, dtype=torch.float64) * x64[:, : t + 1]).sum(-1)
        torch.testing.assert_close(fast64[:, t], direct, rtol=1e-9, atol=1e-9)

    valid = torch.ones(2, T, dtype=torch.bool)
    valid[1, T // 3 :] = False
    for kernel in ("recent", "both"):
        X32 = trace(x32, valid, kernel, lam, normalize=True)
        X64 = trace(x64, valid, kernel, lam, normalize=True)
        assert torch.isfinite(X32).all()
        torch.testing.assert_close(X32.double(), X64, rtol=0, atol=1e-5)
        W32 = column_sums(valid, kernel, lam, dtype=torch.float32)
        assert torch.isfinite(W32).all()
        W64 = column_sums(valid, kernel, lam, dtype=torch.float64)
        torch.testing.assert_close(W32.double(), W64, rtol=1e-4, atol=0)


@pytest.mark.parametrize("name", ["grpo_lambda", "ptrace", "strace"])
def test_float32_policy_loss_at_16k_tokens_is_finite(batch, name):
    inputs = batch.make(2, 16384, seed=1, dtype=torch.float32)
    lam_params = {"lam": 0.999}
    loss, metrics = policy_loss(name, **inputs, **lam_params)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(inputs["logp"].grad).all()
    assert all(map(torch.isfinite, map(torch.tensor, metrics.values())))
    inputs64 = {k: v.detach().double() for k, v in inputs.items()}
    loss64, _ = policy_loss(name, **inputs64, **lam_params)
    torch.testing.assert_close(loss.double(), loss64, rtol=1e-4, atol=1e-5)


def test_unnormalised_trace_at_lambda_one_is_a_prefix_sum(batch):
    x, valid, _ = _inputs(3, 500, 10, batch)
    torch.testing.assert_close(trace(x, valid, "recent", 1.0), torch.cumsum(x * valid, -1))
