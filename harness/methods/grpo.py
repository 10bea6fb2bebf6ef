"""GRPO: the identity kernel."""

from __future__ import annotations

from torch import Tensor

from harness.methods.config import GRPOConfig
from harness.methods.registry import Traced, register_method
from harness.methods.trace import trace


@register_method(GRPOConfig)
def grpo(x: Tensor, valid: Tensor, cfg: GRPOConfig, entropy: Tensor | None) -> Traced:
    """X[i,t] = x[i,t]: each token's own ratio ρ_t = π(y_t)/π_old(y_t)."""
    return Traced(trace(x, valid, "identity"), eligible=valid, loss_mask=valid)
