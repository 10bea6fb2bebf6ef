"""Evaluation: pass@k estimators, benchmark loading, sampling and scoring.

Importing this package is cheap (numpy, omegaconf; it registers the ``eval`` config
schemas in Hydra's ConfigStore); the model-facing parts
(``evaluate``, ``EvalResult``, ``log_to_wandb``) are loaded on first access.
"""

from __future__ import annotations

from typing import Any

from harness.eval.config import BenchmarkConfig, EvalConfig, register_configs  # registers schemas
from harness.eval.passk import avg_at_n, maj_at_n, majority_vote, pass_at_k

_LAZY = {
    "evaluate": "harness.eval.runner",
    "EvalResult": "harness.eval.runner",
    "log_to_wandb": "harness.eval.runner",
    "load_benchmark": "harness.eval.benchmarks",
    "load_benchmarks": "harness.eval.benchmarks",
}

__all__ = [
    "BenchmarkConfig",
    "EvalConfig",
    "register_configs",
    "avg_at_n",
    "maj_at_n",
    "majority_vote",
    "pass_at_k",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'harness.eval' has no attribute {name!r}")
