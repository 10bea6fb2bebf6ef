"""The fault points' pause handshake: a run held at a named visit, let go by the test, never by a timer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults import pause_env, paused
from tests.train.runs import REPO

TWO_STEPS = (
    "from harness.run import faults\n"
    "faults.point('step'); print('one', flush=True)\n"
    "faults.point('step'); print('two', flush=True)\n"
)


def test_a_paused_run_waits_at_the_named_visit_until_released(tmp_path: Path) -> None:
    fifo = tmp_path / "pause"
    proc = subprocess.Popen(
        [sys.executable, "-c", TWO_STEPS],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env=pause_env("step:2", fifo),
    )
    assert proc.stdout is not None
    with paused(proc, fifo):
        assert proc.stdout.readline() == "one\n"  # past the first visit, held at the second
        assert proc.poll() is None
    assert proc.communicate()[0] == "two\n"
    assert proc.returncode == 0


def test_a_run_that_exits_before_its_pause_point_fails_instead_of_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "pause"
    proc = subprocess.Popen([sys.executable, "-c", "pass"], cwd=REPO, env=pause_env("step:1", fifo))
    with pytest.raises(AssertionError, match=r"exited \(0\) before its pause point"), paused(proc, fifo):
        pass
