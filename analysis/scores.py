"""pass@k per (run, step, benchmark): from per-problem records, else read from the metrics."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.load import Sweep
from harness.eval.passk import pass_at_k

KEYS = ["run", "step", "benchmark"]
AVG = "avg"


def pass_at_k_table(records: pd.DataFrame, ks: Iterable[int]) -> pd.DataFrame:
    """Mean pass@k per (run, step, benchmark), recomputed from per-problem (n, c).

    Uses the unbiased estimator ``harness.eval.passk.pass_at_k`` (Chen et al. 2021).
    A problem with fewer than k samples has no pass@k, and neither has its
    benchmark (NaN rather than a mean over a subset). An extra benchmark
    ``"avg"`` is the unweighted mean over benchmarks, as in ``eval/avg/pass@k``.
    """
    n = records["n"].to_numpy(dtype=np.int64)
    c = records["c"].to_numpy(dtype=np.int64)
    frame = records[KEYS].copy()
    for k in ks:
        ok = n >= k
        values = np.full(len(records), np.nan)
        values[ok] = pass_at_k(n[ok], c[ok], k)
        frame[f"pass@{k}"] = values
    per_bench = _strict_mean(frame, KEYS)
    avg = _strict_mean(per_bench.drop(columns="benchmark"), ["run", "step"])
    avg.insert(2, "benchmark", AVG)
    return pd.concat([per_bench, avg], ignore_index=True)


def _strict_mean(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Group means that are NaN when any member is NaN (pandas < 3 lacks ``skipna=False``)."""
    means = frame.groupby(keys, sort=True).mean()
    holes = frame.drop(columns=keys).isna().groupby([frame[k] for k in keys]).any()
    return means.mask(holes).reset_index()


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
        return pd.DataFrame(columns=[*KEYS, *sorted(cols)])
    return pd.concat(parts, ignore_index=True).groupby(KEYS, as_index=False).first()


def scores(sweep: Sweep, ks: Iterable[int], last_only: bool = False) -> pd.DataFrame:
    """pass@k per (run, step, benchmark): from records where a run has them, else from its metrics.

    ``last_only`` keeps only each run's last evaluated step (what the tables use; much faster).
    """
    ks = list(ks)
    problems, evals = sweep.problems, sweep.evals
    if last_only:
        problems, evals = final_step(problems), final_step(evals)
    parts = [pass_at_k_table(problems, ks)] if len(problems) else []
    have = set(problems["run"].unique())
    parts.append(pass_at_k_from_evals(evals[~evals["run"].isin(have)], ks))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=[*KEYS, *[f"pass@{k}" for k in ks]])
    return pd.concat(parts, ignore_index=True)


def final_step(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``frame`` at each run's last step."""
    last = frame.groupby("run")["step"].transform("max")
    return frame[frame["step"] == last]


def last_eval(sweep: Sweep) -> Sweep:
    """``sweep`` with only each run's last evaluation kept (all a final-step table needs)."""
    return dataclasses.replace(sweep, evals=final_step(sweep.evals), problems=final_step(sweep.problems))


@dataclass
class ProblemScores:
    """Per-problem pass@k (``problems``: run, benchmark, problem_id, value) and per-run values
    (``runs``: run, benchmark, value, "avg" included), to build the seeds × problems matrices
    that :mod:`analysis.uncertainty` resamples."""

    problems: pd.DataFrame
    runs: pd.DataFrame

    def __post_init__(self) -> None:
        self._by_run = {
            key: group.set_index("problem_id")["value"]
            for key, group in self.problems.groupby(["run", "benchmark"], sort=False)
        }
        self._values = self.runs.set_index(["run", "benchmark"])["value"]
        benches = self.runs["benchmark"]
        self.benchmarks = sorted(b for b in benches.unique() if b != AVG)

    def benchmarks_of(self, column: object) -> list[str]:
        """The benchmarks a column averages: all of them for "avg", else the one."""
        return list(self.benchmarks) if column == AVG else [str(column)]

    def matrix(self, runs: list[str], benchmarks: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """``runs`` × problems (the problems every run evaluated, per benchmark in order) and the
        column indices of each benchmark. Where some run has no records, one column per
        benchmark holds each run's value (so only seeds are resampled)."""
        if all((r, b) in self._by_run for r in runs for b in benchmarks):
            blocks = []
            for bench in benchmarks:
                frame = pd.concat([self._by_run[(r, bench)] for r in runs], axis=1, join="inner")
                blocks.append(frame.sort_index().to_numpy(float).T)
        else:
            blocks = [
                np.array([[self._values.get((r, b), np.nan)] for r in runs], dtype=float) for b in benchmarks
            ]
        sizes = np.cumsum([0, *(b.shape[1] for b in blocks)])
        strata = [np.arange(sizes[i], sizes[i + 1]) for i in range(len(blocks))]
        return np.concatenate(blocks, axis=1), strata


def problem_scores(sweep: Sweep, k: int, step: int | None = None) -> ProblemScores:
    """Per-problem pass@k at each run's last evaluation (or at ``step``), and per-run values."""
    problems = final_step(sweep.problems) if step is None else sweep.problems[sweep.problems["step"] == step]
    n = problems["n"].to_numpy(dtype=np.int64)
    c = problems["c"].to_numpy(dtype=np.int64)
    values = np.full(len(problems), np.nan)
    ok = n >= k
    values[ok] = pass_at_k(n[ok], c[ok], k)
    per_problem = problems[["run", "benchmark", "problem_id"]].assign(value=values).dropna(subset=["value"])
    found = scores(sweep, [k], last_only=step is None)
    found = found if step is None else found[found["step"] == step]
    per_run = found.rename(columns={f"pass@{k}": "value"})[["run", "benchmark", "value"]]
    return ProblemScores(per_problem.reset_index(drop=True), per_run.reset_index(drop=True))
