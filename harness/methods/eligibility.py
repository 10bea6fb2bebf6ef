"""S-trace's eligibility: keep the high-entropy tokens."""

from __future__ import annotations

import math

import torch
from torch import Tensor

ENTROPY_SCOPES = ("batch", "sequence")


def quantile(values: Tensor, p: float) -> Tensor:
    """torch.quantile(values, p) of a 1-D tensor (linear interpolation) by two
    O(N) selections instead of a sort: v_(⌊k⌋) + (k − ⌊k⌋)·(v_(⌈k⌉) − v_(⌊k⌋)), k = p·(N − 1)."""
    k = p * (values.numel() - 1)
    low = values.kthvalue(math.floor(k) + 1).values
    high = values.kthvalue(math.ceil(k) + 1).values
    return low + (k - math.floor(k)) * (high - low)


def high_entropy_mask(entropy: Tensor, valid: Tensor, quantile_kept: float, scope: str) -> Tensor:
    """e[i,t] = valid[i,t] and H[i,t] ≥ τ, τ = the (1 − quantile_kept) quantile of H.

    τ (linear interpolation, as torch.quantile) is taken over the valid tokens
    of the whole micro-batch (scope "batch") or of each sequence ("sequence").
    quantile_kept = 1 makes τ the minimum, so every valid token is eligible.
    """
    if scope not in ENTROPY_SCOPES:
        raise ValueError(f"entropy_scope must be one of {', '.join(ENTROPY_SCOPES)}; got {scope!r}")
    h = entropy.detach()
    if scope == "batch":
        tau = quantile(h[valid], 1 - quantile_kept) if valid.any() else h.new_tensor(torch.inf)
    else:
        tau = torch.nanquantile(h.masked_fill(~valid, torch.nan), 1 - quantile_kept, dim=-1, keepdim=True)
    return valid & (h >= tau)
