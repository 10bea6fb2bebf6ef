"""The frames of :mod:`analysis.load` from W&B runs, and the W&B names of run-dir metrics.

On W&B, training metrics carry TRL's names as transformers logs them
(``train/reward``, ``train/rewards/math_reward/mean``, ``train/harness/tokens``)
against ``train/global_step``; metrics.jsonl renames them
(``harness.callbacks.TRAIN_KEYS``: ``train/reward_mean``, ``train/accuracy``,
``train/tokens``). Evaluation metrics (``eval/<benchmark>/pass@k``) have one name
in both. :func:`wandb_key` and :func:`run_dir_key` translate, so the dashboard
plots the keys W&B has and :func:`load_wandb` returns the columns the plots use.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Protocol

from analysis import load
from analysis.load import Sweep

STEP = "train/global_step"  # transformers' W&B step metric; evaluations are logged against it too
RUNTIME = "_runtime"
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
def _renames() -> dict[str, str]:
    """W&B history key -> metrics.jsonl key, for every training metric the harness renames."""
    from harness.callbacks import TRAIN_KEYS

    return {f"train/{theirs}": ours for theirs, ours in TRAIN_KEYS.items()} | {RUNTIME: "time/wall"}


def run_dir_key(key: str) -> str:
    """``train/reward`` (W&B) -> ``train/reward_mean`` (metrics.jsonl); others unchanged."""
    return _renames().get(key, key)


def wandb_key(key: str) -> str:
    """``train/reward_mean`` (metrics.jsonl) -> ``train/reward`` (W&B); others unchanged."""
    return {ours: theirs for theirs, ours in _renames().items()}.get(key, key)


@cache
def config_groups() -> frozenset[str]:
    """Top-level keys of the harness's config (W&B configs also hold TRL's flat arguments)."""
    from harness.config import TrainConfig

    return frozenset(f.name for f in dataclasses.fields(TrainConfig))


def _number(value: object) -> bool:
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
            ours = run_dir_key(key)
            if key != STEP and ours.startswith(("train/", "eval/", "time/")) and _number(value):
                row[ours] = value
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
    so pass@k comes from the logged ``eval/<benchmark>/pass@k``)."""
    runs = list(runs)
    groups = config_groups()
    configs = [{k: v for k, v in dict(r.config).items() if k in groups} for r in runs]
    frame, config_keys = load.runs_frame([run_row(r, source) for r in runs], configs)
    names = list(frame["run"])
    steps, evals = load.metrics_frames(names, [history_rows(r.scan_history()) for r in runs])
    return Sweep(frame, steps, evals, load.records_frame(names, [[] for _ in runs]), config_keys)


def load_wandb(project: str, entity: str | None = None, group: str | None = None) -> Sweep:
    """The same frames from a W&B project (needs network and a login); ``group``: one sweep."""
    import wandb

    path = f"{entity}/{project}" if entity else project
    found = wandb.Api().runs(path, filters={"group": group} if group else None)
    return sweep_from_runs(found, path if group is None else f"{path}/{group}")
