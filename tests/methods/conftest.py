"""Fixtures for the loss-library tests: a dense O(T²) oracle and random batches."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import Tensor


def kernel_matrix(kernel: str, a: float, valid: Tensor) -> Tensor:
    """K[i,t,j] built explicitly from its definition (docs/methods.md), float64."""
    B, T = valid.shape
    t = torch.arange(T, dtype=torch.float64)[:, None]
    j = torch.arange(T, dtype=torch.float64)[None, :]
    base = torch.tensor(a, dtype=torch.float64)
    causal = j <= t
    if kernel == "identity":
        K = (j == t).to(torch.float64)
    elif kernel == "recent":
        K = torch.where(causal, base ** (t - j).clamp(min=0), 0)
    elif kernel == "both":
        K = torch.where(causal, torch.maximum(base ** (t - j).clamp(min=0), base**j), 0)
    elif kernel == "uniform":
        n = valid.sum(-1).clamp(min=1).to(torch.float64)
        return (valid[:, None, :].to(torch.float64) / n[:, None, None]).expand(B, T, T)
    else:
        raise ValueError(kernel)
    return K.expand(B, T, T)


def dense_trace(
    x: Tensor, valid: Tensor, kernel: str, a: float, normalize: bool = False, eligible: Tensor | None = None
) -> Tensor:
    """X[i,t] = Σ_j K(t,j) e_j x_j (÷ Z[i,t] = Σ_j K(t,j) e_j; 0 where Z = 0)."""
    w = (valid if eligible is None else valid & eligible).to(x.dtype)
    K = kernel_matrix(kernel, a, valid).to(x.dtype) * w[:, None, :]
    X = (K @ (x * w).unsqueeze(-1)).squeeze(-1)
    if not normalize:
        return X
    Z = K.sum(-1)
    return torch.where(Z > 0, X / torch.where(Z > 0, Z, 1), 0)


def dense_column_sums(
    valid: Tensor, kernel: str, a: float, normalize: bool = False, eligible: Tensor | None = None
) -> Tensor:
    """W[i,j] = e_j Σ_(t valid) K(t,j) / Z[i,t] (Z ≡ 1 unless normalize)."""
    w = (valid if eligible is None else valid & eligible).to(torch.float64)
    K = kernel_matrix(kernel, a, valid) * w[:, None, :]
    rows = valid.to(torch.float64)
    if normalize:
        Z = K.sum(-1)
        rows = torch.where(Z > 0, rows / torch.where(Z > 0, Z, 1), 0)
    return (K * rows[:, :, None]).sum(1)


def ragged_mask(B: int, T: int, generator: torch.Generator) -> Tensor:
    """Right-padded bool mask: row 0 full, row 1 empty (when B > 2), the rest random lengths."""
    lengths = torch.randint(1, T + 1, (B,), generator=generator)
    lengths[0] = T
    if B > 2:
        lengths[1] = 0
    return torch.arange(T)[None, :] < lengths[:, None]


def random_batch(
    B: int, T: int, seed: int = 0, dtype: torch.dtype = torch.float64, scale: float = 0.3
) -> dict:
    """Policy-loss inputs: logp (requires grad), old_logp, advantages [B], mask, entropy, ref_logp."""
    g = torch.Generator().manual_seed(seed)
    logp = -torch.rand(B, T, generator=g, dtype=dtype) * 3
    return {
        "logp": logp.requires_grad_(),
        "old_logp": logp.detach() + scale * torch.randn(B, T, generator=g, dtype=dtype),
        "advantages": torch.randn(B, generator=g, dtype=dtype),
        "mask": ragged_mask(B, T, g).to(dtype),
        "entropy": torch.rand(B, T, generator=g, dtype=dtype) * 2,
        "ref_logp": logp.detach() + scale * torch.randn(B, T, generator=g, dtype=dtype),
    }


@pytest.fixture(scope="session")
def dense() -> SimpleNamespace:
    """The dense O(T²) oracle: kernel_matrix, trace, column_sums."""
    return SimpleNamespace(kernel_matrix=kernel_matrix, trace=dense_trace, column_sums=dense_column_sums)


@pytest.fixture(scope="session")
def batch() -> SimpleNamespace:
    """Random-input factories: make(B, T, seed, dtype, scale) and mask(B, T, generator)."""
    return SimpleNamespace(make=random_batch, mask=ragged_mask)
