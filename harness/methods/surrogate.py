"""The pieces every method shares: clipped surrogate, k3 KL and aggregation."""

from __future__ import annotations

import torch
from torch import Tensor

MAX_LOG_RATIO = 20.0
LOSS_AGGS = ("token-mean", "seq-mean-token-mean", "seq-mean-token-sum", "seq-mean-token-sum-norm")


def clipped_surrogate(
    log_ratio: Tensor, adv: Tensor, clip_low: float, clip_high: float, dual_clip: float | None = None
) -> tuple[Tensor, Tensor]:
    """ℓ_t = −min(ρ_t·A, clip(ρ_t, 1−ε_low, 1+ε_high)·A), ρ_t = exp(min(X_t, 20)).

    With `dual_clip` = c (verl's clip_ratio_c): where A < 0, ℓ_t ← min(ℓ_t, −A·c),
    bounding the loss of a token whose ratio ran far above 1.
    adv: [B] (one advantage per sequence) or [B, T]. Returns (ℓ, ρ), both [B, T].
    """
    ratio = torch.exp(log_ratio.clamp(max=MAX_LOG_RATIO))
    adv = _per_token(adv)
    clipped = ratio.clamp(1 - clip_low, 1 + clip_high)
    loss = -torch.minimum(ratio * adv, clipped * adv)
    if dual_clip is not None:
        loss = torch.where(adv < 0, torch.minimum(loss, -adv * dual_clip), loss)
    return loss, ratio


def _per_token(adv: Tensor) -> Tensor:
    return adv.unsqueeze(-1) if adv.dim() == 1 else adv


@torch.no_grad()
def clipped_tokens(ratio: Tensor, adv: Tensor, clip_low: float, clip_high: float) -> Tensor:
    """Where the clipped branch is active (zero gradient): ρ > 1+ε_high with A > 0, or ρ < 1−ε_low with A < 0."""
    adv = _per_token(adv)
    return ((ratio > 1 + clip_high) & (adv > 0)) | ((ratio < 1 - clip_low) & (adv < 0))


@torch.no_grad()
def dual_clipped_tokens(ratio: Tensor, adv: Tensor, dual_clip: float) -> Tensor:
    """Where the dual clip is active: A < 0 and |A|·max(ρ, clip(ρ)) > |A|·c, i.e. ρ > c (c > 1)."""
    adv = _per_token(adv)
    return (adv < 0) & (ratio > dual_clip)


def k3_kl(logp: Tensor, ref_logp: Tensor, valid: Tensor) -> Tensor:
    """k3_t = exp(ref_t − logp_t) − (ref_t − logp_t) − 1 (0 off `valid`)."""
    diff = torch.where(valid, ref_logp - logp, 0)
    return torch.exp(diff) - diff - 1


def aggregate(
    per_token: Tensor,
    keep: Tensor,
    loss_agg: str,
    *,
    n_tokens: float | Tensor | None = None,
    n_seqs: float | Tensor | None = None,
    max_len: float | None = None,
) -> Tensor:
    """Reduce ℓ[i,t] over the `keep` tokens to the scalar loss.

    token-mean               Σ_(i,t) ℓ / n_tokens
    seq-mean-token-mean      Σ_i (Σ_t ℓ / n_i) / n_seqs
    seq-mean-token-sum       Σ_i Σ_t ℓ / n_seqs
    seq-mean-token-sum-norm  Σ_i Σ_t ℓ / (n_seqs · max_len)

    n_i counts sequence i's kept tokens. n_tokens, n_seqs and max_len default
    to this micro-batch's own counts (kept tokens, B, T); under gradient
    accumulation pass the whole batch's counts and sum the micro-batch losses.
    """
    if loss_agg not in LOSS_AGGS:
        raise ValueError(f"loss_agg must be one of {', '.join(LOSS_AGGS)}; got {loss_agg!r}")
    kept = per_token.masked_fill(~keep, 0)
    if loss_agg == "token-mean":
        return kept.sum() / (keep.sum().clamp(min=1) if n_tokens is None else n_tokens)
    per_seq = kept.sum(-1)
    if loss_agg == "seq-mean-token-mean":
        per_seq = per_seq / keep.sum(-1).clamp(min=1)
    elif loss_agg == "seq-mean-token-sum-norm":
        per_seq = per_seq / (keep.shape[-1] if max_len is None else max_len)
    return per_seq.sum() / (keep.shape[0] if n_seqs is None else n_seqs)
