"""The Four Quadrant metrics: where a loss puts its gradient, by advantage sign × token entropy.

Valid tokens fall in four quadrants: the sign of the advantage they are trained with (pos: A > 0,
neg: A < 0; tokens with A = 0 in none) × entropy at or above the micro-batch median over the valid
tokens (high) or below it (low). A quadrant's *gradient mass* is Σ |∂loss/∂logp[i,t]| over its
tokens (the whole loss: surrogate, ε-weight, KL and aggregation); its *share* is its mass over the
four masses' sum. For GRPO on-policy every token of sequence i gets |A_i|/n_i, so the shares follow
the (|A|-weighted) token counts; a method that moves credit to high-entropy tokens shows it here.

`policy_loss` reports the masses (``grad_<quadrant>``, when it is given the entropies and its loss
has a gradient); a logger sums or averages masses over micro-batches, steps and processes and only
then takes shares (`shares`), so every token weighs the same whichever micro-batch holds it.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from harness.methods.eligibility import quantile_threshold

QUADRANTS = ("pos_high", "pos_low", "neg_high", "neg_low")
MASS_KEYS = tuple(f"grad_{q}" for q in QUADRANTS)


def gradient_masses(
    loss: Tensor, logp: Tensor, adv: Tensor, entropy: Tensor, valid: Tensor
) -> dict[str, Tensor]:
    """Σ|∂loss/∂logp| per quadrant (``grad_pos_high`` …), from one extra backward of the loss alone.

    The backward stops at `logp` (the model's graph above it is not run) and keeps the graph for
    the caller's own backward. Empty when `loss` has no gradient (e.g. under ``torch.no_grad``).
    """
    if not loss.requires_grad:
        return {}
    (grad,) = torch.autograd.grad(loss, logp, retain_graph=True, allow_unused=True)
    with torch.no_grad():
        a = adv.unsqueeze(-1) if adv.dim() == 1 else adv
        h = entropy.detach()
        low = h < quantile_threshold(h, valid, 0.5)
        index = torch.where(valid & (a != 0), 2 * (a < 0) + low, len(QUADRANTS))  # QUADRANTS' order; 4: none
        mass = grad.abs() if grad is not None else torch.zeros_like(logp)
        sums = torch.bincount(index.flatten(), weights=mass.flatten(), minlength=len(QUADRANTS) + 1)
        return dict(zip(MASS_KEYS, sums[: len(QUADRANTS)].to(logp.dtype).unbind(), strict=True))


def shares(masses: dict[str, float]) -> dict[str, float]:
    """Each quadrant's share of the gradient mass (``pos_high`` …, summing to 1); empty when the
    masses are missing, not finite, or all zero (no token with A ≠ 0 got a gradient)."""
    values = [masses.get(key) for key in MASS_KEYS]
    if any(v is None or not math.isfinite(v) for v in values):
        return {}
    total = sum(v for v in values if v is not None)
    if total <= 0:
        return {}
    return {q: v / total for q, v in zip(QUADRANTS, values, strict=True) if v is not None}
