"""GRPO-λ (arXiv 2510.00194) in two forms: as the authors released it, and the paper's lag form.

`form: released` (default) is what the authors' training code computes (the
co-author's public verl fork, `compute_eligibility_trace` and
`compute_policy_loss_grpol`): a kernel with a unit diagonal whose entries below
it depend on the column j and on a length n, floored at 1e-7

    K(t, t) = 1,   K(t, j) = c_j = max(1e-7, w(j)) for j < t,   a = γ·λ
    recent  w(j) = a^(n − 1 − j)      both  w(j) = max(a^(n − j), a^j)      early  w(j) = a^j

with n the padded completion length (`trace_length: max`) or the sequence's
own length (`sequence`).

`form: lag` is the kernel of the paper's Theorem 1, K(t, j) = a^(t − j)
(recent) or max(a^(t − j), a^j) (both), with our exact ε-weight reconstruction.
The two forms agree at γλ = 1 (ratio placement). docs/methods.md has a figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from harness.methods.base import TraceConfig, knob
from harness.methods.registry import TokenBatch, Traced, register_method
from harness.methods.trace import RELEASED_STYLES, column_sums, prefix_trace, released_weights, trace
from harness.validation import check, check_choice

FORMS = ("released", "lag")
LAG_STYLES = ("recent", "both", "uniform")
PLACEMENTS = ("ratio", "weight")
TRACE_LENGTHS = ("max", "sequence")


@dataclass
class GRPOLambdaLossConfig(TraceConfig):
    """GRPO-λ: ε-trace (`placement: ratio`) or ε-weight (`placement: weight`), released or lag form.

    Defaults as in the authors' example: released form, style both, λ = 0.99,
    γ = 1, advantages clamped at −0.1, n = the max completion length, ε = 0.2,
    `token-mean` (verl's default).
    """

    name: str = "grpo_lambda"
    form: str = knob("released", "form")
    style: str = knob("both", "style")
    placement: str = knob("ratio", "placement")
    trace_length: str = "max"
    normalize: bool = False
    weight_norm: bool = False
    adv_clamp: float = -0.1
    loss_agg: str = "token-mean"

    @property
    def styles(self) -> tuple[str, ...]:
        return RELEASED_STYLES if self.form == "released" else LAG_STYLES

    def validate(self) -> None:
        check_choice(self.form, "form", FORMS)
        if self.form == "lag":
            check(
                self.style != "early", "style", "'early' exists in the released form only (use form=released)"
            )
        super().validate()
        check_choice(self.placement, "placement", PLACEMENTS)
        check_choice(self.trace_length, "trace_length", TRACE_LENGTHS)
        if self.form == "released":
            check(not self.normalize, "normalize", "the released form has no normaliser (use form=lag)")
            check(not self.weight_norm, "weight_norm", "belongs to the lag form only (use form=lag)")
        else:
            check(self.trace_length == "max", "trace_length", "applies to the released form only")


@register_method(GRPOLambdaLossConfig)
def grpo_lambda(batch: TokenBatch, cfg: GRPOLambdaLossConfig) -> Traced:
    """The released or lag form, ε-trace (ratio) or ε-weight (weight) placement."""
    return released(batch, cfg) if cfg.form == "released" else lag(batch, cfg)


def released(batch: TokenBatch, cfg: GRPOLambdaLossConfig) -> Traced:
    """ratio:  X[i,t] = x[i,t] + Σ_(j<t) c_j·x[i,j]                         (their update_style=ppo)
    weight: X[i,t] = x[i,t], ℓ[i,t] scaled by E[i,t] = s_t + Σ_(j<t) c_j·s_j,
            s_j = 1 + σ(logp[i,j] − 1) on valid tokens, 0 elsewhere; E carries
            logp's gradient, as in their code                              (their update_style=weight)
    """
    x, valid = batch.x, batch.valid
    c = released_weights(valid, cfg.style, cfg.decay, trace_length(batch, cfg), x.dtype)
    if cfg.placement == "ratio":
        return Traced(prefix_trace(x, c))
    logp = torch.where(valid, batch.logp.to(x.dtype), 0)  # masked before σ: padding may hold NaN
    s = torch.where(valid, 1 + torch.sigmoid(logp - 1), 0)
    return Traced(x, weight=prefix_trace(s, c))


def trace_length(batch: TokenBatch, cfg: GRPOLambdaLossConfig) -> int | Tensor:
    """n: the padded completion length (`max`: max_len, else T) or each sequence's length ([B, 1])."""
    lengths = batch.valid.sum(-1, keepdim=True)
    if cfg.trace_length == "sequence":
        return lengths.clamp(min=1)
    T = batch.x.shape[-1]
    n = T if batch.max_len is None else int(batch.max_len)
    if n < T and int(lengths.max()) > n:  # columns past n are padding only: fine
        raise ValueError(f"max_len={n} is shorter than a completion ({int(lengths.max())} tokens)")
    return n


def lag(batch: TokenBatch, cfg: GRPOLambdaLossConfig) -> Traced:
    """ratio:  X[i,t] = Σ_(j≤t) K(t,j)·x[i,j]  (ε-trace).
    weight: X[i,t] = x[i,t], ℓ[i,j] scaled by the detached W[i,j] = Σ_(t≥j, valid) K(t,j)
            (ε-weight; on-policy its gradient equals the ε-trace's).
    K(t,j) = a^(t−j) ("recent") or max(a^(t−j), a^j) ("both").
    """
    x, valid = batch.x, batch.valid
    if cfg.placement == "ratio":
        return Traced(trace(x, valid, cfg.style, cfg.decay, normalize=cfg.normalize))
    weight = column_sums(valid, cfg.style, cfg.decay, normalize=cfg.normalize, dtype=x.dtype)
    if cfg.weight_norm:
        weight = mean_one(weight, valid)
    return Traced(x, weight=weight)


def mean_one(weight: Tensor, valid: Tensor) -> Tensor:
    """W[i,j] / mean_(valid j) W[i,j]: mean 1 over each sequence's valid tokens."""
    mean = weight.sum(-1, keepdim=True) / valid.sum(-1, keepdim=True).clamp(min=1)
    return weight / mean.clamp(min=torch.finfo(weight.dtype).tiny)
