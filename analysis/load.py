"""Load sweep directories (or W&B projects) into tidy pandas frames.

The run directory format is the contract in ``docs/run_dir.md``. Every frame is
keyed by ``run`` (the run directory as a string), so they join on that column:

* ``runs``     one row per run: identity/status from run.json + config columns;
* ``steps``    one row per logged training step (``train/*``, ``time/*``);
* ``evals``    one row per evaluation line of metrics.jsonl (``eval/*``);
* ``problems`` one row per evaluated (step, benchmark, problem) from records.parquet.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from harness.eval.passk import pass_at_k

#: Output column -> dotted key in config.yaml (docs/run_dir.md).
CONFIG_COLUMNS: dict[str, str] = {
    "method": "method.name",
    "lam": "method.lam",
    "style": "method.style",
    "placement": "method.placement",
    "quantile": "method.entropy_quantile",
    "model": "model.name",
    "task": "task.name",
    "seed": "trainer.seed",
}
RUN_JSON_COLUMNS = ["name", "group", "status", "started", "finished", "error", "wandb_id", "steps", "tags"]
RECORD_COLUMNS = ["step", "benchmark", "problem_id", "n", "c", "mean_length", "majority_correct"]
FINISHED = "finished"
_SKIP_DIRS = {".hydra", "checkpoints", "final", "eval", "wandb", "__pycache__"}
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Sweep:
    """The four tidy frames of one or more sweeps."""

    runs: pd.DataFrame
    steps: pd.DataFrame
    evals: pd.DataFrame
    problems: pd.DataFrame

    @property
    def finished(self) -> pd.DataFrame:
        """Runs that completed (the only ones tables average)."""
        return self.runs[self.runs["status"] == FINISHED]

    @property
    def incomplete(self) -> pd.DataFrame:
        """Runs that failed or never finished: listed, never averaged in."""
        return self.runs[self.runs["status"] != FINISHED]


def find_run_dirs(sweep_dirs: Iterable[str | os.PathLike]) -> list[Path]:
    """Every directory under ``sweep_dirs`` holding a run.json or config.yaml.

    A sweep dir may itself be a run dir, or nest runs at any depth
    (``multirun/<date>/<time>/<job>``); a run dir's own subdirectories are not searched.
    """
    found: list[Path] = []
    for root in sweep_dirs:
        for dirpath, dirnames, filenames in os.walk(root):
            if "run.json" in filenames or "config.yaml" in filenames:
                found.append(Path(dirpath))
                dirnames.clear()
            else:
                dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
    return sorted(set(found))


def _get(cfg: dict, dotted: str) -> object:
    for part in dotted.split("."):
        if not isinstance(cfg, dict) or part not in cfg:
            return None
        cfg = cfg[part]
    return cfg


def read_run(run_dir: Path) -> dict:
    """One ``runs`` row: run.json fields, config columns, and the run's location."""
    row: dict = {"run": str(run_dir), "name": run_dir.name, "status": "unknown"}
    meta = run_dir / "run.json"
    if meta.exists():
        row.update({k: v for k, v in json.loads(meta.read_text()).items() if k in RUN_JSON_COLUMNS})
    else:
        row["error"] = "run.json missing"
    cfg_path = run_dir / "config.yaml"
    cfg = yaml.load(cfg_path.read_text(), Loader=_YAML_LOADER) if cfg_path.exists() else {}
    row.update({col: _get(cfg or {}, key) for col, key in CONFIG_COLUMNS.items()})
    row["sweep"] = str(run_dir.parent)
    return row


def _runs_frame(rows: list[dict]) -> pd.DataFrame:
    cols = ["run", "sweep", *RUN_JSON_COLUMNS, *CONFIG_COLUMNS]
    frame = pd.DataFrame(rows, columns=cols)
    for col in ("lam", "quantile"):
        frame[col] = pd.to_numeric(frame[col])
    return frame


def _run_column(names: list[str], counts: list[int]) -> pa.Array:
    """``names[i]`` repeated ``counts[i]`` times, built in Arrow (a numpy object repeat is ~10x slower)."""
    codes = np.repeat(np.arange(len(names), dtype=np.int32), counts)
    return pa.DictionaryArray.from_arrays(codes, pa.array(names, pa.string())).cast(pa.string())


def read_metrics(run_dirs: Sequence[Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse every metrics.jsonl into (training steps, evaluation lines).

    One ``json.loads`` per file (its lines joined into a JSON array) keeps this
    fast; a line may in principle carry both kinds, so each frame keeps the rows
    where any of its own columns is set.
    """
    records: list[dict] = []
    counts: list[int] = []
    for run_dir in run_dirs:
        path = run_dir / "metrics.jsonl"
        lines = [ln for ln in path.read_text().splitlines() if ln.strip()] if path.exists() else []
        records.extend(json.loads("[" + ",".join(lines) + "]"))
        counts.append(len(lines))
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame({"step": []})
    frame.insert(0, "run", _run_column([str(d) for d in run_dirs], counts).to_pandas())
    eval_cols = [c for c in frame.columns if c.startswith("eval/")]
    train_cols = [c for c in frame.columns if c not in eval_cols and c not in ("run", "step")]
    return _kind(frame, train_cols), _kind(frame, eval_cols)


def _kind(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    if not cols:
        return frame[["run", "step"]].iloc[:0].reset_index(drop=True)
    keep = frame[cols].notna().any(axis=1)
    out = frame.loc[keep, ["run", "step", *cols]].reset_index(drop=True)
    out["step"] = out["step"].astype("int64")
    return out


def read_records(run_dirs: Sequence[Path]) -> pd.DataFrame:
    """All eval/step-*/records.parquet (without the heavy optional columns)."""
    tables: list[pa.Table] = []
    owners: list[str] = []
    for run_dir in run_dirs:
        for path in sorted((run_dir / "eval").glob("step-*/records.parquet")):
            # ParquetFile.read skips the dataset layer of pq.read_table: ~5x faster per small file.
            tables.append(pq.ParquetFile(path).read(columns=RECORD_COLUMNS, use_threads=False))
            owners.append(str(run_dir))
    if not tables:
        return _empty_records()
    table = pa.concat_tables(tables)
    return table.add_column(0, "run", _run_column(owners, [t.num_rows for t in tables])).to_pandas()


def _empty_records() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in ["run", *RECORD_COLUMNS]})


def load_sweeps(sweep_dirs: str | os.PathLike | Iterable[str | os.PathLike]) -> Sweep:
    """Load every run under one or more sweep directories."""
    if isinstance(sweep_dirs, (str, os.PathLike)):
        sweep_dirs = [sweep_dirs]
    run_dirs = find_run_dirs(sweep_dirs)
    runs = _runs_frame([read_run(d) for d in run_dirs])
    steps, evals = read_metrics(run_dirs)
    return Sweep(runs=runs, steps=steps, evals=evals, problems=read_records(run_dirs))


def pass_at_k_table(records: pd.DataFrame, ks: Iterable[int]) -> pd.DataFrame:
    """Mean pass@k per (run, step, benchmark), recomputed from per-problem (n, c).

    Uses the unbiased estimator ``harness.eval.passk.pass_at_k`` (Chen et al. 2021).
    A problem with fewer than k samples has no pass@k, and neither has its
    benchmark (NaN rather than a mean over a subset). An extra benchmark
    ``"avg"`` is the unweighted mean over benchmarks, as in ``eval/avg/pass@k``.
    """
    keys = ["run", "step", "benchmark"]
    n = records["n"].to_numpy(dtype=np.int64)
    c = records["c"].to_numpy(dtype=np.int64)
    frame = records[keys].copy()
    for k in ks:
        ok = n >= k
        values = np.full(len(records), np.nan)
        values[ok] = pass_at_k(n[ok], c[ok], k)
        frame[f"pass@{k}"] = values
    per_bench = _strict_mean(frame, keys)
    avg = _strict_mean(per_bench.drop(columns="benchmark"), ["run", "step"])
    avg.insert(2, "benchmark", "avg")
    return pd.concat([per_bench, avg], ignore_index=True)


def _strict_mean(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Group means that are NaN when any member is NaN (pandas < 3 lacks ``skipna=False``)."""
    grouped = frame.groupby(keys, sort=True)
    means = grouped.mean()
    return means.mask(frame.drop(columns=keys).isna().groupby([frame[k] for k in keys]).any()).reset_index()


def pass_at_k_from_evals(evals: pd.DataFrame, ks: Iterable[int]) -> pd.DataFrame:
    """The same long frame as :func:`pass_at_k_table`, read from ``eval/<b>/pass@<k>`` metrics."""
    cols = {f"pass@{k}" for k in ks}
    parts = []
    for col in evals.columns:
        _, _, rest = col.partition("eval/")
        bench, _, metric = rest.rpartition("/")
        if col.startswith("eval/") and metric in cols:
            part = evals[["run", "step", col]].dropna().rename(columns={col: metric})
            parts.append(part.assign(benchmark=bench))
    if not parts:
        return pd.DataFrame(columns=["run", "step", "benchmark", *sorted(cols)])
    long = pd.concat(parts, ignore_index=True)
    return long.groupby(["run", "step", "benchmark"], as_index=False).first()


def scores(sweep: Sweep, ks: Iterable[int], last_only: bool = False) -> pd.DataFrame:
    """pass@k per (run, step, benchmark): from records where a run has them, else from its metrics.

    ``last_only`` keeps only each run's last evaluated step (what the tables use; much faster).
    """
    ks = list(ks)
    problems, evals = sweep.problems, sweep.evals
    if last_only:
        problems, evals = final_step(problems), final_step(evals)
    from_records = pass_at_k_table(problems, ks) if len(problems) else None
    have = set(problems["run"].unique())
    from_metrics = pass_at_k_from_evals(evals[~evals["run"].isin(have)], ks)
    parts = [p for p in (from_records, from_metrics) if p is not None and len(p)]
    if not parts:
        return pd.DataFrame(columns=["run", "step", "benchmark", *[f"pass@{k}" for k in ks]])
    return pd.concat(parts, ignore_index=True)


def final_step(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``frame`` at each run's last step."""
    last = frame.groupby("run")["step"].transform("max")
    return frame[frame["step"] == last]


def last_eval(sweep: Sweep) -> Sweep:
    """``sweep`` with only each run's last evaluation kept (all a final-step table needs)."""
    return Sweep(sweep.runs, sweep.steps, final_step(sweep.evals), final_step(sweep.problems))


#: Config columns that identify a variant (seed excluded), in row-index order.
IDENTITY = ["model", "method", "lam", "style", "placement", "quantile", "task"]


def varying(runs: pd.DataFrame, exclude: Iterable[str] = ()) -> list[str]:
    """``model``, ``method`` and the identity columns that vary within some method.

    A column constant per method (S-trace always at λ=0.99, say) adds nothing
    to a row label that ``method`` does not already say.
    """
    exclude = set(exclude)
    fixed = [c for c in ("model", "method") if c not in exclude]
    by_method = runs.groupby(runs["method"].astype(str))
    extra = [c for c in IDENTITY[2:] if c not in exclude and (by_method[c].nunique(dropna=False) > 1).any()]
    return fixed + extra


def labels(runs: pd.DataFrame, exclude: Iterable[str] = ("model",)) -> pd.Series:
    """A short variant label per run, e.g. ``grpo_lambda lam=0.9 placement=ratio``."""
    cols = varying(runs, exclude)

    def label(row: pd.Series) -> str:
        parts = [str(row["method"])] if "method" in cols else []
        parts += [f"{c}={row[c]}" for c in cols if c != "method" and pd.notna(row[c])]
        return " ".join(parts)

    return runs.apply(label, axis=1) if len(runs) else pd.Series(dtype=str)


_WANDB_STATUS = {"finished": "finished", "crashed": "failed", "failed": "failed", "killed": "running"}


def load_wandb(project: str, entity: str | None = None) -> Sweep:
    """The same frames from a W&B project (needs network and a login).

    W&B holds no per-problem records, so ``problems`` is empty; tables that need
    pass@k at arbitrary k need the run directories.
    """
    import wandb

    api = wandb.Api()
    path = f"{entity}/{project}" if entity else project
    rows, histories = [], []
    for wrun in api.runs(path):
        cfg = dict(wrun.config)
        row = {"run": "wandb:" + "/".join(wrun.path), "sweep": path, "name": wrun.name,
               "group": wrun.group, "status": _WANDB_STATUS.get(wrun.state, "running"),
               "wandb_id": wrun.id, "tags": list(wrun.tags), "steps": wrun.summary.get("step")}
        row.update({col: _get(cfg, key) for col, key in CONFIG_COLUMNS.items()})
        rows.append(row)
        history = pd.DataFrame(list(wrun.scan_history()))
        history.insert(0, "run", row["run"])
        histories.append(history)
    frame = pd.concat(histories, ignore_index=True) if histories else pd.DataFrame({"run": [], "step": []})
    frame = frame.dropna(subset=["step"]) if "step" in frame else frame.assign(step=frame.get("_step"))
    eval_cols = [c for c in frame.columns if c.startswith("eval/")]
    train_cols = [c for c in frame.columns if c.startswith(("train/", "time/"))]
    return Sweep(_runs_frame(rows), _kind(frame, train_cols), _kind(frame, eval_cols), _empty_records())
