"""``HarnessPolicyLossConfig``: verl's policy-loss config plus the harness method's own knobs.

    actor_rollout_ref.actor.policy_loss._target_=harness.verl.HarnessPolicyLossConfig
    actor_rollout_ref.actor.policy_loss.loss_mode=harness_strace
    +actor_rollout_ref.actor.policy_loss.method.lam=0.99

verl builds its actor config with Hydra's ``instantiate``, so naming this class as the target
imports the harness (a missing package fails there, loudly, before any compute), registers every
``harness_<method>`` and validates ``method`` against the method's dataclass. It also installs the
entropy hook (``harness.verl.entropy``) in the engine worker that is building its actor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from verl.workers.config import PolicyLossConfig

from harness.verl import entropy
from harness.verl.losses import check_knobs, method_of


@dataclass
class HarnessPolicyLossConfig(PolicyLossConfig):
    """verl's ``PolicyLossConfig`` whose ``loss_mode`` is ``harness_<method>``; ``method``: its knobs."""

    loss_mode: str = "harness_grpo"
    method: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_knobs(method_of(self.loss_mode), dict(self.method))
        entropy.install()
