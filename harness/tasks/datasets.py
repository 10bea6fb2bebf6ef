"""Load a task's training problems as a ``datasets.Dataset`` TRL can consume.

Real math data (MATH-12k, DAPO-Math-17k, ORZ-57k style) comes from a local
JSONL/parquet file or the hub, with configurable problem/answer columns.
Malformed rows fail here, naming the file and the row, before any model is built.
"""

from __future__ import annotations

from typing import Any

from datasets import Dataset, load_dataset

from harness.tasks import prompt_messages
from harness.tasks.arith import make_problems


def _load_raw(cfg: Any) -> Dataset:
    if cfg.source == "hub":
        return load_dataset(cfg.path, cfg.subset or None, split=cfg.split)
    builder = "json" if cfg.source == "jsonl" else "parquet"
    return load_dataset(builder, data_files=cfg.path, split="train")


def _row(cfg: Any, raw: dict[str, Any], i: int) -> dict[str, str]:
    where = f"{cfg.path}, row {i}"
    for key in (cfg.problem_key, cfg.answer_key):
        if key not in raw:
            raise ValueError(f"{where}: missing column {key!r} (columns: {sorted(raw)})")
    problem, answer = raw[cfg.problem_key], raw[cfg.answer_key]
    if isinstance(problem, list):  # chat-formatted prompt column, e.g. DAPO-Math-17k
        problem = next((m.get("content") for m in problem if m.get("role") == "user"), None)
    if not isinstance(problem, str) or not problem.strip():
        raise ValueError(f"{where}: column {cfg.problem_key!r} is empty or not text")
    if isinstance(answer, dict):  # e.g. DAPO's {"ground_truth": ...}
        answer = answer.get("ground_truth")
    if answer is None or not str(answer).strip():
        raise ValueError(f"{where}: column {cfg.answer_key!r} is empty")
    pid = str(raw[cfg.id_key]) if cfg.id_key and cfg.id_key in raw else f"{cfg.name}-{i}"
    return {"id": pid, "problem": problem, "answer": str(answer)}


def task_rows(cfg: Any) -> list[dict[str, str]]:
    """The task's training problems: ``[{"id", "problem", "answer"}, ...]``."""
    if cfg.source == "arith":
        rows = make_problems("train", cfg.n_train, steps=cfg.steps, max_operand=cfg.max_operand, seed=cfg.seed)
        return [{k: r[k] for k in ("id", "problem", "answer")} for r in rows]
    raw = _load_raw(cfg)
    n = len(raw) if not cfg.limit else min(cfg.limit, len(raw))
    return [_row(cfg, raw[i], i) for i in range(n)]


def train_dataset(cfg: Any) -> Dataset:
    """Conversational prompts plus the ``answer`` column the reward function reads."""
    rows = task_rows(cfg)
    return Dataset.from_dict({
        "prompt": [prompt_messages(r["problem"]) for r in rows],
        "answer": [r["answer"] for r in rows],
        "problem_id": [r["id"] for r in rows],
    })
