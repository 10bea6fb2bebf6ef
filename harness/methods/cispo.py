"""CISPO (MiniMax-M1, arXiv 2506.13585): clip the importance-sampling weight, not the update."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from harness.methods.base import MethodConfig
from harness.methods.registry import Surrogate, TokenBatch, Traced, register_method
from harness.methods.surrogate import MAX_LOG_RATIO


@dataclass
class CISPOLossConfig(MethodConfig):
    """CISPO: ℓ_t = −sg(clip(ρ_t, 1−clip_low, 1+clip_high))·A·logp_t (sg: stop-gradient).

    Defaults as TRL ships its recommendation (`loss_type="cispo"`, ε_max = `epsilon_high` = 5,
    from ScaleRL): the weight is capped at 1 + clip_high = 5 with no lower bound (clip_low = 1:
    ratios are positive), `token-mean` (TRL's and verl's aggregation for CISPO). verl's example
    caps at 1.2 (`clip_ratio_high=0.2`, `clip_ratio_low=10`): `method.clip_high=0.2`.
    """

    name: str = "cispo"
    clip_low: float = 1.0
    clip_high: float = 4.0
    loss_agg: str = "token-mean"

    inert: ClassVar[dict[str, str]] = {"dual_clip": "its clipped weight is already bounded"}


def cispo_surrogate(log_ratio: Tensor, adv: Tensor, batch: TokenBatch, cfg: CISPOLossConfig) -> Surrogate:
    """ℓ_t = −sg(clip(ρ_t))·A·logp_t, ρ_t = exp(min(X_t, 20)): the gradient is −clip(ρ_t)·A·∇logp_t,
    so a token whose ratio left the range still gets a (bounded) gradient, unlike PPO's clip."""
    ratio = torch.exp(log_ratio.clamp(max=MAX_LOG_RATIO))
    weight = ratio.clamp(1 - cfg.clip_low, 1 + cfg.clip_high).detach()
    a = adv.unsqueeze(-1) if adv.dim() == 1 else adv
    logp = torch.where(batch.valid, batch.logp, 0)  # padding's log-probs are arbitrary
    clipped = (ratio < 1 - cfg.clip_low) | (ratio > 1 + cfg.clip_high)
    return Surrogate(-weight * a * logp, ratio, clipped.detach())


@register_method(CISPOLossConfig, surrogate=cispo_surrogate)
def cispo(batch: TokenBatch, cfg: CISPOLossConfig) -> Traced:
    """X[i,t] = x[i,t]: each token's own ratio, as GRPO."""
    return Traced(batch.x)
