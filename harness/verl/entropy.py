"""The entropy hook: verl computes the actor's per-token entropies but hands a policy loss none.

verl 0.9.1's ``ppo_loss`` (``verl/workers/utils/losses.py``) receives the model output, entropies
included when the actor runs with ``calculate_entropy=True``, and calls the registered policy loss
with log-probs only. ``install()`` wraps the ``ppo_loss`` that verl's engine worker binds as its
loss function (``verl.workers.engine_workers.ppo_loss``, read when the worker builds its actor)
so that, for the duration of one call, the padded entropies of that micro-batch are readable by
``current()``. ``HarnessPolicyLossConfig`` installs it when verl builds the actor config, which the
worker does just before it binds the loss function.
"""

from __future__ import annotations

import sys
from contextvars import ContextVar
from typing import Any

from torch import Tensor

_ENTROPY: ContextVar[Tensor | None] = ContextVar("harness_verl_entropy", default=None)


def ppo_loss_with_entropy(config: Any, model_output: Any, data: Any, dp_group: Any = None) -> Any:
    """verl's ``ppo_loss``, with this micro-batch's entropies ([B, T], detached) visible to ``current()``."""
    from verl.workers.utils.losses import ppo_loss
    from verl.workers.utils.padding import no_padding_2_padding

    entropy = model_output.get("entropy", None)
    padded = None if entropy is None else no_padding_2_padding(entropy, data).detach()
    token = _ENTROPY.set(padded)
    try:
        return ppo_loss(config, model_output, data, dp_group)
    finally:
        _ENTROPY.reset(token)


def current() -> Tensor | None:
    """The entropies of the micro-batch whose loss is being computed, or None."""
    return _ENTROPY.get()


def install() -> bool:
    """Make verl's engine worker use ``ppo_loss_with_entropy`` (idempotent); False where no engine
    worker is loaded (the driver validating its config: the workers install it themselves)."""
    workers = sys.modules.get("verl.workers.engine_workers")
    if workers is not None:
        workers.__dict__["ppo_loss"] = ppo_loss_with_entropy
    return workers is not None
