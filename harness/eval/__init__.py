"""Evaluation: pass@k estimators, benchmark loading, sampling and scoring.

Importing this package loads only the pass@k estimators (numpy), re-exported here; the
model-facing parts live in ``harness.eval.runner`` (``evaluate``), ``harness.eval.benchmarks``
and ``harness.eval.generate``. The ``eval`` and ``benchmark`` schemas are registered in Hydra's
ConfigStore by ``harness.config.schema.register_configs``, not by importing this package.
"""

from harness.eval.passk import avg_at_n, maj_at_n, majority_vote, pass_at_k

__all__ = ["avg_at_n", "maj_at_n", "majority_vote", "pass_at_k"]
