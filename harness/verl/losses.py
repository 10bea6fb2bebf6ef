"""Every harness method as a verl policy loss ``harness_<method>`` (loaded by ``import verl``).

verl calls a registered policy loss as ``fn(old_log_prob, log_prob, advantages, response_mask,
loss_agg_mode, config, rollout_is_weights) -> (loss, metrics)`` with ``config`` the actor config
(``verl.workers.config.ActorConfig``). The adapter builds the method's config from it:

    verl (actor_rollout_ref.actor.*)          harness method config
    clip_ratio_low / clip_ratio_high          clip_low / clip_high (each falls back to clip_ratio)
    clip_ratio_c                              dual_clip (verl's PPO losses always apply it)
    loss_agg_mode                             loss_agg (token-sum has no harness equivalent: error)
    policy_loss.method.<knob>                 the method's own knobs (HarnessPolicyLossConfig)
    loss_scale_factor                         max_len (T_max of seq-mean-token-sum-norm; GRPO-λ's n)

``beta`` stays 0: verl adds its own KL term (``use_kl_loss``, ``kl_loss_coef``) in ``ppo_loss``.
The aggregation uses verl's global counts (``config.global_batch_info``: ``dp_size``,
``batch_num_tokens``, ``global_batch_size``), so the loss equals verl's under data parallelism:
verl divides a rank's sum by the global count and multiplies by ``dp_size`` before DDP averages
the gradients, i.e. divides by the global count over ``dp_size``, which is what the harness is
handed. Without them (a direct call) the micro-batch's own counts are used, as verl does.

GRPO-λ's trace length n (``trace_length: max``) is the padded response width verl hands the loss:
verl pads every response of a rollout to ``data.max_response_length`` (``max_response_len`` in
``left_right_2_no_padding``), so n = ``data.max_response_length``, as in the authors' verl fork;
``actor.loss_scale_factor``, when set, overrides it.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from harness.methods import METHODS, MethodConfig, TokenBatch, get_method, get_method_config, policy_loss
from harness.verl import entropy as entropy_hook

LOSS_PREFIX = "harness_"
KNOBS_KEY = "actor_rollout_ref.actor.policy_loss.method"
MAPPED = {  # method fields that come from verl's own knobs, and where to set them instead
    "clip_low": "actor_rollout_ref.actor.clip_ratio_low",
    "clip_high": "actor_rollout_ref.actor.clip_ratio_high",
    "dual_clip": "actor_rollout_ref.actor.clip_ratio_c",
    "loss_agg": "actor_rollout_ref.actor.loss_agg_mode",
    "beta": "actor_rollout_ref.actor.use_kl_loss and kl_loss_coef (verl adds the KL term itself)",
}


def loss_mode(method: str) -> str:
    """The verl loss mode of a harness method: ``harness_<method>``."""
    return f"{LOSS_PREFIX}{method}"


def method_of(mode: str) -> str:
    """The harness method behind a verl loss mode; ValueError naming the key and the known modes."""
    name = mode.removeprefix(LOSS_PREFIX)
    if not mode.startswith(LOSS_PREFIX) or name not in METHODS:
        known = ", ".join(loss_mode(m) for m in sorted(METHODS))
        raise ValueError(
            f"actor_rollout_ref.actor.policy_loss.loss_mode: {mode!r} is not a harness method; known: {known}"
        )
    return name


def check_knobs(method: str, knobs: dict[str, Any]) -> MethodConfig:
    """The method's config with its own ``knobs`` (shared fields at their defaults); errors name the key."""
    mapped = sorted(set(knobs) & set(MAPPED))
    if mapped:
        raise ValueError(f"{KNOBS_KEY}.{mapped[0]}: set {MAPPED[mapped[0]]} instead")
    try:
        return get_method_config(method, **knobs)
    except ValueError as err:
        raise ValueError(f"{KNOBS_KEY}: {err}") from None


def method_config(method: str, config: Any, loss_agg_mode: str) -> MethodConfig:
    """The harness config of ``method`` under verl's actor ``config`` (the table above)."""
    clip = config.get("clip_ratio", 0.2)
    low, high = config.get("clip_ratio_low"), config.get("clip_ratio_high")
    knobs = dict(config.get("policy_loss", {}).get("method", None) or {})
    check_knobs(method, knobs)
    if loss_agg_mode == "token-sum":
        raise ValueError(
            "actor_rollout_ref.actor.loss_agg_mode: 'token-sum' has no harness equivalent; use token-mean, "
            "seq-mean-token-mean, seq-mean-token-sum or seq-mean-token-sum-norm"
        )
    shared = {
        "clip_low": clip if low is None else low,
        "clip_high": clip if high is None else high,
        "dual_clip": config.get("clip_ratio_c", 3.0),
        "loss_agg": loss_agg_mode,
        "beta": 0.0,
    }
    inert = get_method(method).config.inert  # verl always sets its clips; a method without one ignores them
    shared = {key: value for key, value in shared.items() if key not in inert}
    try:
        cfg = get_method_config(method, **knobs, **shared)
    except ValueError as err:
        raise ValueError(f"{loss_mode(method)}: {err}") from None
    if (
        loss_agg_mode == "token-mean"
        and getattr(cfg, "loss_mask", False)
        and getattr(cfg, "mask_norm", "") == "eligible"
    ):
        raise ValueError(
            f"{KNOBS_KEY}.mask_norm: 'eligible' counts only the eligible tokens, but verl's token-mean divides "
            "by all response tokens of the global batch; use mask_norm=all or another loss_agg_mode"
        )
    return cfg


def global_counts(config: Any, mask: Tensor) -> tuple[float, float]:
    """(n_tokens, n_seqs) per rank: verl's global counts over dp_size, or the local counts."""
    info = dict(config.get("global_batch_info", None) or {})
    dp = float(info.get("dp_size") or 1)
    tokens, seqs = info.get("batch_num_tokens"), info.get("global_batch_size")
    valid = mask.bool()
    n_tokens = float(valid.sum().clamp(min=1)) if tokens is None else float(tokens) / dp
    # verl's local fallback counts only the sequences with a response token
    n_seqs = float(valid.any(-1).sum().clamp(min=1)) if seqs is None else float(seqs) / dp
    return n_tokens, n_seqs


def needs_entropy(method: str) -> bool:
    """Whether the method's trace reads the policy's entropies (it refuses a batch without them)."""
    valid = torch.ones(1, 2, dtype=torch.bool)
    x = torch.zeros(1, 2)
    try:
        get_method(method).trace(TokenBatch(x, valid, x), get_method_config(method))
    except ValueError as err:
        return "entropy" in str(err)
    return False


def make_policy_loss(method: str) -> Any:
    """The verl policy loss function of one harness method."""
    mode = loss_mode(method)

    def harness_policy_loss(
        old_log_prob: Tensor,
        log_prob: Tensor,
        advantages: Tensor,
        response_mask: Tensor,
        loss_agg_mode: str = "token-mean",
        config: Any = None,
        rollout_is_weights: Tensor | None = None,
    ) -> tuple[Tensor, dict[str, Any]]:
        if config is None:
            raise ValueError(f"{mode}: verl passed no actor config")
        if rollout_is_weights is not None:
            raise ValueError(
                f"{mode}: rollout correction weights (algorithm.rollout_correction.rollout_is) cannot be "
                "mapped onto a harness method; switch rollout_is off"
            )
        cfg = method_config(method, config, loss_agg_mode)
        entropy = entropy_hook.current()
        if entropy is None and needs_entropy(method):
            raise ValueError(
                f"{mode} needs the actor's per-token entropies, which verl does not pass to a policy loss: set "
                "actor_rollout_ref.actor.calculate_entropy=true and "
                "actor_rollout_ref.actor.policy_loss._target_=harness.verl.HarnessPolicyLossConfig "
                "(harness-verl sets both)"
            )
        n_tokens, n_seqs = global_counts(config, response_mask)
        loss, metrics = policy_loss(
            cfg,
            log_prob,
            old_log_prob,
            advantages,
            response_mask,
            entropy=entropy,
            max_len=config.get("loss_scale_factor", None),
            n_tokens=n_tokens,
            n_seqs=n_seqs,
        )
        out = {f"actor/harness/{k}": v for k, v in metrics.items()}
        out["actor/pg_clipfrac"] = metrics["clip_frac"]
        with torch.no_grad():
            valid = response_mask.bool()
            out["actor/ppo_kl"] = float((old_log_prob - log_prob)[valid].mean()) if valid.any() else 0.0
        return loss, out

    harness_policy_loss.__name__ = f"compute_policy_loss_{mode}"
    return harness_policy_loss


def register_all() -> list[str]:
    """Register every method of the registry (also ones added later) with verl; the loss modes."""
    from verl.trainer.ppo.core_algos import register_policy_loss

    modes = []
    for method in sorted(METHODS):
        register_policy_loss(loss_mode(method))(make_policy_loss(method))
        modes.append(loss_mode(method))
    return modes


REGISTERED = register_all()
