"""Credit-assignment policy losses for RLVR: GRPO, GRPO-λ, GSPO, P-trace, S-trace, HAPO, and
the peers' CISPO, GMPO and SAPO.

Pure torch; usable from any trainer. A method is one module of this package (its config
dataclass beside its trace function, registered by ``@register_method``); every module
here is imported below, so a new method is one new file. See docs/methods.md.
"""

import importlib
import pkgutil

from harness.methods.advantages import compute_advantages
from harness.methods.base import MethodConfig, TraceConfig, knob, knobs
from harness.methods.cispo import CISPOLossConfig
from harness.methods.gmpo import GMPOLossConfig
from harness.methods.grpo import GRPOLossConfig
from harness.methods.grpo_lambda import GRPOLambdaLossConfig
from harness.methods.gspo import GSPOLossConfig
from harness.methods.hapo import HAPOLossConfig
from harness.methods.loss import policy_loss
from harness.methods.ptrace import PTraceLossConfig
from harness.methods.registry import (
    METHODS,
    Method,
    Surrogate,
    TokenBatch,
    Traced,
    get_method,
    get_method_config,
    register_method,
)
from harness.methods.sapo import SAPOLossConfig
from harness.methods.strace import STraceLossConfig

__all__ = [
    "METHODS",
    "CISPOLossConfig",
    "GMPOLossConfig",
    "GRPOLambdaLossConfig",
    "GRPOLossConfig",
    "GSPOLossConfig",
    "HAPOLossConfig",
    "Method",
    "MethodConfig",
    "PTraceLossConfig",
    "SAPOLossConfig",
    "STraceLossConfig",
    "Surrogate",
    "TokenBatch",
    "TraceConfig",
    "Traced",
    "compute_advantages",
    "get_method",
    "get_method_config",
    "knob",
    "knobs",
    "policy_loss",
    "register_method",
]

_MACHINERY = {"advantages", "base", "eligibility", "loss", "quadrants", "registry", "surrogate", "trace"}
for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _MACHINERY:
        importlib.import_module(f"{__name__}.{_module.name}")  # registers its method
