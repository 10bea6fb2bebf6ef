"""The test side of ``harness.run.faults``' pause point: hold a run at a named point, act, let it go."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.run import faults


def pause_env(at: str, fifo: Path) -> dict[str, str]:
    """The environment of a run that pauses at ``at`` (``"step:1"``) on the FIFO ``fifo`` (made here)."""
    os.mkfifo(fifo)
    return {**os.environ, faults.PAUSE_ENV: at, faults.PAUSE_FIFO_ENV: str(fifo)}


@contextmanager
def paused(proc: subprocess.Popen, fifo: Path) -> Iterator[None]:
    """Block until ``proc`` waits at its pause point; leaving the block lets it go on.

    Opening the FIFO for writing returns once the run has opened it for reading, i.e. reached the
    point. If the run exits first, a watcher opens the read end itself, so the open returns and the
    test fails naming the exit code instead of hanging: no deadline, no polling.
    """

    def release_if_exited() -> None:
        proc.wait()
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))

    threading.Thread(target=release_if_exited, daemon=True).start()
    with open(fifo, "wb"):
        assert proc.poll() is None, f"the run exited ({proc.returncode}) before its pause point"
        yield
