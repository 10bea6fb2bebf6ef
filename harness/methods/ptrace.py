"""P-trace (documented reconstruction, see docs/methods.md)."""

from __future__ import annotations

from dataclasses import dataclass

from harness.methods.base import TraceConfig
from harness.methods.registry import TokenBatch, Traced, register_method
from harness.methods.trace import trace


@dataclass
class PTraceLossConfig(TraceConfig):
    """P-trace: recent kernel, normalised (λ-discounted geometric mean of the prefix's ratios)."""

    name: str = "ptrace"


@register_method(PTraceLossConfig)
def ptrace(batch: TokenBatch, cfg: PTraceLossConfig) -> Traced:
    """X[i,t] = Σ_(j≤t) a^(t−j)·x[i,j] / Σ_(j≤t) a^(t−j): the λ-discounted
    geometric mean of the prefix's ratios (a = γ·λ; λ = 0 is GRPO, λ = 1 at the
    last token is GSPO's s_i)."""
    return Traced(trace(batch.x, batch.valid, cfg.style, cfg.decay, normalize=cfg.normalize))
