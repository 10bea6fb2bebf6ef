"""Credit-assignment policy losses for RLVR: GRPO, GRPO-λ, GSPO, P-trace, S-trace.

Pure torch; usable from any trainer. A method is one module (its config
dataclass beside its trace function); importing it registers it. See docs/methods.md.
"""

from harness.methods.advantages import compute_advantages
from harness.methods.base import MethodConfig, TraceConfig
from harness.methods.grpo import GRPOLossConfig
from harness.methods.grpo_lambda import GRPOLambdaLossConfig
from harness.methods.gspo import GSPOLossConfig
from harness.methods.loss import policy_loss
from harness.methods.ptrace import PTraceLossConfig
from harness.methods.registry import (
    METHODS,
    Method,
    TokenBatch,
    Traced,
    get_method,
    get_method_config,
    register_method,
)
from harness.methods.strace import STraceLossConfig

__all__ = [
    "METHODS",
    "GRPOLambdaLossConfig",
    "GRPOLossConfig",
    "GSPOLossConfig",
    "Method",
    "MethodConfig",
    "PTraceLossConfig",
    "STraceLossConfig",
    "TokenBatch",
    "TraceConfig",
    "Traced",
    "compute_advantages",
    "get_method",
    "get_method_config",
    "policy_loss",
    "register_method",
]
