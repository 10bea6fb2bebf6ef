"""The frames of :mod:`analysis.load` from W&B runs.

A W&B run mirrors its run directory (``harness.run.wandb_log``): every metrics.jsonl row is
logged as is, with the same keys (``train/reward_mean``, ``eval/<benchmark>/pass@k``, …),
against the same ``step``; the config holds the harness's groups only. So W&B history
rows are metrics.jsonl rows, and the dashboard plots the keys the tables use.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Protocol, TypeGuard

from analysis import load
from analysis.load import Sweep

STEP = "step"  # the metrics.jsonl step, every metric's step metric on W&B
STATUS = {
    "finished": "finished",
    "crashed": "failed",
    "failed": "failed",
    "killed": "running",
    "running": "running",
    "preempted": "running",
}


class WandbRun(Protocol):
    """What :func:`sweep_from_runs` reads of a ``wandb.apis.public.Run``."""

    id: str
    name: str
    group: str | None
    state: str
    tags: list[str]
    path: list[str]
    config: dict
    summary: Mapping[str, object]

    def scan_history(self) -> Iterable[dict]: ...


@cache
def config_groups() -> frozenset[str]:
    """Top-level keys of the harness's config (W&B's own ``_wandb`` and anything else left out)."""
    from harness.config.schema import TrainConfig

    return frozenset(f.name for f in dataclasses.fields(TrainConfig))


def _number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def history_rows(history: Iterable[Mapping[str, object]]) -> list[dict]:
    """metrics.jsonl-like lines from W&B history: step, ``train/*``, ``eval/*``, ``time/wall``."""
    rows = []
    for raw in history:
        step = raw.get(STEP)
        if not _number(step):
            continue
        row: dict = {"step": int(step)}
        for key, value in raw.items():
            if key.startswith(("train/", "eval/", "time/")) and _number(value):
                row[key] = value
        if len(row) > 1:
            rows.append(row)
    return rows


def run_row(run: WandbRun, source: str) -> dict:
    """One ``runs`` row (run.json's fields) for a W&B run."""
    return {
        "run": "wandb:" + "/".join(run.path),
        "sweep": source,
        "name": run.name,
        "group": run.group or "",
        "status": STATUS.get(run.state, "running"),
        "error": None,
        "wandb_id": run.id,
        "tags": list(run.tags),
        "steps": run.summary.get(STEP),
    }


def sweep_from_runs(runs: Iterable[WandbRun], source: str) -> Sweep:
    """The four frames from W&B runs (``problems`` is empty: W&B holds no per-problem records,
    so pass@k comes from the logged ``eval/<benchmark>/pass@k``), each experiment once
    (:func:`analysis.load.drop_duplicates`)."""
    runs = list(runs)
    groups = config_groups()
    configs = [{k: v for k, v in dict(r.config).items() if k in groups} for r in runs]
    frame, config_keys = load.runs_frame([run_row(r, source) for r in runs], configs)
    names = list(frame["run"])
    steps, evals = load.metrics_frames(names, [history_rows(r.scan_history()) for r in runs])
    problems = load.records_frame(names, [[] for _ in runs])
    return load.drop_duplicates(Sweep(frame, steps, evals, problems, config_keys))


def load_wandb(project: str, entity: str | None = None, group: str | None = None) -> Sweep:
    """The same frames from a W&B project (needs network and a login); ``group``: one sweep."""
    import wandb

    path = f"{entity}/{project}" if entity else project
    found = wandb.Api().runs(path, filters={"group": group} if group else None)
    return sweep_from_runs(found, path if group is None else f"{path}/{group}")
