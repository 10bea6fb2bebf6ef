"""The run directory's contract, shared by the harness (which writes it) and ``analysis`` (which reads it).

One place for what both sides must agree on (docs/run_dir.md describes the format):

* the file and directory names of a run dir;
* the metric keys of ``metrics.jsonl`` rows;
* the tolerant ``metrics.jsonl`` reader (a torn *last* line is what a kill during a write leaves:
  it is reported and dropped; a bad line anywhere else is damage, and raises);
* :data:`BOOKKEEPING`, the one table of config keys that are bookkeeping, with a column per purpose:
  left out of run-dir names (``conf/train.yaml``'s ``exclude_keys``, checked by a test), of the
  resume identity (``harness.run.identity``) and of the variants analysis pools seeds over
  (``analysis.variants``).

The rule of the table: a key is left out of a run's identity only if changing it cannot change what
the experiment computes: logging, where files go, the resume mode, checkpoint cadence, what a
cluster is asked for, and how the same computation is laid out on the hardware (micro-batches,
processes, activation checkpointing, generation batches), which changes at most floating-point
summation order and per-process sampling streams, never the algorithm. So a requeue with a longer
``model.resources.timeout_min``, or after an out-of-memory error with a smaller
``model.micro_batch_size``, resumes the same run. Names leave out exactly what identity leaves out
(else a relaunch would either start a fresh dir or land on one it refuses); pooling leaves out that
and the seed, the replicate axis.

Stdlib only: ``analysis`` imports this without torch, TRL or Hydra.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal

# -- file names ---------------------------------------------------------------------------------
RUN_FILE = "run.json"
METRICS_FILE = "metrics.jsonl"
CONFIG_FILE = "config.yaml"
LOCK_FILE = "run.lock"
CHECKPOINTS = "checkpoints"
FINAL = "final"
EVAL_DIR = "eval"
STANDALONE = "standalone"  # eval/standalone/<checkpoint>/: `python -m harness.eval` results
RECORDS = "records.parquet"  # eval/step-<N>/records.parquet: one row per evaluated problem
SUMMARY = "summary.json"  # eval/step-<N>/summary.json
STEP_PREFIX = "step-"  # eval/step-<N>/


def step_dir(run_dir: Path | str, step: int) -> Path:
    """``<run_dir>/eval/step-<step>``: one evaluation's records and summary."""
    return Path(run_dir) / EVAL_DIR / f"{STEP_PREFIX}{int(step)}"


# -- metric keys --------------------------------------------------------------------------------
STEP = "step"  # every row: the optimizer step (int)
TRAIN = "train/"  # training rows
EVAL = "eval/"  # evaluation rows: eval/<benchmark>/<metric>, eval/avg/<metric>
TIME = "time/"
REWARD = "train/reward_mean"
REWARD_STD = "train/reward_std"
ACCURACY = "train/accuracy"
RESPONSE_LENGTH = "train/response_length"
CLIP_FRAC = "train/clip_frac"
ENTROPY = "train/entropy"
KL = "train/kl"
TOKENS = "train/tokens"  # cumulative generated completion tokens
PROMPTS = "train/prompts"  # cumulative prompts
LOSS = "train/loss"
GRAD_NORM = "train/grad_norm"
LR = "train/lr"
QUADRANT = "train/quadrant/"  # + pos_high | pos_low | neg_high | neg_low: shares of the gradient (harness.methods.quadrants)
WALL = "time/wall"  # seconds since the run started (summed over resumes)
AVG = "avg"  # the benchmark name of the average over benchmarks


def eval_key(benchmark: str, metric: str) -> str:
    """``eval/<benchmark>/<metric>``, e.g. ``eval/avg/pass@1``."""
    return f"{EVAL}{benchmark}/{metric}"


AVG_PASS1 = eval_key(AVG, "pass@1")


def row_kind(row: Mapping[str, Any]) -> str:
    """``eval`` for an evaluation row (any ``eval/`` key), ``train`` otherwise."""
    return "eval" if any(k.startswith(EVAL) for k in row) else "train"


# -- the tolerant metrics.jsonl reader ----------------------------------------------------------
NOT_A_ROW = "not a metrics line (a JSON object with an integer step)"


@dataclass(frozen=True)
class BadLine:
    """A line of a metrics.jsonl that is not a metrics row: where, why, and its text."""

    path: Path
    number: int  # 1-based, counting every line of the file
    reason: str  # "invalid JSON (...)" or NOT_A_ROW
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.number}: {self.reason}"


class DamagedMetrics(ValueError):
    """A bad line that is not the last one: the file was damaged otherwise than by a kill."""

    def __init__(self, bad: BadLine) -> None:
        super().__init__(str(bad))
        self.bad = bad


def is_row(record: object) -> bool:
    """A JSON object with an integer (not bool) ``step``."""
    step = record.get(STEP) if isinstance(record, dict) else None
    return isinstance(step, int) and not isinstance(step, bool)


def _parse(path: Path, number: int, line: str) -> dict[str, Any] | BadLine:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        return BadLine(path, number, f"invalid JSON ({err.msg})", line)
    return record if is_row(record) else BadLine(path, number, NOT_A_ROW, line)


def read_metrics(path: Path) -> tuple[list[dict[str, Any]], BadLine | None]:
    """The rows of a metrics.jsonl (none if it does not exist) and its torn last line, if one was dropped.

    Blank lines are skipped. A bad last line is returned as torn; a bad line before it raises
    :class:`DamagedMetrics`. One ``json.loads`` of the whole file (its lines joined into a JSON
    array) is the fast path; only a file that fails it is parsed line by line. ``OSError`` and
    ``UnicodeDecodeError`` propagate.
    """
    path = Path(path)
    if not path.exists():
        return [], None
    lines = [(i, ln) for i, ln in enumerate(path.read_text().splitlines(), 1) if ln.strip()]
    try:
        records = json.loads("[" + ",".join(ln for _, ln in lines) + "]")
    except json.JSONDecodeError:
        records = None
    if records is not None and all(is_row(r) for r in records):
        return records, None
    rows: list[dict[str, Any]] = []
    for k, (number, line) in enumerate(lines):
        parsed = _parse(path, number, line)
        if isinstance(parsed, dict):
            rows.append(parsed)
        elif k == len(lines) - 1:
            return rows, parsed
        else:
            raise DamagedMetrics(parsed)
    return rows, None


# -- bookkeeping keys ---------------------------------------------------------------------------
Purpose = Literal["dir_name", "resume", "pooling"]


@dataclass(frozen=True)
class Bookkeeping:
    """A config key (and everything under it) left out for some purposes; ``*`` matches one part.

    ``dir_name``: left out of run-dir names; ``resume``: of the resume identity (the config hash);
    ``pooling``: runs that differ only in it are seeds of one variant in analysis.
    """

    key: str
    dir_name: bool
    resume: bool
    pooling: bool
    why: str


_ALL = {"dir_name": True, "resume": True, "pooling": True}

#: The one table of bookkeeping keys (module docstring: the rule).
BOOKKEEPING: tuple[Bookkeeping, ...] = (
    Bookkeeping("hydra", **_ALL, why="launcher and output-dir settings"),
    Bookkeeping("logger", **_ALL, why="W&B mode/project/entity/group/tags, the progress bar"),
    Bookkeeping("resume", **_ALL, why="what a launch does with a used run dir"),
    Bookkeeping("cache_dir", **_ALL, why="where warm-start checkpoints are cached"),
    Bookkeeping("run_name", **_ALL, why="a display name"),
    Bookkeeping("model.resources", **_ALL, why="what the launcher asks SLURM for (GPUs, memory, time)"),
    Bookkeeping("distributed", **_ALL, why="DDP or ZeRO-3: the same computation over several processes"),
    Bookkeeping("model.micro_batch_size", **_ALL, why="layout: micro-batches sum to the same batch loss"),
    Bookkeeping("model.gradient_checkpointing", **_ALL, why="layout: recomputes activations, same math"),
    Bookkeeping("eval.batch_size", **_ALL, why="layout: sequences per generate call"),
    Bookkeeping("*.vllm_gpu_memory_utilization", **_ALL, why="memory vLLM may take"),
    Bookkeeping("*.vllm_tensor_parallel_size", **_ALL, why="layout: GPUs per vLLM engine"),
    Bookkeeping("eval.interval", **_ALL, why="how often to evaluate: evaluation forks the RNG"),
    Bookkeeping("eval.progress", **_ALL, why="a progress bar"),
    Bookkeeping("eval.wandb", **_ALL, why="whether evaluation logs to W&B"),
    Bookkeeping("eval.out_dir", **_ALL, why="where a standalone evaluation writes"),
    Bookkeeping("eval.save_completions", **_ALL, why="whether records keep the completions' text"),
    Bookkeeping("eval.samples_per_benchmark", **_ALL, why="rows of the W&B samples table"),
    Bookkeeping("trainer.save_steps", **_ALL, why="checkpoint cadence"),
    Bookkeeping("trainer.save_total_limit", **_ALL, why="checkpoints kept"),
    Bookkeeping("trainer.log_completions", **_ALL, why="TRL's completion logging"),
    Bookkeeping(
        "trainer.seed", dir_name=False, resume=False, pooling=True, why="the replicate axis: seeds pool"
    ),
)


def covers(pattern: str, key: str) -> bool:
    """Whether dotted ``key`` is ``pattern`` or lies under it (``*`` matches one part of the key)."""
    want, have = pattern.split("."), key.split(".")
    return len(have) >= len(want) and all(fnmatchcase(h, w) for h, w in zip(have, want, strict=False))


def bookkeeping_keys(purpose: Purpose) -> tuple[str, ...]:
    """The table's keys left out for ``purpose``."""
    return tuple(row.key for row in BOOKKEEPING if getattr(row, purpose))


def is_bookkeeping(key: str, purpose: Purpose) -> bool:
    """Whether dotted ``key`` is left out for ``purpose``."""
    return any(covers(pattern, key) for pattern in bookkeeping_keys(purpose))


def without(data: Mapping[str, Any], patterns: Iterable[str], prefix: str = "") -> dict[str, Any]:
    """A copy of nested ``data`` without every key covered by one of ``patterns``."""
    patterns = tuple(patterns)
    out: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if any(covers(p, dotted) for p in patterns):
            continue
        out[key] = without(value, patterns, dotted) if isinstance(value, Mapping) else value
    return out
