"""verl integration: every harness method as a verl policy loss, and ``harness-verl`` to launch verl.

A pure adapter over verl's public extension points (verl ~= 0.9.1, installed by ``make
install-verl``); it copies no verl code.

- ``harness.verl.losses`` registers each method of ``harness.methods`` as the verl loss mode
  ``harness_<method>`` (``register_policy_loss``). ``import verl`` loads it through the
  ``verl.plugins`` entry point of this package, so
  ``actor_rollout_ref.actor.policy_loss.loss_mode=harness_strace`` just works.
- ``HarnessPolicyLossConfig`` is the loud route and carries the method's own knobs:
  ``actor_rollout_ref.actor.policy_loss._target_=harness.verl.HarnessPolicyLossConfig`` imports the
  harness when verl builds its actor config (a missing package is Hydra's "Error locating target"),
  validates ``policy_loss.method.<knob>`` against the method's dataclass, and installs the entropy
  hook S-trace needs (``harness.verl.entropy``).
- ``harness.verl.launch`` (``harness-verl``) turns the harness's Hydra choices into
  ``python -m verl.trainer.main_ppo`` overrides, locally or on SLURM.

The names below import verl on first use (PEP 562), so ``harness-verl`` can say that verl is missing.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["LOSS_PREFIX", "HarnessPolicyLossConfig", "loss_mode", "method_of", "register_all"]
_HOME = {"HarnessPolicyLossConfig": "config", "LOSS_PREFIX": "losses", "loss_mode": "losses"}
_HOME |= {"method_of": "losses", "register_all": "losses"}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
