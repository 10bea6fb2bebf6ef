"""GMPO (Geometric-Mean Policy Optimization, arXiv 2507.20673): the geometric mean of the
token ratios, each clipped in log space, times the sequence's advantage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from harness.methods.base import MethodConfig
from harness.methods.registry import Surrogate, TokenBatch, Traced, register_method
from harness.methods.surrogate import MAX_LOG_RATIO
from harness.methods.trace import trace


@dataclass
class GMPOLossConfig(MethodConfig):
    """GMPO: X_i = mean_t x̃[i,t], x̃ = min(x, clip_high) where A > 0, max(x, −clip_low) where A < 0
    (the clip is on the *log*-ratio), ℓ = −A·exp(X_i) on every token of sequence i.

    Defaults as the authors ship them in verl (`loss_mode=geo_mean`, `clip_ratio=0.4`):
    clip_low = clip_high = 0.4 (ratios in [e^−0.4, e^0.4]), `seq-mean-token-mean` (verl's
    `geo_mean` averages the sequences' losses and has no other aggregation).
    """

    name: str = "gmpo"
    clip_low: float = 0.4
    clip_high: float = 0.4

    inert: ClassVar[dict[str, str]] = {"dual_clip": "its clip bounds the log-ratio on both sides"}


def _clip_log_ratio(x: Tensor, adv: Tensor, cfg: GMPOLossConfig) -> tuple[Tensor, Tensor]:
    """(x̃, where the clip is active): x̃ = min(x, ε_high) for A > 0, max(x, −ε_low) for A < 0, 0 for A = 0."""
    a = adv.unsqueeze(-1) if adv.dim() == 1 else adv
    pos, neg = a > 0, a < 0
    clipped_x = torch.where(pos, x.clamp(max=cfg.clip_high), torch.where(neg, x.clamp(min=-cfg.clip_low), 0))
    active = (pos & (x > cfg.clip_high)) | (neg & (x < -cfg.clip_low))
    return clipped_x, active


def gmpo_surrogate(log_ratio: Tensor, adv: Tensor, batch: TokenBatch, cfg: GMPOLossConfig) -> Surrogate:
    """ℓ[i,t] = −A[i,t]·s_i, s_i = exp(min(X_i, 20)); under `seq-mean-token-mean` the loss is
    −mean_i(mean_t A[i,t]·s_i), verl's `geo_mean`."""
    ratio = torch.exp(log_ratio.clamp(max=MAX_LOG_RATIO))
    a = adv.unsqueeze(-1) if adv.dim() == 1 else adv
    _, active = _clip_log_ratio(batch.x.detach(), adv, cfg)
    return Surrogate(-a * ratio, ratio, active & batch.valid)


@register_method(GMPOLossConfig, surrogate=gmpo_surrogate)
def gmpo(batch: TokenBatch, cfg: GMPOLossConfig) -> Traced:
    """X[i,t] = (1/n_i)·Σ_j x̃[i,j] for every t: the log of the clipped ratios' geometric mean."""
    if batch.adv is None:
        raise ValueError("method 'gmpo' needs the advantages in its TokenBatch (policy_loss passes them)")
    clipped_x, _ = _clip_log_ratio(batch.x, batch.adv, cfg)
    return Traced(trace(clipped_x, batch.valid, "uniform"))
