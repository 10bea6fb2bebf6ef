"""SAPO (Soft Adaptive Policy Optimization, arXiv 2511.20347): a soft gate instead of the clip."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from harness.methods.base import MethodConfig, knob
from harness.methods.registry import Surrogate, TokenBatch, Traced, register_method
from harness.methods.surrogate import MAX_LOG_RATIO
from harness.validation import check_range

_NO_CLIP = "its soft gate replaces the clip"


@dataclass
class SAPOLossConfig(MethodConfig):
    """SAPO: ℓ_t = −f(ρ_t, τ)·A, f(ρ, τ) = σ(τ·(ρ − 1))·4/τ, τ = tau_pos where A > 0, else tau_neg.

    Defaults as both peers ship them (TRL `sapo_temperature_pos/neg`, verl `tau_pos/tau_neg`):
    τ_pos = 1.0, τ_neg = 1.05, `seq-mean-token-mean` (the only aggregation either peer uses).
    """

    name: str = "sapo"
    tau_pos: float = knob(1.0, "tau_pos")
    tau_neg: float = knob(1.05, "tau_neg")

    inert: ClassVar[dict[str, str]] = {"clip_low": _NO_CLIP, "clip_high": _NO_CLIP, "dual_clip": _NO_CLIP}

    def validate(self) -> None:
        super().validate()
        check_range(self.tau_pos, "tau_pos", 0.0, float("inf"), open_low=True)
        check_range(self.tau_neg, "tau_neg", 0.0, float("inf"), open_low=True)


def sapo_surrogate(log_ratio: Tensor, adv: Tensor, batch: TokenBatch, cfg: SAPOLossConfig) -> Surrogate:
    """ℓ_t = −σ(τ·(ρ_t − 1))·(4/τ)·A, ρ_t = exp(min(X_t, 20)). At ρ = 1 the gate's slope is 1,
    so on-policy the gradient is GRPO's; away from 1 it decays smoothly instead of stopping."""
    ratio = torch.exp(log_ratio.clamp(max=MAX_LOG_RATIO))
    a = adv.unsqueeze(-1) if adv.dim() == 1 else adv
    tau = torch.where(a > 0, cfg.tau_pos, cfg.tau_neg).to(ratio.dtype)
    gate = torch.sigmoid(tau * (ratio - 1)) * (4 / tau)
    return Surrogate(-gate * a, ratio, torch.zeros_like(ratio, dtype=torch.bool))


@register_method(SAPOLossConfig, surrogate=sapo_surrogate)
def sapo(batch: TokenBatch, cfg: SAPOLossConfig) -> Traced:
    """X[i,t] = x[i,t]: each token's own ratio, gated softly."""
    return Traced(batch.x)
