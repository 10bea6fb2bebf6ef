"""GSPO (token form): the uniform kernel."""

from __future__ import annotations

from dataclasses import dataclass

from harness.methods.base import MethodConfig
from harness.methods.registry import TokenBatch, Traced, register_method
from harness.methods.trace import trace


@dataclass
class GSPOLossConfig(MethodConfig):
    """GSPO (published): sequence ratio s_i, ε_low = 3e-4, ε_high = 4e-4, `seq-mean-token-mean`."""

    name: str = "gspo"
    clip_low: float = 3e-4
    clip_high: float = 4e-4


@register_method(GSPOLossConfig)
def gspo(batch: TokenBatch, cfg: GSPOLossConfig) -> Traced:
    """X[i,t] = (1/n_i)·Σ_j x[i,j] for every t, so ρ[i,t] = s_i = exp(mean_j x[i,j]).

    With one advantage per sequence, value and gradient equal the
    sequence-level GSPO objective −mean_i min(s_i·A_i, clip(s_i)·A_i).
    """
    return Traced(trace(batch.x, batch.valid, "uniform"))
