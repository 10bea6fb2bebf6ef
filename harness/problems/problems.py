"""Read any :class:`~harness.problems.source.ProblemSource` into checked :class:`Problem` rows.

The one loader behind training tasks (``harness.problems.dataset``) and benchmarks
(``harness.eval.benchmarks``): the same file with the same columns gives the same problems to both.
A raw row becomes a problem through its configured columns, taking the user's turn of a
chat-formatted prompt column and the ``ground_truth`` of a dict answer (DAPO-Math-17k), and writing
numbers and lists of answers as text. A row that cannot be used stops the load with a ``DataError``
naming the file, the row and the key to set.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from harness.errors import DataError
from harness.problems.readers import read_rows
from harness.problems.source import ProblemSource


@dataclass(frozen=True)
class Problem:
    id: str
    problem: str
    answer: str


def load_problems(src: ProblemSource) -> list[Problem]:
    """The first ``src.limit`` problems of ``src`` (all if 0), every one checked; ids are unique."""
    if src.source == "arith":
        return _generated(src)[: src.limit or None]
    rows = read_rows(src)[: src.limit or None]
    where = location(src)
    problems = [to_problem(src, row, f"{where}, row {i}", i) for i, row in enumerate(rows)]
    _check_unique_ids(problems, src, where)
    return problems


def _generated(src: ProblemSource) -> list[Problem]:
    """The arithmetic generator's problems: well formed by construction, ids name split and length."""
    from harness.problems.arith import make_problems

    try:
        rows = make_problems(
            src.split,
            src.n_problems,
            n_operations=src.n_operations,
            max_operand=src.max_operand,
            seed=src.seed,
        )
    except ValueError as err:  # more problems asked for than the split holds
        raise DataError(f"{src.key}.n_problems: {err}") from None
    return [Problem(row["id"], row["problem"], row["answer"]) for row in rows]


def location(src: ProblemSource) -> str:
    """The file or dataset that error messages name."""
    if src.source == "arith":
        return f"{src.key} (arith)"
    return src.path or f"{src.hub} ({src.split})"


def to_problem(src: ProblemSource, row: object, at: str, index: int) -> Problem:
    """``row`` through ``src``'s columns; ``at`` (file and row) starts every error message."""
    if not isinstance(row, Mapping):
        raise DataError(f"{at}: expected an object, got {type(row).__name__}")
    for field in ("problem_key", "answer_key", "id_key"):
        column = getattr(src, field)
        if column and column not in row:
            raise DataError(
                f"{at}: missing column {column!r} (columns: {sorted(row)}); set {src.key}.{field}"
            )
    problem = problem_text(row[src.problem_key])
    if not problem:
        raise DataError(f"{at}: column {src.problem_key!r} is empty or not text ({src.key}.problem_key)")
    answer = answer_text(row[src.answer_key])
    if not answer:
        raise DataError(f"{at}: column {src.answer_key!r} is empty ({src.key}.answer_key)")
    pid = row[src.id_key] if src.id_key else index
    if pid is None or not str(pid).strip():
        raise DataError(f"{at}: column {src.id_key!r} is empty ({src.key}.id_key)")
    return Problem(str(pid), problem, answer)


def problem_text(value: object) -> str:
    """The problem statement, or "" if there is none; a chat (list of messages) gives its user turn."""
    if isinstance(value, list):  # e.g. DAPO-Math-17k's prompt column
        users = [m.get("content") for m in value if isinstance(m, Mapping) and m.get("role") == "user"]
        value = users[0] if users else None
    return value if isinstance(value, str) and value.strip() else ""


def answer_text(value: object) -> str:
    """A gold answer as text: numbers without a spurious ``.0``, lists joined, ``$...$`` unwrapped."""
    if isinstance(value, Mapping):  # e.g. DAPO-Math-17k's {"ground_truth": ...}
        value = value.get("ground_truth")
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(answer_text(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if len(text) >= 2 and text[0] == "$" and text[-1] == "$":
        text = text.strip("$").strip()
    return text


def _check_unique_ids(problems: list[Problem], src: ProblemSource, where: str) -> None:
    dups = sorted(pid for pid, n in Counter(p.id for p in problems).items() if n > 1)
    if dups:
        raise DataError(f"{where}: duplicate problem ids {dups[:20]} ({src.key}.id_key={src.id_key!r})")
