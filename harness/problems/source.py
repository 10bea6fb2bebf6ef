"""The schema of a source of math problems, shared by ``task`` and every ``benchmark.<name>``.

``source`` says which kind it is:

- ``local``: a JSONL / JSON / parquet file at ``path``;
- ``hub``: the Hugging Face dataset ``hub`` (``subset``, ``split``); a non-empty ``path`` wins
  (an offline copy of that dataset, same columns);
- ``arith``: the built-in arithmetic generator (``harness.problems.arith``): ``n_problems`` problems of its
  ``split`` (train, warm or test), each chaining ``n_operations`` operations on integers up to
  ``max_operand``, reproducible from ``seed``.

``problem_key`` / ``answer_key`` / ``id_key`` name a file's or dataset's columns (``id_key`` empty: the
row index is the problem id); ``limit`` keeps the first rows (0: all). ``harness.problems.problems`` reads
any source into checked rows; ``TaskConfig`` and ``BenchmarkConfig`` add their own knobs and defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.problems.arith import SPLITS as ARITH_SPLITS
from harness.validation import check, check_choice

SOURCES = ("local", "hub", "arith")
RENAMED_SOURCES = {"jsonl": "local", "parquet": "local"}  # the task's old vocabulary


@dataclass
class ProblemSource:
    """Where problems come from and which columns hold them; validated when built."""

    name: str = ""
    source: str = "arith"
    path: str = ""
    hub: str = ""
    subset: str = ""
    split: str = "test"
    problem_key: str = "problem"
    answer_key: str = "answer"
    id_key: str = ""
    limit: int = 0  # first `limit` problems; 0 = all
    # source == "arith"
    n_problems: int = 100
    n_operations: int = 2
    max_operand: int = 12
    seed: int = 0

    @property
    def key(self) -> str:
        """This source's place in the config: errors name ``<key>.<field>``."""
        return self.name or "source"

    def __post_init__(self) -> None:
        key = self.key
        _check_source(self.source, f"{key}.source")
        if self.source == "hub":
            check(bool(self.hub or self.path), f"{key}.hub", "set a hub dataset id (or a local path)")
        if self.source == "local":
            check(bool(self.path), f"{key}.path", "required for source 'local'")
        if self.source == "arith":
            check(
                not self.path,
                f"{key}.path",
                f"{self.path!r} is not read by source 'arith' (a file: source=local)",
            )
            check_choice(self.split, f"{key}.split", ARITH_SPLITS)
        else:
            check(bool(self.problem_key), f"{key}.problem_key", "must be set")
            check(bool(self.answer_key), f"{key}.answer_key", "must be set")
        counts = (("limit", 0), ("n_problems", 1), ("n_operations", 1), ("max_operand", 1))
        for field, low in counts:
            value = getattr(self, field)
            check(value >= low, f"{key}.{field}", f"must be >= {low}, got {value}")


def _check_source(value: str, key: str) -> None:
    """``value`` is one of ``SOURCES``; the old names say which one replaced them."""
    new = RENAMED_SOURCES.get(value)
    check(new is None, key, f"{value!r} is now {new!r} (the file's suffix says its format)")
    check_choice(value, key, SOURCES)
