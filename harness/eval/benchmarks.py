"""Benchmark problems: ``harness.problems``'s rows, checked for gold answers the verifier can parse.

Every problem comes from :func:`harness.problems.load_problems` (a hub dataset, a local JSONL/parquet
file, or the arithmetic task's test split), so a benchmark reads a file exactly as a training task
does. Gold answers the verifier cannot parse are reported by id (``on_unparsable``), never silently
dropped. Loads are memoised per config: preflight reads every benchmark once, evaluations reuse it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict

from harness.config.eval import BenchmarkConfig, BenchmarkSpecs, benchmarks_from
from harness.errors import DataError
from harness.grading import gold_is_parseable
from harness.problems import Problem, load_problems
from harness.problems.problems import location

log = logging.getLogger(__name__)

_CACHE: dict[str, list[Problem]] = {}


class UnparsableAnswersError(DataError):
    """Gold answers the verifier cannot parse; ``ids`` lists their problem ids."""

    def __init__(self, message: str, ids: list[str]) -> None:
        super().__init__(message)
        self.ids = ids


def load_benchmark(cfg: BenchmarkConfig) -> list[Problem]:
    """The problems of one benchmark (memoised per config within the process)."""
    key = json.dumps(asdict(cfg), sort_keys=True)
    if key not in _CACHE:
        _CACHE[key] = _handle_unparsable(load_problems(cfg), cfg)
    return list(_CACHE[key])


def load_benchmarks(cfgs: BenchmarkSpecs) -> dict[str, list[Problem]]:
    """``{name: problems}`` for ``cfg.benchmark`` / a list / ``{name: BenchmarkConfig}``.

    Call it once when a run starts: bad files and unparsable answers fail early.
    """
    return {name: load_benchmark(cfg) for name, cfg in benchmarks_from(cfgs).items()}


def _handle_unparsable(problems: list[Problem], cfg: BenchmarkConfig) -> list[Problem]:
    bad = [p.id for p in problems if not gold_is_parseable(p.answer)]
    if not bad:
        return problems
    shown = ", ".join(bad[:50]) + (f", ... ({len(bad)} in all)" if len(bad) > 50 else "")
    msg = (
        f"{location(cfg)}: {len(bad)}/{len(problems)} gold answers cannot be parsed by the verifier "
        f"(problem ids: {shown})"
    )
    if cfg.on_unparsable == "error":
        raise UnparsableAnswersError(
            msg + f". Fix the data or set {cfg.key}.on_unparsable=warn (keep, they "
            "score by exact string match only) or =drop.",
            bad,
        )
    log.warning("%s; %s", msg, "dropping them" if cfg.on_unparsable == "drop" else "keeping them")
    if cfg.on_unparsable == "drop":
        dropped = set(bad)
        return [p for p in problems if p.id not in dropped]
    return problems
