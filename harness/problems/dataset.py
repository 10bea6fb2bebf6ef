"""A training task's problems as the ``datasets.Dataset`` TRL consumes.

The rows come from :func:`harness.problems.load_problems`, the loader benchmarks use too (MATH-12k,
DAPO-Math-17k, ORZ-57k style data from a local JSONL/parquet file or the hub, or the arithmetic
task's train split). ``task_rows`` reads and checks every row; ``harness.train`` calls it (through
``harness.training.preflight``) before the warm start, the model load or W&B, so an empty file or a malformed
row fails at once, naming the key, the file and the row.
"""

from __future__ import annotations

from dataclasses import asdict

from datasets import Dataset

from harness.problems import load_problems
from harness.problems.prompt import prompt_messages
from harness.problems.source import ProblemSource


def task_rows(cfg: ProblemSource) -> list[dict[str, str]]:
    """The task's training problems, every row checked: ``[{"id", "problem", "answer"}, ...]``."""
    return [asdict(problem) for problem in load_problems(cfg)]


def rows_dataset(rows: list[dict[str, str]]) -> Dataset:
    """Conversational prompts plus the ``answer`` column the reward function reads."""
    return Dataset.from_dict(
        {
            "prompt": [prompt_messages(r["problem"]) for r in rows],
            "answer": [r["answer"] for r in rows],
            "problem_id": [r["id"] for r in rows],
        }
    )


def train_dataset(cfg: ProblemSource) -> Dataset:
    """``rows_dataset(task_rows(cfg))``."""
    return rows_dataset(task_rows(cfg))
