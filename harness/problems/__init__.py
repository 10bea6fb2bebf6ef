"""Problems, for training and evaluation alike: one schema and one loader for tasks and benchmarks,
the built-in arithmetic generator (``arith``), the prompt (``prompt``) and the TRL dataset (``dataset``).

:class:`ProblemSource` (``harness.problems.source``) says where problems come from: a local JSONL/parquet
file, a hub dataset or the built-in arithmetic generator, and which columns hold them;
:func:`load_problems` (``harness.problems.problems``) reads any of them into checked :class:`Problem` rows.
``TaskConfig`` (``task``) and ``BenchmarkConfig`` (``benchmark.<name>``) are thin subclasses.
"""

from harness.problems.problems import Problem, load_problems
from harness.problems.source import SOURCES, ProblemSource

__all__ = ["SOURCES", "Problem", "ProblemSource", "load_problems"]
