"""Sample efficiency, token efficiency and area under the training curve, per run.

* Sample efficiency: the first logged step at which the (optionally smoothed)
  training metric reaches a target, and the cumulative prompts
  (``train/prompts``) and generated completion tokens (``train/tokens``) at it.
  The default target, per model, is 90% of the lowest peak among that model's
  finished runs, so every finished run reaches it and the numbers compare.
* Token efficiency: final accuracy (average pass@1 over benchmarks at the last
  evaluated step, in %) per million generated training tokens.
* AUC: trapezoidal area under the metric-vs-step curve divided by the step
  span, i.e. the metric's time-average over training (comparable across run lengths).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import scores
from analysis.load import FINISHED, Sweep
from analysis.variants import MODEL

COLUMNS = (
    "steps to target",
    "prompts to target",
    "tokens to target (M)",
    "AUC",
    "final accuracy (%)",
    "accuracy (%) per M tokens",
)
UNITS = (
    "Steps, prompts and generated tokens (millions) until the training reward first reaches "
    "the target; AUC: the training reward averaged over training; final accuracy: average "
    "pass@1 over benchmarks at the last evaluation, in %."
)
HIGHER = {"steps to target": False, "prompts to target": False, "tokens to target (M)": False}
DIGITS = {
    "steps to target": 0,
    "prompts to target": 0,
    "final accuracy (%)": 1,
    "accuracy (%) per M tokens": 2,
}
DEFAULT_FRACTION = 0.9


def curves(steps: pd.DataFrame, metric: str, smooth: int = 1) -> pd.DataFrame:
    """run, step, metric, prompts and tokens, sorted; ``metric`` smoothed by a trailing rolling
    mean over ``smooth`` steps."""
    if metric not in steps:
        steps = steps.assign(**{metric: np.nan})
    cols = ["run", "step", metric] + [c for c in ("train/prompts", "train/tokens") if c in steps]
    out = steps[cols].dropna(subset=[metric]).sort_values(["run", "step"]).reset_index(drop=True)
    if smooth > 1:
        out[metric] = out.groupby("run")[metric].transform(lambda x: x.rolling(smooth, min_periods=1).mean())
    return out


def targets(curve: pd.DataFrame, runs: pd.DataFrame, metric: str, target: float | dict | None) -> pd.Series:
    """The target per run: a number, a {model: number} dict, or the default (see module doc)."""
    run_ids = pd.Index(curve["run"].unique(), name="run")
    model = runs.set_index("run")[MODEL].reindex(run_ids)
    if isinstance(target, dict):
        return model.map(target).astype(float)
    if target is not None:
        return pd.Series(float(target), index=run_ids)
    peak = curve.groupby("run")[metric].max()
    peak = peak[peak.index.isin(runs.loc[runs["status"] == FINISHED, "run"])]
    return model.map(peak.groupby(model.reindex(peak.index)).min() * DEFAULT_FRACTION)


def first_reach(curve: pd.DataFrame, target: pd.Series, metric: str) -> pd.DataFrame:
    """Step, prompts and tokens at the first step where ``metric`` ≥ the run's target."""
    hit = (
        curve[curve[metric] >= curve["run"].map(target).astype(float)].drop_duplicates("run").set_index("run")
    )
    return pd.DataFrame(
        {
            "steps to target": hit["step"],
            "prompts to target": hit.get("train/prompts"),
            "tokens to target (M)": hit.get("train/tokens") / 1e6 if "train/tokens" in hit else np.nan,
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
    metric: str = "train/reward_mean",
    smooth: int = 1,
) -> pd.DataFrame:
    """One row per run with every :data:`COLUMNS` value and the target used."""
    raw = curves(sweep.steps, metric)
    smoothed = curves(sweep.steps, metric, smooth) if smooth > 1 else raw
    goal = targets(smoothed, sweep.runs, metric, target)
    out = pd.DataFrame(index=pd.Index(sweep.runs["run"], name="run"))
    out = out.join(first_reach(smoothed, goal, metric)).join(auc(raw, metric).rename("AUC"))
    final = scores.scores(sweep, [1], last_only=True)
    acc = final[final["benchmark"] == scores.AVG].set_index("run")["pass@1"] * 100.0
    tokens = raw.groupby("run")["train/tokens"].last() if "train/tokens" in raw else pd.Series(dtype=float)
    out["final accuracy (%)"] = acc
    out["accuracy (%) per M tokens"] = acc / (tokens / 1e6)
    out["target"] = goal
    return out.reset_index()
