"""Sample efficiency, token efficiency and area under the training curve, per run.

* Sample efficiency is measured from where each run starts, so a run that starts
  higher (a better warm start, an easy first batch) does not win by being there
  already. A run's curve is its training metric smoothed by a trailing mean over
  ``window`` logged steps; its *start* is the first full window (the mean over
  its first ``window`` logged steps) and its *gain* at a step is the smoothed
  value there minus its start. The target is a gain, the same for every run of a
  model: by default half (:data:`DEFAULT_FRACTION`) of the largest peak gain any
  finished run of that model reached; ``target=`` gives it as a number or a
  ``{model: number}`` dict. "Steps to target" is the first logged step at which
  the gain reaches the target, with the cumulative prompts (``train/prompts``)
  and generated completion tokens (``train/tokens``) at that step. The gain is 0
  at the start, so no run reaches a target at its first steps by starting
  high; a run that never gains that much has no value (the tables footnote it).
  The default ``window`` is 5% of the finished runs' median number of logged
  steps (10 of 200), at least 1.
* Token efficiency: final accuracy (average pass@1 over benchmarks at the last
  evaluated step, in %) per million generated training tokens.
* AUC: trapezoidal area under the (unsmoothed) metric-vs-step curve divided by
  the step span, i.e. the metric's time-average over training (comparable across
  run lengths); unlike the steps to target it includes the run's starting level.

Nothing here depends on the k of pass@k.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import scores
from analysis.load import FINISHED, Sweep
from analysis.variants import MODEL
from harness.contract import PROMPTS, REWARD, TOKENS

COLUMNS = (
    "steps to target",
    "prompts to target",
    "tokens to target (M)",
    "AUC",
    "final accuracy (%)",
    "accuracy (%) per M tokens",
)
HIGHER = {"steps to target": False, "prompts to target": False, "tokens to target (M)": False}
DIGITS = {
    "steps to target": 0,
    "prompts to target": 0,
    "final accuracy (%)": 1,
    "accuracy (%) per M tokens": 2,
}
#: The default target gain: this fraction of the largest peak gain among a model's finished runs.
DEFAULT_FRACTION = 0.5
#: The default smoothing window: this fraction of the finished runs' median logged steps.
WINDOW_FRACTION = 0.05


def units(window: int, default_target: bool) -> str:
    """The caption text saying what the efficiency columns measure."""
    mean = f"a trailing mean over {window} logged steps" if window > 1 else "unsmoothed"
    first = f"its mean over its first {window} logged steps" if window > 1 else "its first logged value"
    target = (
        f"the target is {DEFAULT_FRACTION:.0%} of the largest such gain any finished run of the model "
        "reached, "
        if default_target
        else ""
    )
    return (
        f"Steps, prompts and generated tokens (millions) until a run's training reward ({mean}) "
        f"first rises by the target above the run's own start ({first}): {target}the same for "
        "every run of a model, so a run that starts high does not win by starting there; a run "
        "that never gains that much has no value, nor do the runs of a model none of whose "
        "finished runs rose above its start (no target), nor runs shorter than the smoothing "
        "window. AUC: the training reward averaged over "
        "training (start included); final accuracy: average pass@1 over benchmarks at the last "
        "evaluation, in %."
    )


def default_window(steps: pd.DataFrame, runs: pd.DataFrame, metric: str) -> int:
    """:data:`WINDOW_FRACTION` of the finished runs' median number of logged steps, at least 1."""
    done = runs.loc[runs["status"] == FINISHED, "run"]
    logged = steps[steps["run"].isin(done)].dropna(subset=[metric]) if metric in steps else steps.iloc[:0]
    counts = logged.groupby("run")["step"].count()
    return max(1, round(WINDOW_FRACTION * float(counts.median()))) if len(counts) else 1


def curves(steps: pd.DataFrame, metric: str, smooth: int = 1) -> pd.DataFrame:
    """run, step, metric, prompts and tokens, sorted; ``metric`` smoothed by a trailing rolling
    mean over ``smooth`` logged steps, from the first full window on."""
    if metric not in steps:
        steps = steps.assign(**{metric: np.nan})
    cols = ["run", "step", metric] + [c for c in (PROMPTS, TOKENS) if c in steps]
    out = steps[cols].dropna(subset=[metric]).sort_values(["run", "step"]).reset_index(drop=True)
    if smooth > 1:
        out[metric] = out.groupby("run")[metric].transform(lambda x: x.rolling(smooth).mean())
        out = out.dropna(subset=[metric]).reset_index(drop=True)
    return out


def gains(curve: pd.DataFrame, metric: str) -> pd.Series:
    """``metric`` minus the run's start (its first value in ``curve``), per row of ``curve``."""
    return curve[metric] - curve.groupby("run")[metric].transform("first")


def targets(curve: pd.DataFrame, runs: pd.DataFrame, metric: str, target: float | dict | None) -> pd.Series:
    """The target gain per run: a number, a {model: number} dict, or the default (module doc).

    ``curve`` is :func:`curves` (smoothed); a model whose finished runs never rose above
    their start has no default target (NaN).
    """
    run_ids = pd.Index(curve["run"].unique(), name="run")
    model = runs.set_index("run")[MODEL].reindex(run_ids)
    if isinstance(target, dict):
        return model.map(target).astype(float)
    if target is not None:
        return pd.Series(float(target), index=run_ids)
    peak = gains(curve, metric).groupby(curve["run"]).max()
    peak = peak[peak.index.isin(runs.loc[runs["status"] == FINISHED, "run"])]
    best = peak.groupby(model.reindex(peak.index)).max() * DEFAULT_FRACTION
    return model.map(best.where(best > 0)).astype(float)


def first_reach(curve: pd.DataFrame, target: pd.Series, metric: str) -> pd.DataFrame:
    """Step, prompts and tokens at the first step where the run's gain over its start
    (:func:`gains`) is at least its target gain."""
    reached = gains(curve, metric) >= curve["run"].map(target).astype(float)
    hit = curve[reached].drop_duplicates("run").set_index("run")
    return pd.DataFrame(
        {
            "steps to target": hit["step"],
            "prompts to target": hit.get(PROMPTS),
            "tokens to target (M)": hit.get(TOKENS) / 1e6 if TOKENS in hit else np.nan,
        }
    )


def auc(curve: pd.DataFrame, metric: str) -> pd.Series:
    """Time-averaged metric: trapezoid area over the step span (the value itself for one step)."""
    by_run = curve.groupby("run")
    area = (by_run["step"].diff() * (curve[metric] + by_run[metric].shift()) / 2).groupby(curve["run"]).sum()
    span = by_run["step"].max() - by_run["step"].min()
    return (area / span).where(span > 0, by_run[metric].first())


def per_run(
    sweep: Sweep,
    target: float | dict | None = None,
    metric: str = REWARD,
    smooth: int | None = None,
) -> pd.DataFrame:
    """One row per run with every :data:`COLUMNS` value, its start, the target gain used and the
    smoothing window (``smooth``; default :func:`default_window`)."""
    window = default_window(sweep.steps, sweep.runs, metric) if smooth is None else max(1, smooth)
    raw = curves(sweep.steps, metric)
    smoothed = curves(sweep.steps, metric, window)
    goal = targets(smoothed, sweep.runs, metric, target)
    out = pd.DataFrame(index=pd.Index(sweep.runs["run"], name="run"))
    out = out.join(first_reach(smoothed, goal, metric)).join(auc(raw, metric).rename("AUC"))
    final = scores.scores(sweep, [1], last_only=True)
    acc = final[final["benchmark"] == scores.AVG].set_index("run")["pass@1"] * 100.0
    tokens = raw.groupby("run")[TOKENS].last() if TOKENS in raw else pd.Series(dtype=float)
    out["final accuracy (%)"] = acc
    out["accuracy (%) per M tokens"] = acc / (tokens / 1e6)
    out["start"] = smoothed.groupby("run")[metric].first()
    out["target"] = goal
    out["window"] = window
    return out.reset_index()
