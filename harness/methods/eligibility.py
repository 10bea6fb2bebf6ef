"""S-trace's eligibility: keep the high-entropy tokens."""

from __future__ import annotations

import math

import torch
from torch import Tensor

ENTROPY_SCOPES = ("batch", "sequence")
_INT_VIEW = {8: torch.int64, 4: torch.int32, 2: torch.int16}
_BINS = 1 << 16


def quantile_threshold(values: Tensor, valid: Tensor, p: float) -> Tensor:
    """The smallest valid value ≥ torch.quantile(values[valid], p), exactly.

    With n valid values and k = p·(n − 1), the interpolated quantile τ lies in
    [v_(⌊k⌋), v_(⌈k⌉)] and equals v_(⌊k⌋) only when k is whole; any sample value
    above v_(⌊k⌋) is at least v_(⌈k⌉). So for sample values, ``h >= τ`` ⇔
    ``h >= v_(⌈k⌉)``: one order statistic, found by a two-pass radix select
    (a 2^16-bin histogram of the values' top 16 bits, then a small selection
    inside the one bin that holds the rank), which avoids gathering and
    selecting over all the valid values.
    """
    bins = torch.where(valid, _order_keys(values), _BINS)  # invalid values: a bin past the last
    below = torch.bincount(bins.flatten(), minlength=_BINS + 1)[:_BINS].cumsum(0)
    n = int(below[-1])
    if n == 0:
        return values.new_tensor(math.inf)
    rank = math.ceil(p * (n - 1))
    b = int(torch.searchsorted(below, rank, right=True))
    before = int(below[b - 1]) if b else 0
    return values[bins == b].kthvalue(rank - before + 1).values


def _order_keys(values: Tensor) -> Tensor:
    """Bins 0 … 2^16 − 1 from the top 16 bits of each float's bit pattern, in the floats' order."""
    width = values.element_size()
    bits = values.contiguous().view(_INT_VIEW[width])
    keys = (bits.to(torch.int32) if width < 4 else bits) >> (8 * width - 16)  # sign-extended: [−2^15, 2^15)
    if bool(keys.min() >= 0):  # entropies: no sign bit set, keys already in [0, 2^15)
        return keys
    return (keys ^ ((keys >> 15) & 0x7FFF)) + (1 << 15)  # negatives: reverse their magnitude order


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
        tau = quantile_threshold(h, valid, 1 - quantile_kept)
    else:
        tau = torch.nanquantile(h.masked_fill(~valid, torch.nan), 1 - quantile_kept, dim=-1, keepdim=True)
    return valid & (h >= tau)
