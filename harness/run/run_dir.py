"""The run directory's bookkeeping: ``run.json`` and ``metrics.jsonl`` (docs/run_dir.md).

Every file here is replaced atomically (written under a temporary name, then renamed), except
that a new ``metrics.jsonl`` row is appended with one ``write``: a kill can at worst leave a torn
last line, which readers drop with a warning naming the file, and the next writer repairs.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import contract
from harness.contract import (
    CHECKPOINTS,
    CONFIG_FILE,
    EVAL_DIR,
    FINAL,
    LOCK_FILE,
    METRICS_FILE,
    RUN_FILE,
    STANDALONE,
    STEP_PREFIX,
    row_kind,
)
from harness.errors import RunDirError
from harness.run import faults

__all__ = [  # the file names are the contract's (harness.contract), re-exported for the harness
    "CHECKPOINTS",
    "CONFIG_FILE",
    "EVAL_DIR",
    "FINAL",
    "LOCK_FILE",
    "METRICS_FILE",
    "RUN_FILE",
    "STANDALONE",
    "MetricsLog",
    "RunRecord",
    "atomic_write",
    "checkpoint_dirs",
    "checkpoint_step",
    "discard_evals_after",
    "has_state",
    "is_training_run",
    "publish_dir",
    "read_metrics",
    "row_kind",
]

log = logging.getLogger(__name__)

_CHECKPOINT = re.compile(r"checkpoint-(\d+)")
_EVAL_STEP = re.compile(STEP_PREFIX + r"(\d+)")


def atomic_write(path: Path, write: Callable[[Path], Any]) -> None:
    """``write(tmp)`` then rename over ``path``: readers never see a half-written file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(tmp)
    os.replace(tmp, path)


def publish_dir(staging: Path, dest: Path) -> None:
    """Move a completely written directory into place, replacing ``dest`` if it exists."""
    old = dest.with_name(f".{dest.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if dest.exists():
        os.replace(dest, old)
    os.replace(staging, dest)
    shutil.rmtree(old, ignore_errors=True)


def source_commit() -> str | None:
    """The git commit of the harness source this process runs (``+dirty`` when tracked files are
    modified), or None outside a git checkout: the provenance a results table names."""
    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
        )
    except OSError:  # no git on this machine
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise RunDirError(f"{path}: not valid JSON ({err}); fix or delete it") from None
    if not isinstance(data, dict):
        raise RunDirError(f"{path}: expected a JSON object, got {type(data).__name__}; fix or delete it")
    return data


class RunRecord:
    """``run.json``: the run's identity and status, rewritten atomically on each change."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / RUN_FILE
        self.data: dict[str, Any] = _read_json(self.path) if self.path.exists() else {}

    def update(self, **fields: Any) -> None:
        self.data.update(fields)
        atomic_write(self.path, lambda tmp: tmp.write_text(json.dumps(self.data, indent=1)))

    def start(
        self,
        name: str,
        group: str,
        tags: list[str],
        steps: int,
        kind: str = "train",
        config_hash: str | None = None,
    ) -> None:
        self.update(
            name=name,
            group=group,
            tags=tags,
            steps=steps,
            status="running",
            kind=kind,
            config_hash=config_hash,
            commit=source_commit(),
            started=self.data.get("started", _now()),
            finished=None,
            error=None,
        )

    def finish(self, last_step: int | None = None) -> None:
        self.update(
            status="finished",
            finished=_now(),
            **({"last_step": int(last_step)} if last_step is not None else {}),
        )

    def fail(self, error: str) -> None:
        self.update(status="failed", error=error)


def read_metrics(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """The rows of a metrics.jsonl and whether its last line was torn (and dropped, with a warning).

    The reading rule is the contract's (:func:`harness.contract.read_metrics`): a torn *last* line
    is what a kill during a write leaves; a bad line anywhere else means the file was damaged
    otherwise, and raises ``RunDirError`` naming the file and line.
    """
    try:
        rows, torn = contract.read_metrics(path)
    except contract.DamagedMetrics as err:
        bad = err.bad
        raise RunDirError(
            f"{bad.path}: line {bad.number} is damaged ({bad.reason}); fix or delete that line"
        ) from None
    if torn is not None:
        log.warning("%s: dropped a torn last line (a kill during a write?): %.80r", path, torn.text)
    return rows, torn is not None


class MetricsLog:
    """``metrics.jsonl`` keyed by (kind, step): writing a row replaces that kind's row of that step.

    ``keep_upto`` (a resume): rows of later steps are dropped, so that replaying those steps
    writes each exactly once. The log repairs a torn last line when it opens.
    """

    def __init__(self, run_dir: Path, keep_upto: int | None = None) -> None:
        self.path = Path(run_dir) / METRICS_FILE
        self.mirrors: list[Callable[[dict[str, Any]], None]] = []  # e.g. W&B: sees every row as written
        self.rows, torn = read_metrics(self.path)
        kept = [r for r in self.rows if keep_upto is None or r["step"] <= keep_upto]
        if torn or len(kept) != len(self.rows):
            self.rows = kept
            self._rewrite()

    def _rewrite(self) -> None:
        atomic_write(self.path, lambda tmp: tmp.write_text("".join(json.dumps(r) + "\n" for r in self.rows)))

    def _append(self, row: dict[str, Any]) -> None:
        data = (json.dumps(row) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if faults.armed("metrics"):
                os.write(fd, data[: len(data) // 2])
                faults.kill()
            while data:
                data = data[os.write(fd, data) :]
        finally:
            os.close(fd)

    def get(self, kind: str, step: int) -> dict[str, Any] | None:
        """The row of ``kind`` ("train" or "eval") at ``step``, if written."""
        return next((r for r in self.rows if r["step"] == step and row_kind(r) == kind), None)

    def final_eval(self) -> dict[str, float]:
        """The evaluation row of the highest step (without its step)."""
        evals = [r for r in self.rows if row_kind(r) == "eval"]
        last = max(evals, key=lambda r: r["step"], default=None)
        return {k: v for k, v in last.items() if k != "step"} if last else {}

    def write(self, step: int, metrics: dict[str, Any]) -> None:
        """Write the row ``{"step": step, **metrics}``, replacing a row of the same kind and step."""
        row = {"step": int(step), **{k: _clean(v) for k, v in metrics.items()}}
        kind = row_kind(row)
        same = [i for i, r in enumerate(self.rows) if r["step"] == row["step"] and row_kind(r) == kind]
        if same:
            self.rows[same[0]] = row
            self.rows = [r for i, r in enumerate(self.rows) if i not in same[1:]]
            self._rewrite()
        else:
            self.rows.append(row)
            self._append(row)
        for mirror in self.mirrors:
            mirror(row)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def checkpoint_step(path: Path) -> int:
    """N of ``checkpoint-N``."""
    match = _CHECKPOINT.fullmatch(Path(path).name)
    if match is None:
        raise ValueError(f"{path}: not a checkpoint-N directory")
    return int(match.group(1))


def checkpoint_dirs(run_dir: Path) -> list[Path]:
    """``checkpoints/checkpoint-N`` directories (complete or not), oldest first."""
    root = Path(run_dir) / CHECKPOINTS
    found = [p for p in root.glob("checkpoint-*") if p.is_dir() and _CHECKPOINT.fullmatch(p.name)]
    return sorted(found, key=checkpoint_step)


def has_state(run_dir: Path) -> bool:
    """Whether a run has already written anything of its own here (Hydra's .hydra/ and log do not count)."""
    run_dir = Path(run_dir)
    return any((run_dir / name).exists() for name in (RUN_FILE, METRICS_FILE, FINAL)) or bool(
        checkpoint_dirs(run_dir)
    )


def discard_evals_after(run_dir: Path, step: int) -> None:
    """Remove ``eval/step-M`` for M > ``step``: a resume replays those steps and their evaluations."""
    for path in (Path(run_dir) / EVAL_DIR).glob(f"{STEP_PREFIX}*"):
        match = _EVAL_STEP.fullmatch(path.name)
        if match and int(match.group(1)) > step:
            shutil.rmtree(path)


def is_training_run(path: Path) -> bool:
    """Whether ``path`` is a training run's directory (its files are never written by ``harness.eval``)."""
    path = Path(path)
    if (path / RUN_FILE).is_file():
        try:
            kind = json.loads((path / RUN_FILE).read_text()).get("kind")
        except (OSError, ValueError, AttributeError):
            kind = None
        if kind:
            return kind == "train"
    return (path / CHECKPOINTS).is_dir() or (
        (path / CONFIG_FILE).is_file() and "\ntrainer:" in ("\n" + (path / CONFIG_FILE).read_text())
    )
