"""Read one run directory (docs/run_dir.md; names and the metrics reader from ``harness.contract``).

A run whose run.json, config.yaml, metrics.jsonl or records cannot be read is *broken*
(:data:`BROKEN`): its ``error`` names the file (and line) and the reason, and none of its data is
used. A torn last line of metrics.jsonl (a write cut short) is dropped with a warning naming the file.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from harness import contract
from harness.contract import CHECKPOINTS, CONFIG_FILE, EVAL_DIR, FINAL, METRICS_FILE, RECORDS, RUN_FILE

RECORD_COLUMNS = ["step", "benchmark", "problem_id", "n", "c", "mean_length", "majority_correct"]
FINISHED = "finished"
BROKEN = "broken"
UNKNOWN = "unknown"
_SKIP_DIRS = {".hydra", CHECKPOINTS, FINAL, EVAL_DIR, "wandb", "__pycache__"}
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class AnalysisWarning(UserWarning):
    """Something in a run directory was skipped; the message names the file."""


class BrokenRun(Exception):
    """A run directory file that cannot be read; the message names the file and the reason."""


@dataclass
class RunData:
    """What one run directory holds, as read."""

    row: dict
    config: dict
    metrics: list[dict] = field(default_factory=list)
    records: list[pa.Table] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def find_run_dirs(sweep_dirs: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Every directory under ``sweep_dirs`` holding a run.json or config.yaml.

    A sweep dir may itself be a run dir, or nest runs at any depth
    (``multirun/<date>/<time>/<job>``); a run dir's own subdirectories are not searched.
    """
    found: list[Path] = []
    for root in sweep_dirs:
        for dirpath, dirnames, filenames in os.walk(os.fspath(root)):
            if RUN_FILE in filenames or CONFIG_FILE in filenames:
                found.append(Path(dirpath))
                dirnames.clear()
            else:
                dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
    return sorted(set(found))


def _read_run_json(path: Path) -> dict:
    try:
        info = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise BrokenRun(f"{path}:{err.lineno}: invalid JSON ({err.msg})") from None
    except (OSError, UnicodeDecodeError) as err:
        raise BrokenRun(f"{path}: unreadable ({err})") from None
    if not isinstance(info, dict):
        raise BrokenRun(f"{path}: expected a JSON object, got {type(info).__name__}")
    return info


@functools.lru_cache(maxsize=4096)
def _parse_block(text: str) -> object:
    return yaml.load(text, Loader=_YAML_LOADER)


def _top_level_blocks(text: str) -> list[str] | None:
    """The text split before each top-level key; None where that is not safe (documents, lists)."""
    blocks: list[list[str]] = []
    for line in text.splitlines(keepends=True):
        if line.startswith(("---", "...", "%", "-", "&", "*", "!", "? ")):
            return None
        if line[:1] not in ("", " ", "\t", "#", "\n", "\r") or not blocks:
            blocks.append([])
        blocks[-1].append(line)
    return ["".join(b) for b in blocks]


def parse_yaml(text: str) -> object:
    """``yaml.load`` of a config, each top-level group parsed once per distinct text.

    The runs of a sweep repeat most groups verbatim (the same model, task, eval
    settings), so caching per group makes loading a thousand configs several
    times faster; anything unusual is parsed whole.
    """
    try:
        parts = [_parse_block(b) for b in _top_level_blocks(text) or ()]
    except yaml.YAMLError:  # parsed whole below, for the error's line in the file
        parts = []
    if not parts or not all(isinstance(p, dict) or p is None for p in parts):
        return yaml.load(text, Loader=_YAML_LOADER)
    merged: dict = {}
    for part in parts:
        if isinstance(part, dict):
            merged.update(part)
    return merged


def _read_config(path: Path) -> dict:
    if not path.exists():
        raise BrokenRun(f"{path}: missing (the run's config is unknown)")
    try:
        cfg = parse_yaml(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise BrokenRun(f"{path}{where}: invalid YAML ({getattr(err, 'problem', None) or err})") from None
    except (OSError, UnicodeDecodeError) as err:
        raise BrokenRun(f"{path}: unreadable ({err})") from None
    if not isinstance(cfg, dict):
        raise BrokenRun(f"{path}: expected a mapping of config groups, got {type(cfg).__name__}")
    return cfg


def read_metrics_file(path: Path) -> tuple[list[dict], list[str]]:
    """The lines of one metrics.jsonl, and a warning if its torn last line was dropped
    (the contract's reader, :func:`harness.contract.read_metrics`)."""
    try:
        rows, torn = contract.read_metrics(path)
    except contract.DamagedMetrics as err:
        raise BrokenRun(str(err)) from None
    except (OSError, UnicodeDecodeError) as err:
        raise BrokenRun(f"{path}: unreadable ({err})") from None
    return rows, [] if torn is None else [f"{torn}: dropped as a torn last line"]


def _read_records(run_dir: Path) -> list[pa.Table]:
    tables = []
    for path in sorted((run_dir / EVAL_DIR).glob(f"{contract.STEP_PREFIX}*/{RECORDS}")):
        try:
            # ParquetFile.read skips the dataset layer of pq.read_table: ~5x faster per small file.
            tables.append(pq.ParquetFile(path).read(columns=RECORD_COLUMNS, use_threads=False))
        except (OSError, ValueError, KeyError, pa.ArrowException) as err:
            raise BrokenRun(f"{path}: unreadable records ({err})") from None
    return tables


def read_run(run_dir: Path) -> RunData:
    """Everything one run directory holds; a :data:`BROKEN` run keeps only its row and config."""
    row: dict = {
        "run": str(run_dir),
        "sweep": str(run_dir.parent),
        "name": run_dir.name,
        "status": UNKNOWN,
        "error": None,
    }
    data = RunData(row, {})
    meta = run_dir / RUN_FILE
    problems: list[str] = []
    try:
        row.update(_read_run_json(meta) if meta.exists() else {"error": f"{meta}: missing"})
        row["run"], row["sweep"] = str(run_dir), str(run_dir.parent)
    except BrokenRun as err:
        problems.append(str(err))
    try:  # read even when run.json is broken: the config says where the run belongs
        data.config = _read_config(run_dir / CONFIG_FILE)
        if not problems:
            data.metrics, data.warnings = read_metrics_file(run_dir / METRICS_FILE)
            data.records = _read_records(run_dir)
    except BrokenRun as err:
        problems.append(str(err))
    if problems:
        row.update(status=BROKEN, error="; ".join(problems))
        data.metrics, data.records, data.warnings = [], [], []
    return data
