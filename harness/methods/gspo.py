"""GSPO (token form): the uniform kernel."""

from __future__ import annotations

from torch import Tensor

from harness.methods.config import GSPOConfig
from harness.methods.registry import Traced, register_method
from harness.methods.trace import trace


@register_method(GSPOConfig)
def gspo(x: Tensor, valid: Tensor, cfg: GSPOConfig, entropy: Tensor | None) -> Traced:
    """X[i,t] = (1/n_i)·Σ_j x[i,j] for every t, so ρ[i,t] = s_i = exp(mean_j x[i,j]).

    With one advantage per sequence, value and gradient equal the
    sequence-level GSPO objective −mean_i min(s_i·A_i, clip(s_i)·A_i).
    """
    return Traced(trace(x, valid, "uniform", normalize=cfg.normalize), eligible=valid, loss_mask=valid)
