"""Load a task's training problems as a ``datasets.Dataset`` TRL can consume.

Real math data (MATH-12k, DAPO-Math-17k, ORZ-57k style) comes from a local
JSONL/parquet file or the hub, with configurable problem/answer columns.
``task_rows`` reads and checks every row; ``harness.train`` calls it before the
warm start, the model load or W&B, so an empty file or a malformed row fails
at once, naming the key, the file and the row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datasets import Dataset

from harness.errors import DataError
from harness.tasks import prompt_messages
from harness.tasks.arith import make_problems


def _load_raw(cfg: Any) -> list[Any]:
    """Every raw row: local .jsonl/.json/.parquet read here (errors name the line), anything else
    (the hub, globs, compressed files) through ``datasets.load_dataset``."""
    from harness.eval.benchmarks import LOCAL_SUFFIXES, BenchmarkError, read_local

    path = Path(cfg.path).expanduser()
    if cfg.source != "hub" and path.suffix.lower() in LOCAL_SUFFIXES:
        try:
            return read_local(path)
        except BenchmarkError as err:
            raise DataError(f"task.path: {err}") from None
    from datasets import load_dataset

    try:
        if cfg.source == "hub":
            return load_dataset(cfg.path, cfg.subset or None, split=cfg.split).to_list()
        builder = "json" if cfg.source == "jsonl" else "parquet"
        return load_dataset(builder, data_files=cfg.path, split="train").to_list()
    except Exception as err:  # noqa: BLE001 - offline, missing, unreadable: one message naming the key
        raise DataError(f"task.path={cfg.path}: cannot load ({type(err).__name__}: {str(err).splitlines()[0]})") from None


def _row(cfg: Any, raw: Any, i: int) -> dict[str, str]:
    where = f"{cfg.path}, row {i}"
    if not isinstance(raw, dict):
        raise DataError(f"{where}: expected an object, got {type(raw).__name__}")
    for key in (cfg.problem_key, cfg.answer_key):
        if key not in raw:
            raise DataError(f"{where}: missing column {key!r} (columns: {sorted(raw)})")
    problem, answer = raw[cfg.problem_key], raw[cfg.answer_key]
    if isinstance(problem, list):  # chat-formatted prompt column, e.g. DAPO-Math-17k
        problem = next((m.get("content") for m in problem if isinstance(m, dict) and m.get("role") == "user"), None)
    if not isinstance(problem, str) or not problem.strip():
        raise DataError(f"{where}: column {cfg.problem_key!r} is empty or not text")
    if isinstance(answer, dict):  # e.g. DAPO's {"ground_truth": ...}
        answer = answer.get("ground_truth")
    if answer is None or not str(answer).strip():
        raise DataError(f"{where}: column {cfg.answer_key!r} is empty")
    pid = str(raw[cfg.id_key]) if cfg.id_key and cfg.id_key in raw else f"{cfg.name}-{i}"
    return {"id": pid, "problem": problem, "answer": str(answer)}


def task_rows(cfg: Any) -> list[dict[str, str]]:
    """The task's training problems, every row checked: ``[{"id", "problem", "answer"}, ...]``."""
    if cfg.source == "arith":
        rows = make_problems("train", cfg.n_train, steps=cfg.steps, max_operand=cfg.max_operand, seed=cfg.seed)
        return [{k: r[k] for k in ("id", "problem", "answer")} for r in rows]
    raw = _load_raw(cfg)
    if not raw:
        raise DataError(f"task.path={cfg.path}: no rows (the file is empty)")
    n = len(raw) if not cfg.limit else min(cfg.limit, len(raw))
    return [_row(cfg, raw[i], i) for i in range(n)]


def rows_dataset(rows: list[dict[str, str]]) -> Dataset:
    """Conversational prompts plus the ``answer`` column the reward function reads."""
    return Dataset.from_dict({
        "prompt": [prompt_messages(r["problem"]) for r in rows],
        "answer": [r["answer"] for r in rows],
        "problem_id": [r["id"] for r in rows],
    })


def train_dataset(cfg: Any) -> Dataset:
    """``rows_dataset(task_rows(cfg))``."""
    return rows_dataset(task_rows(cfg))
