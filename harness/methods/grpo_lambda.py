"""GRPO-λ: the recent or both kernel, on the ratio (ε-trace) or as a weight (ε-weight)."""

from __future__ import annotations

import torch
from torch import Tensor

from harness.methods.config import GRPOLambdaConfig
from harness.methods.registry import Traced, register_method
from harness.methods.trace import column_sums, trace


@register_method(GRPOLambdaConfig)
def grpo_lambda(x: Tensor, valid: Tensor, cfg: GRPOLambdaConfig, entropy: Tensor | None) -> Traced:
    """ratio:  X[i,t] = Σ_(j≤t) K(t,j)·x[i,j]  (ε-trace).
    weight: X[i,t] = x[i,t], ℓ[i,j] scaled by the detached W[i,j] = Σ_(t≥j, valid) K(t,j)
            (ε-weight; on-policy its gradient equals the ε-trace's).
    K(t,j) = a^(t−j) ("recent") or max(a^(t−j), a^j) ("both"), a = γ·λ.
    """
    a = cfg.gamma * cfg.lam
    if cfg.placement == "ratio":
        return Traced(trace(x, valid, cfg.style, a, normalize=cfg.normalize), eligible=valid, loss_mask=valid)
    weight = column_sums(valid, cfg.style, a, normalize=cfg.normalize, dtype=x.dtype)
    if cfg.weight_norm:
        weight = mean_one(weight, valid)
    return Traced(x, eligible=valid, loss_mask=valid, weight=weight)


def mean_one(weight: Tensor, valid: Tensor) -> Tensor:
    """W[i,j] / mean_(valid j) W[i,j]: mean 1 over each sequence's valid tokens."""
    mean = weight.sum(-1, keepdim=True) / valid.sum(-1, keepdim=True).clamp(min=1)
    return weight / mean.clamp(min=torch.finfo(weight.dtype).tiny)
