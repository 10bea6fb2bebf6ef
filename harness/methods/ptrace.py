"""P-trace and S-trace (documented reconstructions, see docs/methods.md)."""

from __future__ import annotations

from torch import Tensor

from harness.methods.config import PTraceConfig, STraceConfig
from harness.methods.eligibility import high_entropy_mask
from harness.methods.registry import Traced, register_method
from harness.methods.trace import trace


@register_method(PTraceConfig)
def ptrace(x: Tensor, valid: Tensor, cfg: PTraceConfig, entropy: Tensor | None) -> Traced:
    """X[i,t] = Σ_(j≤t) a^(t−j)·x[i,j] / Σ_(j≤t) a^(t−j): the λ-discounted
    geometric mean of the prefix's ratios (a = γ·λ; λ = 0 is GRPO, λ = 1 at the
    last token is GSPO's s_i)."""
    a = cfg.gamma * cfg.lam
    return Traced(trace(x, valid, cfg.style, a, normalize=cfg.normalize), eligible=valid, loss_mask=valid)


@register_method(STraceConfig)
def strace(x: Tensor, valid: Tensor, cfg: STraceConfig, entropy: Tensor | None) -> Traced:
    """P-trace over the eligible tokens only: X[i,t] = Σ_j K(t,j)·e[i,j]·x[i,j] / Σ_j K(t,j)·e[i,j],
    e[i,j] = [H[i,j] ≥ τ], τ the (1 − entropy_quantile) quantile of H. With
    `loss_mask`, the ineligible rows also leave the aggregation."""
    if entropy is None:
        raise ValueError("method 'strace' needs `entropy` (the policy's per-token entropy, [B, T])")
    eligible = high_entropy_mask(entropy, valid, cfg.entropy_quantile, cfg.entropy_scope)
    a = cfg.gamma * cfg.lam
    log_ratio = trace(x, valid, cfg.style, a, normalize=cfg.normalize, eligible=eligible)
    return Traced(log_ratio, eligible=eligible, loss_mask=eligible if cfg.loss_mask else valid)
