"""The method registry: a method is a config dataclass plus a trace function.

A trace function turns the per-token log-ratios into what the shared clipped
surrogate needs (`Traced`). Register one with

    @register_method(MyConfig)
    def my_method(x, valid, cfg, entropy): ...

and `policy_loss("my_method", ...)` picks it up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, NamedTuple

from torch import Tensor

if TYPE_CHECKING:
    from harness.methods.config import MethodConfig


class Traced(NamedTuple):
    """What a method hands to the shared surrogate.

    log_ratio: X[i,t], the traced log importance ratio (carries the gradient).
    eligible: e[i,t] (bool), the valid tokens that enter the trace.
    loss_mask: the rows that enter the aggregation (bool).
    weight: a detached per-token multiplier of the surrogate (ε-weight), or None.
    """

    log_ratio: Tensor
    eligible: Tensor
    loss_mask: Tensor
    weight: Tensor | None = None


TraceFn = Callable[[Tensor, Tensor, "MethodConfig", "Tensor | None"], Traced]


@dataclass(frozen=True)
class Method:
    """A registered method: its name, its config dataclass and its trace function."""

    name: str
    config: type[MethodConfig]
    trace: TraceFn


METHODS: dict[str, Method] = {}


def register_method(config: type[MethodConfig]) -> Callable[[TraceFn], TraceFn]:
    """Register the decorated trace function under `config`'s default `name`."""
    name = config.__dataclass_fields__["name"].default

    def decorate(fn: TraceFn) -> TraceFn:
        if name in METHODS:
            raise ValueError(f"method {name!r} is already registered")
        METHODS[name] = Method(name, config, fn)
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
    unknown = sorted(set(overrides) - set(config.__dataclass_fields__))
    if unknown:
        allowed = ", ".join(f for f in config.__dataclass_fields__ if f != "name")
        raise ValueError(f"unknown parameter(s) {', '.join(unknown)} for method {name!r}; allowed: {allowed}")
    return config(**overrides)
