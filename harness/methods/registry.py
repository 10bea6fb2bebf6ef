"""The method registry: a method is a config dataclass plus a trace function.

A trace function turns one micro-batch's per-token log-ratios into what the
shared clipped surrogate needs (`Traced`). A method is one module holding both:

    @dataclass
    class MyLossConfig(MethodConfig):
        name: str = "my_method"

    @register_method(MyLossConfig)
    def my_method(batch: TokenBatch, cfg: MyLossConfig) -> Traced: ...

and `policy_loss("my_method", ...)` picks it up once the module is imported.
A method whose per-token objective is not the clipped surrogate (CISPO, GMPO,
SAPO) also registers its own: ``@register_method(MyLossConfig, surrogate=fn)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, NamedTuple, TypeVar

from torch import Tensor

from harness.methods.base import MethodConfig
from harness.methods.surrogate import clipped_surrogate, clipped_tokens


class TokenBatch(NamedTuple):
    """One micro-batch as a trace function sees it ([B, T], right padded).

    x: the masked per-token log-ratio (logp − old)·mask; carries the gradient.
    valid: the completion tokens (bool).
    logp: the policy's log-probs, with gradient (arbitrary off `valid`).
    entropy: the policy's per-token entropy, or None.
    max_len: the configured max completion length (≥ T), or None.
    adv: the advantages the loss trains with (after `adv_clamp`; [B] or [B, T]), or None.
    """

    x: Tensor
    valid: Tensor
    logp: Tensor
    entropy: Tensor | None = None
    max_len: int | None = None
    adv: Tensor | None = None


class Traced(NamedTuple):
    """What a method hands to the shared surrogate (None means: every valid token).

    log_ratio: X[i,t], the traced log importance ratio (carries the gradient).
    eligible: e[i,t], the tokens that enter the trace (bool, a subset of the valid ones).
    policy_mask: the tokens whose clipped surrogate enters the loss (bool).
    agg_mask: the tokens the aggregation counts, and where the KL term applies (bool).
    weight: a per-token multiplier of the clipped surrogate (ε-weight), or None.
    """

    log_ratio: Tensor
    eligible: Tensor | None = None
    policy_mask: Tensor | None = None
    agg_mask: Tensor | None = None
    weight: Tensor | None = None


class Surrogate(NamedTuple):
    """A method's per-token objective on the traced log-ratio, before ε-weight, KL and aggregation.

    loss: ℓ[i,t] (carries the gradient). ratio: the importance ratio it uses (metrics).
    clipped: where its clip is active (bool; the `clip_frac` metric).
    """

    loss: Tensor
    ratio: Tensor
    clipped: Tensor


C = TypeVar("C", bound=MethodConfig)
TraceFn = Callable[[TokenBatch, C], Traced]
SurrogateFn = Callable[[Tensor, Tensor, TokenBatch, C], Surrogate]


def clipped(log_ratio: Tensor, adv: Tensor, batch: TokenBatch, cfg: MethodConfig) -> Surrogate:
    """The default: ℓ = −min(ρ·A, clip(ρ, 1−ε_low, 1+ε_high)·A), ρ = exp(min(X, 20)), with the dual clip."""
    loss, ratio = clipped_surrogate(log_ratio, adv, cfg.clip_low, cfg.clip_high, cfg.dual_clip)
    return Surrogate(loss, ratio, clipped_tokens(ratio, adv, cfg.clip_low, cfg.clip_high))


@dataclass(frozen=True)
class Method(Generic[C]):
    """A registered method: its name, its config dataclass, its trace function and its surrogate
    (log_ratio X, advantages, batch, config) -> `Surrogate`."""

    name: str
    config: type[C]
    trace: TraceFn[C]
    surrogate: SurrogateFn[C] = clipped


METHODS: dict[str, Method] = {}


def register_method(
    config: type[C], *, surrogate: SurrogateFn[C] = clipped
) -> Callable[[TraceFn[C]], TraceFn[C]]:
    """Register the decorated trace function under `config`'s default `name` (with `surrogate`,
    the per-token objective, when it is not the clipped surrogate)."""
    name = config.method_name()

    def decorate(fn: TraceFn[C]) -> TraceFn[C]:
        if not name:
            raise ValueError(f"{config.__name__} needs a default `name` to be registered")
        if name in METHODS:
            raise ValueError(f"method {name!r} is already registered")
        METHODS[name] = Method(name, config, fn, surrogate)
        return fn

    return decorate


def get_method(name: str) -> Method:
    """The registered method called `name`; ValueError listing the known ones."""
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; known methods: {', '.join(sorted(METHODS))}")
    return METHODS[name]


def get_method_config(name: str, **overrides: object) -> MethodConfig:
    """`name`'s config dataclass with `overrides` applied (validated on construction)."""
    config = get_method(name).config
    known = config.__dataclass_fields__
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        allowed = ", ".join(f for f in known if f != "name")
        raise ValueError(f"unknown parameter(s) {', '.join(unknown)} for method {name!r}; allowed: {allowed}")
    return config(**overrides)
