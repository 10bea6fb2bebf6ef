"""The run directory's bookkeeping: ``run.json`` and ``metrics.jsonl`` (docs/run_dir.md)."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from pathlib import Path
from typing import Any, Callable

RUN_FILE = "run.json"
METRICS_FILE = "metrics.jsonl"
CHECKPOINTS = "checkpoints"


def atomic_write(path: Path, write: Callable[[Path], Any]) -> None:
    """``write(tmp)`` then rename over ``path``: readers never see a half-written file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(tmp)
    os.replace(tmp, path)


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


class RunRecord:
    """``run.json``: the run's identity and status, rewritten atomically on each change."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / RUN_FILE
        self.data: dict[str, Any] = json.loads(self.path.read_text()) if self.path.exists() else {}

    @property
    def finished(self) -> bool:
        return self.data.get("status") == "finished"

    def update(self, **fields: Any) -> None:
        self.data.update(fields)
        atomic_write(self.path, lambda tmp: tmp.write_text(json.dumps(self.data, indent=1)))

    def start(self, name: str, group: str, tags: list[str], steps: int) -> None:
        self.update(name=name, group=group, tags=tags, steps=steps, status="running",
                    started=self.data.get("started", _now()), finished=None, error=None)

    def finish(self) -> None:
        self.update(status="finished", finished=_now())

    def fail(self, error: str) -> None:
        self.update(status="failed", error=error)


class MetricsLog:
    """Append-only ``metrics.jsonl``; on resume, forget lines past the checkpoint's step."""

    def __init__(self, run_dir: Path, resume_step: int | None = None) -> None:
        self.path = Path(run_dir) / METRICS_FILE
        if resume_step is not None:
            self._truncate_after(resume_step)

    def _truncate_after(self, step: int) -> None:
        self._rewrite([r for r in self.read() if r["step"] <= step])

    def _rewrite(self, rows: list[dict[str, Any]]) -> None:
        atomic_write(self.path, lambda tmp: tmp.write_text("".join(json.dumps(r) + "\n" for r in rows)))

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

    def last(self, key: str) -> float:
        """The last logged value of ``key`` (0 if never logged): restores cumulative counters."""
        values = [r[key] for r in self.read() if key in r]
        return values[-1] if values else 0.0

    def final_eval(self) -> dict[str, float]:
        """The last evaluation line (without its step)."""
        evals = [r for r in self.read() if any(k.startswith("eval/") for k in r)]
        return {k: v for k, v in evals[-1].items() if k != "step"} if evals else {}

    def replace_eval(self, step: int, metrics: dict[str, float]) -> None:
        """Write an eval line for ``step``, dropping an earlier eval line of that step (re-run evals)."""
        kept = [r for r in self.read() if not (r["step"] == step and any(k.startswith("eval/") for k in r))]
        self._rewrite(kept + [{"step": int(step), **{k: _clean(v) for k, v in metrics.items()}}])

    def write(self, step: int, metrics: dict[str, float]) -> None:
        row = {"step": int(step), **{k: _clean(v) for k, v in metrics.items()}}
        with self.path.open("a") as f:
            f.write(json.dumps(row) + "\n")


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def last_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete ``checkpoints/checkpoint-N`` (one with ``trainer_state.json``)."""
    root = Path(run_dir) / CHECKPOINTS
    done = [p for p in root.glob("checkpoint-*") if (p / "trainer_state.json").exists()]
    return max(done, key=lambda p: int(p.name.split("-")[-1]), default=None)
