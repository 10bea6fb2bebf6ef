"""`policy_loss`: one entry point for every registered method."""

from __future__ import annotations

from dataclasses import fields

import torch
from torch import Tensor

from harness.methods.base import MethodConfig
from harness.methods.quadrants import gradient_masses
from harness.methods.registry import Surrogate, TokenBatch, Traced, get_method, get_method_config
from harness.methods.surrogate import aggregate, dual_clipped_tokens, k3_kl
from harness.methods.trace import mask_tokens


def policy_loss(
    name: str | MethodConfig,
    logp: Tensor,
    old_logp: Tensor,
    advantages: Tensor,
    mask: Tensor,
    *,
    entropy: Tensor | None = None,
    ref_logp: Tensor | None = None,
    n_tokens: float | Tensor | None = None,
    n_seqs: float | Tensor | None = None,
    max_len: float | None = None,
    **params: object,
) -> tuple[Tensor, dict[str, float]]:
    """The policy loss of method `name` on one micro-batch, and its metrics.

        x[i,t] = (logp − old_logp)·mask,  X = trace of x (the method's kernel),
        ℓ[i,t] = −min(ρ·A, clip(ρ, 1−ε_low, 1+ε_high)·A),  ρ = exp(min(X, 20))
                 [A < 0 and dual_clip = c: ℓ ← min(ℓ, −A·c)] [· W] + β·k3,
        loss   = aggregate(ℓ) by `loss_agg`
    (a method that registers its own surrogate replaces the clipped ℓ: CISPO, GMPO, SAPO).

    name: a registered method (`METHODS`: "grpo", "grpo_lambda", "gspo", "ptrace",
        "strace", "hapo", "cispo", "gmpo", "sapo") or a method config instance
        (e.g. built by Hydra).
    logp, old_logp, mask: [B, T]; logp carries the gradient, mask is nonzero
        on valid completion tokens (right padding). advantages: [B] or [B, T].
    entropy: [B, T], required by "strace" and "hapo". ref_logp: [B, T], required when beta > 0.
    params: override the method's defaults (fields of its config dataclass).
    n_tokens, n_seqs: the aggregation's denominators (token count for
        token-mean, sequence count for seq-mean-*). They default to this
        micro-batch's own counts, so one call gives the one-batch loss. Under
        gradient accumulation pass the global counts and sum the micro-batch losses.
    max_len: the configured max completion length (default: T). It is T_max of
        seq-mean-token-sum-norm and n of GRPO-λ's released kernel (trace_length=max).

    Returns the scalar loss (with gradient) and python-float metrics:
    clip_frac, ratio_mean, abs_x_mean (mean |X|), eligible_frac, dual_clip_frac
    when dual_clip is set, kl when beta > 0, and, when `entropy` is given and the
    loss has a gradient, the Four Quadrant gradient masses grad_pos_high,
    grad_pos_low, grad_neg_high, grad_neg_low (`harness.methods.quadrants`).
    """
    cfg = _resolve_config(name, params)
    _check_shapes(logp, old_logp, advantages, mask, entropy=entropy, ref_logp=ref_logp)
    _check_counts(n_tokens=n_tokens, n_seqs=n_seqs, max_len=max_len)
    if cfg.beta > 0 and ref_logp is None:
        raise ValueError(f"beta={cfg.beta} > 0 needs `ref_logp` (the reference model's log-probs, [B, T])")
    dtype = torch.promote_types(logp.dtype, torch.float32)
    logp = logp.to(dtype)
    valid = mask.bool()
    adv = advantages.to(dtype).clamp(min=cfg.adv_clamp)
    x = torch.where(valid, logp - old_logp.to(dtype), 0)
    batch = TokenBatch(x, valid, logp, entropy, None if max_len is None else int(max_len), adv)
    method = get_method(cfg.name)
    traced = method.trace(batch, cfg)
    surrogate = method.surrogate(traced.log_ratio, adv, batch, cfg)
    per_token = surrogate.loss
    if traced.weight is not None:
        per_token = per_token * traced.weight
    if traced.policy_mask is not None:
        per_token = mask_tokens(per_token, traced.policy_mask)  # finite: ρ = exp(min(X, 20))
    kl = None
    if cfg.beta > 0:
        assert ref_logp is not None  # checked above
        kl = k3_kl(logp, ref_logp.to(dtype), valid)
        per_token = per_token + cfg.beta * kl
    keep = valid if traced.agg_mask is None else traced.agg_mask
    loss = aggregate(per_token, keep, cfg.loss_agg, n_tokens=n_tokens, n_seqs=n_seqs, max_len=max_len)
    masses = {} if entropy is None else gradient_masses(loss, logp, adv, entropy, valid)
    return loss, _metrics(cfg, traced, surrogate, adv, valid, kl, masses)


def _resolve_config(name: str | MethodConfig, params: dict[str, object]) -> MethodConfig:
    """The method's config: its defaults (or the given config) with `params` applied."""
    if isinstance(name, MethodConfig):
        if not params:  # already built and validated (e.g. by Hydra): use it as is
            return name
        params = {**{f.name: getattr(name, f.name) for f in fields(name) if f.name != "name"}, **params}
        name = name.name
    return get_method_config(name, **params)


def _check_shapes(
    logp: Tensor, old_logp: Tensor, advantages: Tensor, mask: Tensor, **optional: Tensor | None
) -> None:
    """Every [B, T] input matches logp; advantages is [B] or [B, T]."""
    if logp.dim() != 2:
        raise ValueError(f"logp must be [B, T], got shape {tuple(logp.shape)}")
    for tensor_name, tensor in {"old_logp": old_logp, "mask": mask, **optional}.items():
        if tensor is not None and tensor.shape != logp.shape:
            raise ValueError(
                f"{tensor_name} has shape {tuple(tensor.shape)} but logp has shape {tuple(logp.shape)}"
            )
    if advantages.shape not in (logp.shape[:1], logp.shape):
        raise ValueError(
            f"advantages must be [B] or [B, T] with [B, T] = {list(logp.shape)}, got shape {tuple(advantages.shape)}"
        )


def _check_counts(**counts: float | Tensor | None) -> None:
    """The global aggregation counts, when given, are positive."""
    for count_name, count in counts.items():
        if count is not None and not count > 0:
            raise ValueError(f"{count_name} must be > 0, got {count}")


@torch.no_grad()
def _metrics(
    cfg: MethodConfig,
    traced: Traced,
    surrogate: Surrogate,
    adv: Tensor,
    valid: Tensor,
    kl: Tensor | None,
    masses: dict[str, Tensor],
) -> dict[str, float]:
    """Means over the tokens whose surrogate counts (eligible_frac: over the valid ones), and the
    quadrant gradient masses, as python floats."""
    ratio = surrogate.ratio
    keep = valid if traced.policy_mask is None else traced.policy_mask
    n_keep = keep.sum().clamp(min=1)

    def mean(values: Tensor) -> Tensor:
        return values.masked_fill(~keep, 0).sum() / n_keep

    eligible = valid if traced.eligible is None else traced.eligible
    metrics = {
        "clip_frac": mean(surrogate.clipped.to(ratio.dtype)),
        "ratio_mean": mean(ratio),
        "abs_x_mean": mean(traced.log_ratio.abs()),
        "eligible_frac": eligible.sum().to(ratio.dtype) / valid.sum().clamp(min=1),
    }
    if cfg.dual_clip is not None:
        metrics["dual_clip_frac"] = mean(dual_clipped_tokens(ratio, adv, cfg.dual_clip).to(ratio.dtype))
    if kl is not None:
        metrics["kl"] = mean(kl)
    metrics.update({key: mass.to(ratio.dtype) for key, mass in masses.items()})
    return dict(zip(metrics, torch.stack(list(metrics.values())).tolist(), strict=True))
