"""The config fields every method shares, validated on construction.

A method's config is a dataclass whose fields are str, int, float, bool or
Optional[float], each with a default; it is also the method's Hydra schema.
Invalid values raise ``ValueError("<field>: <what is wrong>")`` in
``__post_init__`` (which ``OmegaConf.to_object`` runs). ``adv_clamp = -inf``
means "no advantage clamp"; ``dual_clip = None`` means "no dual clip". A method
whose objective has no use for a shared field lists it in ``inert`` (field ->
why); such a field must keep its default, so setting it is an error, not a no-op.
"""

from __future__ import annotations

import math
from dataclasses import Field, dataclass, field, fields
from types import UnionType
from typing import Any, ClassVar, Union, get_args, get_origin, get_type_hints

from harness.methods.surrogate import LOSS_AGGS
from harness.validation import check, check_choice, check_range


def knob(default: Any, tag: str, *, in_name: bool = False) -> Any:
    """A field that identifies a run: it becomes a W&B tag ``<tag>:<value>`` and part of the run's
    name, always with ``in_name`` (``strace-lam0.99-q0.2-tiny-s0``), otherwise when set away from
    its default (``grpo_lambda-lam0.99-lag-tiny-s0``)."""
    return field(default=default, metadata={"tag": tag, "in_name": in_name})


def knobs(cfg: MethodConfig) -> list[tuple[Field[Any], str]]:
    """The ``knob`` fields of a method config, with their tags, in field order."""
    return [(f, f.metadata["tag"]) for f in fields(cfg) if "tag" in f.metadata]


@dataclass
class MethodConfig:
    """Fields shared by every method: clipped surrogate, dual clip, KL and aggregation.

    ℓ_t = −min(ρ_t·A, clip(ρ_t, 1−clip_low, 1+clip_high)·A), for A < 0 then
    min(ℓ_t, −A·dual_clip); plus beta·k3_t; A ← max(A, adv_clamp); aggregated by `loss_agg`.
    """

    name: str = ""
    clip_low: float = 0.2
    clip_high: float = 0.2
    dual_clip: float | None = None
    beta: float = 0.0
    loss_agg: str = "seq-mean-token-mean"
    adv_clamp: float = -math.inf

    inert: ClassVar[dict[str, str]] = {}

    def __post_init__(self) -> None:
        self._check_types()
        expected = self.method_name()
        check(
            self.name == expected,
            "name",
            f"must be {expected!r} for {type(self).__name__}, got {self.name!r}",
        )
        for key, why in self.inert.items():
            default = type(self).__dataclass_fields__[key].default
            check(
                getattr(self, key) == default,
                key,
                f"has no effect in {expected} ({why}); leave it at {default}",
            )
        self.validate()

    @classmethod
    def method_name(cls) -> str:
        """The registered name of this config's method (the default of `name`)."""
        default = cls.__dataclass_fields__["name"].default
        assert isinstance(default, str)
        return default

    def validate(self) -> None:
        """Range checks; subclasses extend this."""
        check_range(self.clip_low, "clip_low", 0.0, 1.0)
        check_range(self.clip_high, "clip_high", 0.0, math.inf)
        if self.dual_clip is not None:
            check_range(self.dual_clip, "dual_clip", 1.0, math.inf, open_low=True)
        check_range(self.beta, "beta", 0.0, math.inf)
        check_choice(self.loss_agg, "loss_agg", LOSS_AGGS)
        check_range(self.adv_clamp, "adv_clamp", -math.inf, 0.0)

    def _check_types(self) -> None:
        """Each field holds its annotated type (ints are accepted for floats)."""
        hints = get_type_hints(type(self))
        for f in fields(self):
            kind, optional = _unwrap_optional(hints[f.name])
            value = getattr(self, f.name)
            if value is None and optional:
                continue
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
                setattr(self, f.name, value)
            wrong = not isinstance(value, kind) or (kind is not bool and isinstance(value, bool))
            check(
                not wrong, f.name, f"must be a {kind.__name__}{' or None' if optional else ''}, got {value!r}"
            )


@dataclass
class TraceConfig(MethodConfig):
    """A traced method: kernel `style` with decay a = gamma·lam, optionally row-normalised."""

    lam: float = knob(0.99, "lam", in_name=True)
    gamma: float = 1.0
    style: str = knob("recent", "style")
    normalize: bool = True

    @property
    def styles(self) -> tuple[str, ...]:
        """The kernels `style` may name."""
        return ("recent", "both", "uniform")

    @property
    def decay(self) -> float:
        """a = γ·λ."""
        return self.gamma * self.lam

    def validate(self) -> None:
        super().validate()
        check_range(self.lam, "lam", 0.0, 1.0)
        check_range(self.gamma, "gamma", 0.0, 1.0)
        check_choice(self.style, "style", self.styles)


def _unwrap_optional(hint: object) -> tuple[type, bool]:
    """(X, True) for ``X | None`` (or ``Optional[X]``), (X, False) for X."""
    if get_origin(hint) in (Union, UnionType):
        (arg,) = [a for a in get_args(hint) if a is not type(None)]
        return arg, True
    if not isinstance(hint, type):
        raise TypeError(f"method config fields are plain types or X | None, got {hint!r}")
    return hint, False
