"""S-trace (documented reconstruction, see docs/methods.md)."""

from __future__ import annotations

from dataclasses import dataclass

from harness.methods.base import knob
from harness.methods.eligibility import ENTROPY_SCOPES, high_entropy_mask
from harness.methods.ptrace import PTraceLossConfig
from harness.methods.registry import TokenBatch, Traced, register_method
from harness.methods.trace import trace
from harness.validation import check_choice, check_range

MASK_NORMS = ("all", "eligible")


@dataclass
class STraceLossConfig(PTraceLossConfig):
    """S-trace: P-trace whose trace only holds the top `entropy_quantile` entropy tokens.

    `loss_mask` also drops the ineligible tokens' surrogate from the loss;
    `mask_norm` says what the aggregation then counts: "all" valid tokens, with
    the KL term kept on all of them (the 80/20 paper, TRL's
    `top_entropy_quantile`), or only the "eligible" ones (KL dropped elsewhere).
    """

    name: str = "strace"
    entropy_quantile: float = knob(0.2, "q", in_name=True)
    entropy_scope: str = "batch"
    loss_mask: bool = knob(False, "loss_mask")
    mask_norm: str = "all"

    def validate(self) -> None:
        super().validate()
        check_range(self.entropy_quantile, "entropy_quantile", 0.0, 1.0, open_low=True)
        check_choice(self.entropy_scope, "entropy_scope", ENTROPY_SCOPES)
        check_choice(self.mask_norm, "mask_norm", MASK_NORMS)


@register_method(STraceLossConfig)
def strace(batch: TokenBatch, cfg: STraceLossConfig) -> Traced:
    """P-trace over the eligible tokens only: X[i,t] = Σ_j K(t,j)·e[i,j]·x[i,j] / Σ_j K(t,j)·e[i,j],
    e[i,j] = [H[i,j] ≥ τ], τ the (1 − entropy_quantile) quantile of H."""
    if batch.entropy is None:
        raise ValueError("method 'strace' needs `entropy` (the policy's per-token entropy, [B, T])")
    eligible = high_entropy_mask(batch.entropy, batch.valid, cfg.entropy_quantile, cfg.entropy_scope)
    log_ratio = trace(batch.x, batch.valid, cfg.style, cfg.decay, normalize=cfg.normalize, eligible=eligible)
    if not cfg.loss_mask:
        return Traced(log_ratio, eligible=eligible)
    agg_mask = eligible if cfg.mask_norm == "eligible" else None
    return Traced(log_ratio, eligible=eligible, policy_mask=eligible, agg_mask=agg_mask)
