"""S-trace's eligibility: keep the high-entropy tokens."""

from __future__ import annotations

import math

import torch
from torch import Tensor

ENTROPY_SCOPES = ("batch", "sequence")


def quantile_threshold(values: Tensor, p: float) -> Tensor:
    """The smallest sample value ≥ torch.quantile(values, p), by one O(N) selection.

    With k = p·(N − 1), the interpolated quantile τ lies in [v_(⌊k⌋), v_(⌈k⌉)] and
    equals v_(⌊k⌋) only when k is whole; any sample value above v_(⌊k⌋) is at least
    v_(⌈k⌉). So for sample values, ``h >= τ`` ⇔ ``h >= v_(⌈k⌉)``.
    """
    k = p * (values.numel() - 1)
    return values.kthvalue(math.ceil(k) + 1).values


def high_entropy_mask(entropy: Tensor, valid: Tensor, quantile_kept: float, scope: str) -> Tensor:
    """e[i,t] = valid[i,t] and H[i,t] ≥ τ, τ = the (1 − quantile_kept) quantile of H.

    τ (linear interpolation, as torch.quantile) is taken over the valid tokens
    of the whole micro-batch (scope "batch") or of each sequence ("sequence").
    quantile_kept = 1 makes τ the minimum, so every valid token is eligible.
    """
    if scope not in ENTROPY_SCOPES:
        raise ValueError(f"entropy_scope must be one of {', '.join(ENTROPY_SCOPES)}; got {scope!r}")
    if quantile_kept >= 1.0:  # τ is the minimum: every valid token is eligible
        return valid.bool()
    h = entropy.detach()
    if scope == "batch":
        tau = quantile_threshold(h[valid], 1 - quantile_kept) if valid.any() else h.new_tensor(torch.inf)
    else:
        tau = torch.nanquantile(h.masked_fill(~valid, torch.nan), 1 - quantile_kept, dim=-1, keepdim=True)
    return valid & (h >= tau)
