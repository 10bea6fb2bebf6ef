"""The TRL seam named in one place (issue 19): every hook the adapter overrides or private method it
calls still exists in the installed TRL / transformers, and the adapter overrides no unlisted one."""

from __future__ import annotations

import inspect

import pytest
import transformers
import trl

from harness.run.checkpoints import AtomicCheckpoints
from harness.training.engine import HarnessGRPOTrainer
from harness.training.hooks import GRPO_CALLS, GRPO_OVERRIDES, TRAINER_OVERRIDES


@pytest.mark.parametrize("name", sorted({**GRPO_OVERRIDES, **GRPO_CALLS}))
def test_every_listed_grpo_trainer_hook_exists_in_the_installed_trl(name: str) -> None:
    hook = getattr(trl.GRPOTrainer, name, None)
    assert callable(hook), (
        f"trl {trl.__version__}: GRPOTrainer.{name} is gone; harness.training.engine relies on it"
    )


@pytest.mark.parametrize("name", sorted(TRAINER_OVERRIDES))
def test_every_listed_trainer_hook_exists_in_the_installed_transformers(name: str) -> None:
    hook = getattr(transformers.Trainer, name, None)
    assert callable(hook), (
        f"transformers {transformers.__version__}: Trainer.{name} is gone; harness.run.checkpoints relies on it"
    )


def _overrides(cls: type, base: type) -> set[str]:
    """The methods ``cls`` defines itself that ``base`` also has."""
    return {n for n, v in vars(cls).items() if callable(v) and not n.startswith("__") and hasattr(base, n)}


def test_the_adapter_overrides_exactly_the_listed_hooks() -> None:
    assert _overrides(HarnessGRPOTrainer, trl.GRPOTrainer) == set(GRPO_OVERRIDES)
    assert _overrides(AtomicCheckpoints, transformers.Trainer) == set(TRAINER_OVERRIDES)


def test_the_listed_private_calls_are_the_ones_the_adapter_makes() -> None:
    source = inspect.getsource(HarnessGRPOTrainer)
    for name in GRPO_CALLS:
        assert f"self.{name}(" in source
