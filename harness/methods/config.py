"""Each method's defaults as a typed, validated dataclass.

These are the structured-config schemas of `conf/method/*.yaml`: every field
is a str, int, float or bool with a default, and `name` defaults to the
method's name. Invalid values raise ValueError in `__post_init__` (which
`OmegaConf.to_object` runs), naming the field and its allowed range.
`adv_clamp = -inf` means "no advantage clamp".
"""

import math
from dataclasses import dataclass, fields
from typing import get_type_hints

from harness.methods.eligibility import ENTROPY_SCOPES
from harness.methods.registry import METHODS
from harness.methods.surrogate import LOSS_AGGS

STYLES = ("recent", "both", "uniform")
PLACEMENTS = ("ratio", "weight")


def _in_range(name: str, value: float, low: float, high: float, *, open_low: bool = False) -> None:
    """Raise ValueError unless low ≤ value ≤ high (low < value when open_low)."""
    ok = (low < value if open_low else low <= value) and value <= high
    if not ok:
        bracket = "(" if open_low else "["
        raise ValueError(f"{name} must be in {bracket}{low}, {high}], got {value}")


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> None:
    """Raise ValueError unless value is one of `allowed`."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


@dataclass
class MethodConfig:
    """Fields shared by every method: clipped surrogate, KL and aggregation.

    ℓ_t = −min(ρ_t·A, clip(ρ_t, 1−clip_low, 1+clip_high)·A) + beta·k3_t,
    with A ← max(A, adv_clamp), aggregated by `loss_agg`.
    """

    name: str = ""
    clip_low: float = 0.2
    clip_high: float = 0.2
    beta: float = 0.0
    loss_agg: str = "seq-mean-token-mean"
    adv_clamp: float = -math.inf

    def __post_init__(self) -> None:
        self._check_types()
        self._check_name()
        self.validate()

    def validate(self) -> None:
        """Range checks; subclasses extend this."""
        _in_range("clip_low", self.clip_low, 0.0, 1.0)
        _in_range("clip_high", self.clip_high, 0.0, math.inf)
        _in_range("beta", self.beta, 0.0, math.inf)
        _one_of("loss_agg", self.loss_agg, LOSS_AGGS)
        _in_range("adv_clamp", self.adv_clamp, -math.inf, 0.0)

    def _check_types(self) -> None:
        """Each field holds its annotated type (ints are accepted for floats)."""
        types = get_type_hints(type(self))
        for f in fields(self):
            value, kind = getattr(self, f.name), types[f.name]
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
                setattr(self, f.name, value)
            if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
                raise ValueError(f"{f.name} must be a {kind.__name__}, got {value!r}")

    def _check_name(self) -> None:
        """`name` is this class's method, which must be registered."""
        expected = type(self).__dataclass_fields__["name"].default
        if self.name != expected or self.name not in METHODS:
            raise ValueError(
                f"name must be {expected!r} for {type(self).__name__}, got {self.name!r}; "
                f"known methods: {', '.join(sorted(METHODS))}"
            )


@dataclass
class GRPOConfig(MethodConfig):
    """GRPO: identity kernel, X = x."""

    name: str = "grpo"


@dataclass
class GSPOConfig(MethodConfig):
    """GSPO: uniform kernel, X[i,t] = mean_j x[i,j] (normalize) for every t."""

    name: str = "gspo"
    clip_low: float = 3e-4
    clip_high: float = 4e-4
    normalize: bool = True


@dataclass
class TraceConfig(MethodConfig):
    """A traced method: kernel `style` with decay a = gamma·lam, optionally row-normalised."""

    lam: float = 0.99
    gamma: float = 1.0
    style: str = "recent"
    normalize: bool = True

    def validate(self) -> None:
        super().validate()
        _in_range("lam", self.lam, 0.0, 1.0)
        _in_range("gamma", self.gamma, 0.0, 1.0)
        _one_of("style", self.style, STYLES)


@dataclass
class GRPOLambdaConfig(TraceConfig):
    """GRPO-λ: ε-trace (`placement="ratio"`) or ε-weight (`placement="weight"`)."""

    name: str = "grpo_lambda"
    style: str = "both"
    normalize: bool = False
    adv_clamp: float = -0.1
    placement: str = "ratio"
    weight_norm: bool = False

    def validate(self) -> None:
        super().validate()
        _one_of("placement", self.placement, PLACEMENTS)


@dataclass
class PTraceConfig(TraceConfig):
    """P-trace: recent kernel, normalised (λ-discounted geometric mean of prefix ratios)."""

    name: str = "ptrace"


@dataclass
class STraceConfig(PTraceConfig):
    """S-trace: P-trace whose trace only holds the top `entropy_quantile` entropy tokens."""

    name: str = "strace"
    entropy_quantile: float = 0.2
    entropy_scope: str = "batch"
    loss_mask: bool = False

    def validate(self) -> None:
        super().validate()
        _in_range("entropy_quantile", self.entropy_quantile, 0.0, 1.0, open_low=True)
        _one_of("entropy_scope", self.entropy_scope, ENTROPY_SCOPES)
