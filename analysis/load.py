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

The same experiment found twice (two run dirs with the same variant and seed,
e.g. one config in two sweeps) is counted once: :func:`drop_duplicates` keeps
one run dir (finished first, then the most logged steps, then the first path in
sorted order), drops the others from every frame and lists them in
``Sweep.duplicates``, so no table or plot counts a seed twice.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from analysis.variants import HEAD, SEED, identity_keys
from harness import contract
from harness.contract import CHECKPOINTS, CONFIG_FILE, EVAL_DIR, FINAL, METRICS_FILE, RECORDS, RUN_FILE

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
