"""HAPO (arXiv 2604.11056; documented reconstruction, see docs/methods.md): GRPO whose
sequence advantage is reallocated over its tokens by entropy, the "capacity" for hindsight credit.

The paper's words (abstract only): HAPO is "a sign-preserving modification to GRPO that performs
capacity-guided advantage reallocation", token entropy upper-bounding the possible hindsight
credit. Ours: the rule below, every choice a knob.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from harness.methods.base import MethodConfig, knob
from harness.methods.registry import TokenBatch, Traced, register_method
from harness.validation import check, check_choice, check_range

POLARITIES = ("both", "pos", "neg")


@dataclass
class HAPOLossConfig(MethodConfig):
    """HAPO: per-token advantage A[i,t] = A_i·w[i,t], w = n_i·H^α / Σ_s H^α (mean 1 per sequence),
    floored at `w_min`, capped at `w_max`, then rescaled to mean 1; α = 0 is GRPO exactly.

    `polarity` says which advantages are reallocated (both, pos: A > 0, neg: A < 0); the others
    keep w = 1. Everything else is GRPO's: ε = 0.2, `seq-mean-token-mean`.
    """

    name: str = "hapo"
    alpha: float = knob(1.0, "alpha", in_name=True)
    w_min: float = 0.1
    w_max: float | None = None
    polarity: str = knob("both", "polarity")

    def validate(self) -> None:
        super().validate()
        check_range(self.alpha, "alpha", 0.0, float("inf"))
        check_range(self.w_min, "w_min", 0.0, 1.0)
        if self.w_max is not None:
            check(self.w_max >= 1.0, "w_max", f"must be >= 1 (the mean weight) or None, got {self.w_max}")
        check_choice(self.polarity, "polarity", POLARITIES)


def capacity_weights(entropy: Tensor, valid: Tensor, cfg: HAPOLossConfig) -> Tensor:
    """w[i,t] ≥ 0 with mean 1 over each sequence's valid tokens (0 off them), detached:
    w = n_i·c/Σ_s c, c = H^α; w ← max(w, w_min), min(w, w_max); w ← w / mean_valid(w).
    A sequence whose capacities sum to 0 (all entropies 0, α > 0) keeps w = 1."""
    with torch.no_grad():
        h = torch.where(valid, entropy.detach(), 0).clamp(min=0)
        peak = h.amax(-1, keepdim=True)
        h = h / torch.where(peak > 0, peak, 1)  # w is scale-free in H; this keeps H^α finite
        c = torch.where(valid, h.pow(cfg.alpha), 0)
        n = valid.sum(-1, keepdim=True).to(c.dtype)
        total = c.sum(-1, keepdim=True)
        w = torch.where(total > 0, n * c / torch.where(total > 0, total, 1), 1.0)
        w = w.clamp(min=cfg.w_min)
        if cfg.w_max is not None:
            w = w.clamp(max=cfg.w_max)
        w = torch.where(valid, w, 0)
        mean = w.sum(-1, keepdim=True) / n.clamp(min=1)
        return w / torch.where(mean > 0, mean, 1)


@register_method(HAPOLossConfig)
def hapo(batch: TokenBatch, cfg: HAPOLossConfig) -> Traced:
    """X = x (GRPO's ratio); the clipped surrogate of token t is multiplied by w[i,t] where its
    advantage's sign is reallocated. Since w ≥ 0, w·ℓ(ρ, A) = ℓ(ρ, A·w) (dual clip included):
    this is exactly GRPO trained with the per-token advantage A[i,t] = A_i·w[i,t]."""
    if batch.entropy is None:
        raise ValueError("method 'hapo' needs `entropy` (the policy's per-token entropy, [B, T])")
    if batch.adv is None:
        raise ValueError("method 'hapo' needs the advantages in its TokenBatch (policy_loss passes them)")
    w = capacity_weights(batch.entropy.to(batch.x.dtype), batch.valid, cfg)
    a = batch.adv.unsqueeze(-1) if batch.adv.dim() == 1 else batch.adv
    reallocated = {"both": a != 0, "pos": a > 0, "neg": a < 0}[cfg.polarity]
    return Traced(batch.x, weight=torch.where(reallocated, w, 1.0))
