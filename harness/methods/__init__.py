"""Credit-assignment policy losses for RLVR: GRPO, GRPO-λ, GSPO, P-trace, S-trace.

Pure torch; usable from any trainer. See docs/methods.md.
"""

from harness.methods import grpo, grpo_lambda, gspo, ptrace  # noqa: F401  (registers the methods)
from harness.methods.advantages import compute_advantages
from harness.methods.config import (
    GRPOConfig,
    GRPOLambdaConfig,
    GSPOConfig,
    MethodConfig,
    PTraceConfig,
    STraceConfig,
    TraceConfig,
)
from harness.methods.loss import policy_loss
from harness.methods.registry import METHODS, Method, Traced, get_method_config, register_method

__all__ = [
    "METHODS",
    "GRPOConfig",
    "GRPOLambdaConfig",
    "GSPOConfig",
    "Method",
    "MethodConfig",
    "PTraceConfig",
    "STraceConfig",
    "TraceConfig",
    "Traced",
    "compute_advantages",
    "get_method_config",
    "policy_loss",
    "register_method",
]
