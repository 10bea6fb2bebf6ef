"""Confidence intervals, paired deltas and detectable effects for seeds × problems scores.

A table cell is a matrix ``x[s, p]``: one row per seed, one column per evaluated problem
(per-problem pass@k), the problems split into *strata* (benchmarks). Its estimate is the
unweighted mean over strata of the mean over seeds and the stratum's problems, which is
the mean over seeds of each run's table value.

Both sources of noise are resampled, as a *crossed* bootstrap: every seed evaluated the
same problems, so one resample draws seeds with replacement and, independently, problems
with replacement within each stratum, and takes the estimate on the seeds × problems it
drew. This is :func:`scipy.stats.bootstrap` with one sample of seed indices and one of
problem indices per stratum (``paired=False`` resamples each sample independently), a
percentile interval. A cell with one seed resamples problems only (its CI is evaluation
noise alone); one without per-problem records (a value read from metrics.jsonl) resamples
seeds only.

A paired Δ against a baseline is the same bootstrap of ``x[s, p] - base[s, p]`` over the
seeds and problems both have; P(X > baseline), the probability of improvement
(Agarwal et al. 2021, paired), is the mean over those (seed, problem) pairs of
``1[x > base] + ½·1[x = base]``, with the same resamples.

The detectable effect is the smallest true Δ a two-sided test at 95% finds with 80%
power: ``(z_0.975 + z_0.80)·SE = 2.80·SE``, SE the bootstrap standard error of the
paired Δ. The seeds a Δ of ``d`` would need scale the seed part of the variance only:
``SE(n)² = SE²·(f·S/n + 1 - f)``, ``f`` the seed share of the variance (the variance of
the per-seed mean Δ over S seeds, over that plus the variance of the per-problem mean Δ
over P problems); the problem part does not shrink with seeds, so some Δ need more
problems, never more seeds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95
POWER = 0.80
RESAMPLES = 2000
#: Bounds within this of 0 count as 0 (round-off in means of equal scores).
TOLERANCE = 1e-9
#: The bootstraps' RNG seed: tables are the same on every run of the CLI.
RNG_SEED = 0
METHOD = (
    f"{LEVEL:.0%} CI: percentile bootstrap ({RESAMPLES} resamples, scipy.stats.bootstrap) over seeds "
    "and, independently, over the evaluated problems within each benchmark"
)


@dataclass(frozen=True)
class Interval:
    """An estimate with its CI (NaN bounds: none could be computed) and bootstrap SE."""

    value: float
    low: float
    high: float
    se: float
    seeds: int
    problems: int

    def excludes_zero(self) -> bool:
        """The CI lies above or below 0 (beyond float round-off: a Δ of identical runs is 0)."""
        return bool(self.low > TOLERANCE or self.high < -TOLERANCE)


@dataclass(frozen=True)
class Paired:
    """A paired Δ (``delta``), P(X > baseline) (``better``), the share ``f`` of the Δ's
    variance that is between seeds (NaN with one seed), each seed's own Δ (``per_seed``, in
    the order given) and the evaluation noise: the median over seeds of the bootstrap SE of one
    seed's Δ over the problems (``eval_se``; NaN without per-problem scores)."""

    delta: Interval
    better: Interval
    seed_share: float
    per_seed: tuple[float, ...] = ()
    eval_se: float = math.nan

    @property
    def significant(self) -> bool:
        return self.delta.excludes_zero()


def _stratum_means(values: np.ndarray, cols: np.ndarray, problems: np.ndarray | None) -> np.ndarray:
    """Per-seed means over a stratum's (resampled) problems: shape (..., seeds)."""
    sub = values[:, cols]
    if problems is None:
        return sub.mean(axis=-1)
    return np.moveaxis(sub[:, problems.astype(np.intp)].mean(axis=-1), 0, -1)


def _statistic(
    values: np.ndarray, strata: list[np.ndarray], by_seed: bool, by_problem: bool
) -> Callable[..., np.ndarray]:
    def statistic(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
        seeds = samples[0].astype(np.intp) if by_seed else None
        problems = samples[1:] if by_seed else samples
        total: np.ndarray | float = 0.0
        for i, cols in enumerate(strata):
            per_seed = _stratum_means(values, cols, problems[i] if by_problem else None)
            if seeds is None:
                total = total + per_seed.mean(axis=-1)
            else:
                per_seed = np.broadcast_to(per_seed, (*seeds.shape[:-1], per_seed.shape[-1]))
                total = total + np.take_along_axis(per_seed, seeds, axis=-1).mean(axis=-1)
        return np.asarray(total) / len(strata)

    return statistic


def crossed_bootstrap(
    values: np.ndarray, strata: Sequence[Sequence[int] | np.ndarray] | None = None
) -> Interval:
    """The mean of ``values`` (seeds × problems; strata: column indices per benchmark, default one)
    with its crossed-bootstrap CI (see the module docstring)."""
    values = np.asarray(values, dtype=float)
    groups = [np.asarray(c, dtype=np.intp) for c in (strata or [range(values.shape[1])])]
    n_seeds, n_problems = values.shape[0], sum(len(c) for c in groups)
    estimate = float(np.mean([values[:, c].mean() for c in groups]))
    by_seed, by_problem = n_seeds > 1, all(len(c) > 1 for c in groups)
    if not (by_seed or by_problem):
        return Interval(estimate, math.nan, math.nan, math.nan, n_seeds, n_problems)
    samples = ([np.arange(n_seeds, dtype=float)] if by_seed else []) + (
        [np.arange(len(c), dtype=float) for c in groups] if by_problem else []
    )
    res = stats.bootstrap(
        samples,
        _statistic(values, groups, by_seed, by_problem),
        n_resamples=RESAMPLES,
        vectorized=True,
        paired=False,
        confidence_level=LEVEL,
        method="percentile",
        rng=np.random.default_rng(RNG_SEED),
    )
    ci = res.confidence_interval
    return Interval(estimate, float(ci.low), float(ci.high), float(res.standard_error), n_seeds, n_problems)


def seed_share(delta: np.ndarray) -> float:
    """The share of the paired Δ's variance that is between seeds: ``v_s/S / (v_s/S + v_p/P)``,
    ``v_s`` the variance of the per-seed mean Δ, ``v_p`` of the per-problem mean Δ (NaN: one seed)."""
    n_seeds, n_problems = delta.shape
    if n_seeds < 2:
        return math.nan
    by_seed = delta.mean(axis=1).var(ddof=1) / n_seeds
    by_problem = delta.mean(axis=0).var(ddof=1) / n_problems if n_problems > 1 else 0.0
    total = by_seed + by_problem
    return float(by_seed / total) if total > 0 else math.nan


def paired(
    mine: np.ndarray, base: np.ndarray, strata: Sequence[Sequence[int] | np.ndarray] | None = None
) -> Paired:
    """``mine − base`` (both seeds × problems, the same seeds and problems in the same order):
    the paired Δ and P(mine > base), each with its crossed-bootstrap CI."""
    mine, base = np.asarray(mine, dtype=float), np.asarray(base, dtype=float)
    if mine.shape != base.shape:
        raise ValueError(
            f"paired scores must have the same seeds × problems, got {mine.shape} and {base.shape}"
        )
    delta = mine - base
    wins = (mine > base) + 0.5 * (mine == base)
    groups = [np.asarray(c, dtype=np.intp) for c in (strata or [range(delta.shape[1])])]
    per_seed = tuple(float(np.mean([row[c].mean() for c in groups])) for row in delta)
    noise = [crossed_bootstrap(delta[i : i + 1], groups).se for i in range(len(delta))]
    return Paired(
        crossed_bootstrap(delta, groups),
        crossed_bootstrap(wins, groups),
        seed_share(delta),
        per_seed,
        float(np.median(noise)) if noise else math.nan,
    )


def detectable(se: float, level: float = LEVEL, power: float = POWER) -> float:
    """The smallest true Δ a two-sided test at ``level`` detects with ``power``: (z + z_power)·SE."""
    return float((stats.norm.ppf(0.5 + level / 2) + stats.norm.ppf(power)) * se)


def seeds_needed(
    se: float, share: float, seeds: int, effect: float, level: float = LEVEL, power: float = POWER
) -> float:
    """The seeds (same problems) at which :func:`detectable` reaches ``effect``, its SE scaled as
    ``SE(n)² = SE²·(share·seeds/n + 1 − share)``; ``inf`` if the problem part alone is too large,
    NaN if ``share`` is unknown (one seed)."""
    if math.isnan(share) or math.isnan(se):
        return math.nan
    z = stats.norm.ppf(0.5 + level / 2) + stats.norm.ppf(power)
    target = (effect / z) ** 2
    seed_part, problem_part = se**2 * share * seeds, se**2 * (1 - share)
    if problem_part >= target:
        return math.inf
    return float(max(2, math.ceil(seed_part / (target - problem_part) - TOLERANCE)))
