"""Kill -9 a tiny run at seeded random points, re-run the same command, check the run dir.

Each trial picks a kill point (``harness.run.faults``: during a step, during a checkpoint write, during
an evaluation, mid-way through a metrics row, between the last write and the status) and a visit of
it, kills the run there, sometimes kills the resumed run too, then re-runs the command until it
succeeds. The run dir must then hold the finished run exactly once and equal an uninterrupted run
with the same seed (``assert_invariants``). 3 trials in the default tier, 10 more in the slow one.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.reliability.runs import KILLED, VISITS, assert_invariants, finish, launch

POINTS = list(VISITS)


def kill_plan(seed: int) -> list[str]:
    """The kill specs of trial ``seed``: the point cycles through every kind, the visit is random;
    slow-tier trials may kill the resumed run a second time."""
    rng = random.Random(seed)
    point = POINTS[seed % len(POINTS)]
    plan = [f"{point}:{rng.randint(1, VISITS[point])}"]
    if seed >= 3 and rng.random() < 0.5:
        second = rng.choice(POINTS)
        plan.append(f"{second}:{rng.randint(1, VISITS[second])}")
    return plan


def trial(seed: int, tmp_path: Path, cache: Path, reference: Path) -> list[str]:
    run_dir = tmp_path / "run"
    outcomes = []
    for i, spec in enumerate(kill_plan(seed)):
        proc = launch(run_dir, cache, kill_at=spec)
        if i == 0:  # a fresh run reaches every planned point
            assert proc.returncode == KILLED, f"{spec}: rc {proc.returncode}\n{proc.stderr[-3000:]}"
        assert proc.returncode in (KILLED, 0), proc.stderr[-3000:]
        outcomes.append(f"{spec}: {'killed' if proc.returncode == KILLED else 'not reached, finished'}")
    finish(run_dir, cache)
    assert_invariants(run_dir, reference)
    print(f"trial {seed}: " + "; ".join(outcomes) + "; re-run finished, invariants hold")
    return outcomes


@pytest.mark.e2e  # real killed runs; `make test` runs these three, the slow tier ten more
@pytest.mark.parametrize("seed", range(3))
def test_kill_and_rerun(seed: int, tmp_path: Path, reliable_cache: Path, reference: Path) -> None:
    trial(seed, tmp_path, reliable_cache, reference)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3, 13))
def test_kill_and_rerun_slow(seed: int, tmp_path: Path, reliable_cache: Path, reference: Path) -> None:
    trial(seed, tmp_path, reliable_cache, reference)
