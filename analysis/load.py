"""Load sweep directories into tidy pandas frames, one bad run never stopping the rest.

The run directory format is the contract in ``docs/run_dir.md``, whose file names, metric keys
and tolerant metrics reader are ``harness.contract``'s. Every frame is
keyed by ``run`` (the run directory as a string), so they join on that column:

* ``runs``     one row per run: location, run.json fields, and every key of its
  config.yaml flattened by ``pd.json_normalize`` (``method.lam``, ``trainer.lr``);
* ``steps``    one row per logged training step (``train/*``, ``time/*``);
* ``evals``    one row per evaluation line of metrics.jsonl (``eval/*``);
* ``problems`` one row per evaluated (step, benchmark, problem) from records.parquet.

A run whose run.json, config.yaml, metrics.jsonl or records cannot be read is
*broken*: its status says so, its ``error`` names the file (and line) and the
reason, and none of its data is used. A torn last line of metrics.jsonl (a
write cut short) is dropped with an :class:`AnalysisWarning` naming the file.
Reading one run directory is :mod:`analysis.run_files`.

The same experiment found twice (two run dirs with the same variant and seed,
e.g. one config in two sweeps) is counted once: :func:`drop_duplicates` keeps
one run dir (finished first, then the most logged steps, then the first path in
sorted order), drops the others from every frame and lists them in
``Sweep.duplicates``, so no table or plot counts a seed twice.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from analysis.run_files import (
    BROKEN,
    FINISHED,
    RECORD_COLUMNS,
    UNKNOWN,
    AnalysisWarning,
    BrokenRun,
    find_run_dirs,
    parse_yaml,
    read_run,
)
from analysis.variants import HEAD, SEED, identity_keys
from harness import contract

__all__ = [  # what one run dir holds is read by analysis.run_files; these names stay importable here
    "BROKEN",
    "FINISHED",
    "UNKNOWN",
    "AnalysisWarning",
    "BrokenRun",
    "Duplicate",
    "Sweep",
    "drop_duplicates",
    "find_run_dirs",
    "load_sweeps",
    "metrics_frames",
    "parse_yaml",
    "read_run",
    "records_frame",
    "runs_frame",
]

RUN_COLUMNS = [
    "run",
    "sweep",
    "name",
    "group",
    "status",
    "error",
    "started",
    "finished",
    "wandb_id",
    "steps",
    "tags",
]


@dataclass
class Sweep:
    """The four tidy frames of one or more sweeps, plus what loading had to skip."""

    runs: pd.DataFrame
    steps: pd.DataFrame
    evals: pd.DataFrame
    problems: pd.DataFrame
    #: The flattened config keys (columns of ``runs``), in first-seen order.
    config_keys: list[str] = field(default_factory=list)
    #: One line per thing skipped while loading (also issued as :class:`AnalysisWarning`).
    warnings: list[str] = field(default_factory=list)
    #: Run dirs left out because another run dir holds the same variant and seed.
    duplicates: list[Duplicate] = field(default_factory=list)

    @property
    def finished(self) -> pd.DataFrame:
        """Runs that completed (the only ones tables average)."""
        return self.runs[self.runs["status"] == FINISHED]

    @property
    def incomplete(self) -> pd.DataFrame:
        """Runs that failed, never finished or are broken: listed, never averaged in."""
        return self.runs[self.runs["status"] != FINISHED]


@dataclass(frozen=True)
class Duplicate:
    """A run dir left out (``run``) because ``kept`` is the same variant at the same seed."""

    run: str
    kept: str
    #: Config keys (all bookkeeping) whose values differ between the two; empty: same config.
    differs: tuple[str, ...] = ()
    #: The run.json group of the left-out run (``kept`` stands for it in that group too).
    group: str | None = None

    def __str__(self) -> str:
        if not self.differs:
            return f"{self.run} (same config as {self.kept})"
        return (
            f"{self.run} (same variant and seed as {self.kept}; the configs differ only in "
            f"bookkeeping: {', '.join(self.differs)})"
        )


def _tuples(column: pd.Series) -> pd.Series:
    """Lists (``eval.k``) as tuples, so every config value is hashable for grouping."""
    if column.dtype != object:
        return column
    return column.map(lambda v: tuple(v) if isinstance(v, list) else v)


def runs_frame(rows: list[dict], configs: list[dict]) -> tuple[pd.DataFrame, list[str]]:
    """The ``runs`` frame (run.json fields + flattened config) and the config keys."""
    flat = pd.json_normalize(configs) if configs else pd.DataFrame()
    flat = flat.apply(_tuples) if len(flat.columns) else flat
    for key in HEAD:
        if key not in flat:
            flat[key] = pd.Series([None] * len(configs), dtype=object)
    info = pd.DataFrame(rows) if rows else pd.DataFrame({c: pd.Series(dtype=object) for c in RUN_COLUMNS})
    extra = [c for c in info.columns if c not in RUN_COLUMNS and c not in flat.columns]
    info = info.reindex(columns=RUN_COLUMNS + extra)
    config_keys = list(flat.columns)
    return pd.concat([info, flat.reset_index(drop=True)], axis=1), config_keys


def _run_array(names: list[str], counts: list[int]) -> pa.Array:
    """``names[i]`` repeated ``counts[i]`` times, built in Arrow (~10x faster than in numpy)."""
    codes = np.repeat(np.arange(len(names), dtype=np.int32), counts)
    return pa.DictionaryArray.from_arrays(codes, pa.array(names, pa.string())).cast(pa.string())


def metrics_frames(runs: Sequence[str], metrics: Sequence[list[dict]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training steps, evaluation lines) from each run's parsed metrics lines.

    A line may in principle carry both kinds, so each frame keeps the rows where
    any of its own columns is set.
    """
    records = [r for lines in metrics for r in lines]
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame({"step": []})
    frame.insert(0, "run", _run_array(list(runs), [len(m) for m in metrics]).to_pandas())
    eval_cols = [c for c in frame.columns if c.startswith(contract.EVAL)]
    train_cols = [c for c in frame.columns if c not in eval_cols and c not in ("run", "step")]
    return kind(frame, train_cols), kind(frame, eval_cols)


def kind(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """The rows of ``frame`` where any of ``cols`` is set, with run, step and ``cols``."""
    if not cols:
        return frame[["run", "step"]].iloc[:0].reset_index(drop=True)
    keep = frame[cols].notna().any(axis=1)
    out = frame.loc[keep, ["run", "step", *cols]].reset_index(drop=True)
    out["step"] = out["step"].astype("int64")
    return out


def records_frame(runs: Sequence[str], tables: Sequence[list[pa.Table]]) -> pd.DataFrame:
    """All records.parquet rows (without the heavy optional columns), keyed by run."""
    flat = [t for per_run in tables for t in per_run]
    if not flat:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ["run", *RECORD_COLUMNS]})
    owners = [run for run, per_run in zip(runs, tables, strict=True) for _ in per_run]
    column = _run_array(owners, [t.num_rows for t in flat])
    return pa.concat_tables(flat).add_column(0, "run", column).to_pandas()


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _comparable(value: object) -> object:
    """A config value as a hashable key: missing values alike, unhashable ones by repr."""
    if _missing(value):
        return None
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def _same(a: object, b: object) -> bool:
    """Two config values equal (a missing value equals only another missing one)."""
    if _missing(a) or _missing(b):
        return _missing(a) and _missing(b)
    return _comparable(a) == _comparable(b)


def drop_duplicates(sweep: Sweep) -> Sweep:
    """``sweep`` with each (variant, seed) kept once; the dropped run dirs in ``duplicates``.

    Two runs are the same experiment when every identity key
    (:func:`analysis.variants.identity_keys`) and the seed agree. Of such runs the
    one kept is finished (if any is), then has the most logged steps, then comes
    first in sorted path order. Runs without a readable config are never dropped.
    """
    runs = sweep.runs
    configured = runs[runs[list(HEAD)].notna().any(axis=1)]
    if len(configured) < 2:
        return sweep
    keys = identity_keys(sweep.config_keys) + ([SEED] if SEED in runs.columns else [])
    logged = pd.concat([sweep.steps[["run", "step"]], sweep.evals[["run", "step"]]])
    last = logged.groupby("run")["step"].max()
    candidates = sorted(
        zip(
            configured["run"],
            configured["status"] == FINISHED,
            configured["run"].map(last).fillna(-1),
            configured[keys].astype(object).itertuples(index=False, name=None),
            strict=True,
        ),
        key=lambda c: (not c[1], -c[2], c[0]),
    )
    first: dict[tuple, str] = {}
    config = runs.set_index("run")[sweep.config_keys]
    duplicates: list[Duplicate] = []
    for run, _, _, values in candidates:
        kept = first.setdefault(tuple(_comparable(v) for v in values), run)
        if kept != run:
            differs = tuple(k for k in sweep.config_keys if not _same(config.at[run, k], config.at[kept, k]))
            group = runs.set_index("run").at[run, "group"] if "group" in runs.columns else None
            duplicates.append(Duplicate(run, kept, differs, None if pd.isna(group) else str(group)))
    if not duplicates:
        return sweep
    gone = {d.run for d in duplicates}

    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[~frame["run"].isin(gone)].reset_index(drop=True)

    return dataclasses.replace(
        sweep,
        runs=keep(sweep.runs),
        steps=keep(sweep.steps),
        evals=keep(sweep.evals),
        problems=keep(sweep.problems),
        duplicates=[*sweep.duplicates, *sorted(duplicates, key=lambda d: d.run)],
    )


def load_sweeps(sweep_dirs: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> Sweep:
    """Load every run under one or more sweep directories (relative to the working directory),
    each experiment once (:func:`drop_duplicates`)."""
    if isinstance(sweep_dirs, (str, os.PathLike)):
        sweep_dirs = [sweep_dirs]
    reads = [read_run(d) for d in find_run_dirs(sweep_dirs)]
    skipped = [w for r in reads for w in r.warnings]
    for message in skipped:
        warnings.warn(message, AnalysisWarning, stacklevel=2)
    runs, config_keys = runs_frame([r.row for r in reads], [r.config for r in reads])
    names = [r.row["run"] for r in reads]
    steps, evals = metrics_frames(names, [r.metrics for r in reads])
    problems = records_frame(names, [r.records for r in reads])
    return drop_duplicates(Sweep(runs, steps, evals, problems, config_keys, skipped))
