"""Benchmark problems from the hub, a local JSONL/parquet file, or the arithmetic task.

Every row becomes a :class:`Problem` (id, problem, answer). Rows missing a mapped
column stop the load with an error naming the file and row; gold answers the verifier
cannot parse are reported by id (``on_unparsable``), never silently dropped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.errors import DataError
from harness.eval.config import BenchmarkConfig, benchmarks_from
from harness.grading import gold_is_parseable

log = logging.getLogger(__name__)

LOCAL_SUFFIXES = (".jsonl", ".json", ".parquet")
_CACHE: dict[str, list[Problem]] = {}


class BenchmarkError(DataError):
    """A benchmark cannot be loaded as configured."""


class UnparsableAnswersError(BenchmarkError):
    """Gold answers the verifier cannot parse; ``ids`` lists their problem ids."""

    def __init__(self, message: str, ids: list[str]) -> None:
        super().__init__(message)
        self.ids = ids


@dataclass(frozen=True)
class Problem:
    id: str
    problem: str
    answer: str


# ------------------------------------------------------------------------------ sources


def _read_jsonl(path: Path) -> list[Any]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise BenchmarkError(f"{path}: line {i + 1}: invalid JSON ({err})") from None
    return rows


def read_local(path: str | Path) -> list[Any]:
    """Rows of a ``.jsonl`` / ``.json`` (lines or one list) / ``.parquet`` file."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise BenchmarkError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    if suffix == ".json":
        text = path.read_text(encoding="utf-8").lstrip()
        if text.startswith("["):
            return json.loads(text)
        return _read_jsonl(path)
    if suffix == ".jsonl":
        return _read_jsonl(path)
    raise BenchmarkError(f"{path}: unsupported file type (use one of {LOCAL_SUFFIXES})")


def read_hub(cfg: BenchmarkConfig) -> list[Any]:
    """Rows of a hub dataset split (``datasets.load_dataset``; cached by ``datasets``)."""
    import datasets

    try:
        ds = datasets.load_dataset(cfg.hub, cfg.subset or None, split=cfg.split)
    except Exception as err:  # noqa: BLE001 - offline, missing, gated: all need the same advice
        raise BenchmarkError(
            f"benchmark {cfg.name}: cannot load hub dataset {cfg.hub!r} "
            f"(subset={cfg.subset or None}, split={cfg.split}): {type(err).__name__}: {err}. "
            f"Offline? Save it as JSONL/parquet and set benchmark.{cfg.name}.path=<file>."
        ) from None
    return ds.to_list()


def read_arith(cfg: BenchmarkConfig) -> list[dict[str, Any]]:
    """Held-out arithmetic problems (``harness.tasks.arith``, test split)."""
    from harness.tasks.arith import make_problems

    return make_problems(
        "test", cfg.n_problems, steps=cfg.steps, max_operand=cfg.max_operand, seed=cfg.seed
    )


# ----------------------------------------------------------------------------- mapping


def _answer_text(value: Any) -> str:
    """Gold answer as a string: numbers without a spurious ``.0``, lists joined, ``$`` stripped."""
    if isinstance(value, (list, tuple)):
        return ", ".join(_answer_text(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if len(text) >= 2 and text[0] == "$" and text[-1] == "$":
        text = text.strip("$").strip()
    return text


def _to_problems(rows: list[Any], cfg: BenchmarkConfig, where: str) -> list[Problem]:
    keys = [cfg.problem_key, cfg.answer_key] + ([cfg.id_key] if cfg.id_key else [])
    out: list[Problem] = []
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise BenchmarkError(f"{where}: row {i}: expected an object, got {type(row).__name__}")
        for key in keys:
            if row.get(key) is None:
                raise BenchmarkError(
                    f"{where}: row {i}: missing column {key!r} (row has {sorted(row)}); "
                    f"set benchmark.{cfg.name}.problem_key/answer_key/id_key"
                )
        pid = str(row[cfg.id_key]) if cfg.id_key else str(i)
        out.append(Problem(pid, str(row[cfg.problem_key]), _answer_text(row[cfg.answer_key])))
    _check_unique_ids(out, where)
    return out


def _check_unique_ids(problems: list[Problem], where: str) -> None:
    seen: set[str] = set()
    dups = sorted({p.id for p in problems if p.id in seen or seen.add(p.id)})
    if dups:
        raise BenchmarkError(f"{where}: duplicate problem ids {dups[:20]}")


def _handle_unparsable(problems: list[Problem], cfg: BenchmarkConfig, where: str) -> list[Problem]:
    bad = [p.id for p in problems if not gold_is_parseable(p.answer)]
    if not bad:
        return problems
    shown = ", ".join(bad[:50]) + (f", ... ({len(bad)} in all)" if len(bad) > 50 else "")
    msg = (
        f"{where}: {len(bad)}/{len(problems)} gold answers cannot be parsed by the verifier "
        f"(problem ids: {shown})"
    )
    if cfg.on_unparsable == "error":
        raise UnparsableAnswersError(
            msg + f". Fix the data or set benchmark.{cfg.name}.on_unparsable=warn (keep, they "
            "score by exact string match only) or =drop.",
            bad,
        )
    log.warning("%s; %s", msg, "dropping them" if cfg.on_unparsable == "drop" else "keeping them")
    if cfg.on_unparsable == "drop":
        dropped = set(bad)
        return [p for p in problems if p.id not in dropped]
    return problems


def load_benchmark(cfg: BenchmarkConfig) -> list[Problem]:
    """The problems of one benchmark (memoised per config within the process)."""
    key = json.dumps(asdict(cfg), sort_keys=True)
    if key not in _CACHE:
        _CACHE[key] = _load(cfg)
    return list(_CACHE[key])


def _load(cfg: BenchmarkConfig) -> list[Problem]:
    if cfg.path:
        where, rows = str(cfg.path), read_local(cfg.path)
    elif cfg.source == "arith":
        where, rows = f"benchmark {cfg.name} (arith)", read_arith(cfg)
    else:
        where, rows = f"{cfg.hub} ({cfg.split})", read_hub(cfg)
    if cfg.source == "arith" and not cfg.path:
        problems = [Problem(str(r["id"]), r["problem"], str(r["answer"])) for r in rows]
    else:
        problems = _to_problems(rows, cfg, where)
    if cfg.limit:
        problems = problems[: cfg.limit]
    if not problems:
        raise BenchmarkError(f"{where}: no problems")
    return _handle_unparsable(problems, cfg, where)


def load_benchmarks(cfgs: Any) -> dict[str, list[Problem]]:
    """``{name: problems}`` for ``cfg.benchmark`` / a list / ``{name: BenchmarkConfig}``.

    Call it once when a run starts: bad files and unparsable answers fail early.
    """
    return {name: load_benchmark(cfg) for name, cfg in benchmarks_from(cfgs).items()}
