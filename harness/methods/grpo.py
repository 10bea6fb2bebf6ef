"""GRPO: the identity kernel, X = x."""

from __future__ import annotations

from dataclasses import dataclass

from harness.methods.base import MethodConfig
from harness.methods.registry import TokenBatch, Traced, register_method


@dataclass
class GRPOLossConfig(MethodConfig):
    """GRPO (published): ε = 0.2, `seq-mean-token-mean`, β = 0."""

    name: str = "grpo"


@register_method(GRPOLossConfig)
def grpo(batch: TokenBatch, cfg: GRPOLossConfig) -> Traced:
    """X[i,t] = x[i,t]: each token's own ratio ρ_t = π(y_t)/π_old(y_t)."""
    return Traced(batch.x)
