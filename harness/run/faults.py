"""Fault points for the end-to-end tests: ``HARNESS_KILL_AT=<point>:<n>`` and ``HARNESS_PAUSE_AT=<point>:<n>``.

With ``HARNESS_KILL_AT`` set, the process SIGKILLs itself the ``n``-th time it reaches ``point`` (no
cleanup, no flush: exactly what a preemption or the OOM killer does). With ``HARNESS_PAUSE_AT`` set
(and ``HARNESS_PAUSE_FIFO`` naming a FIFO), it stops there until the test lets it go: it opens the
FIFO for reading, which blocks until the test opens it for writing, and reads to end of file, which
blocks until the test closes it (``tests/faults.paused``). Both are handshakes, never timeouts, so
the tests that use them pass on a loaded machine. Unset, a point costs one dictionary lookup. The
points:

* ``step``       inside an optimizer step (after the backward pass, before the update)
* ``checkpoint`` a checkpoint written to its staging dir, not yet renamed into place
* ``eval``       an evaluation's records written, its metrics row not yet
* ``metrics``    half of a metrics.jsonl row written (a torn last line)
* ``finish``     everything done but ``run.json``'s status
"""

from __future__ import annotations

import os
import signal
from collections import Counter

ENV = "HARNESS_KILL_AT"
PAUSE_ENV = "HARNESS_PAUSE_AT"
PAUSE_FIFO_ENV = "HARNESS_PAUSE_FIFO"
POINTS = ("step", "checkpoint", "eval", "metrics", "finish")
_reached: Counter[str] = Counter()


def _named(spec: str, point: str) -> bool:
    """Whether ``spec`` (``"<point>:<n>"``) names this, the latest visit of ``point``."""
    if not spec:
        return False
    name, _, nth = spec.partition(":")
    return name == point and _reached[point] == int(nth or 1)


def armed(point: str) -> bool:
    """Count a visit to ``point`` (pausing here if ``HARNESS_PAUSE_AT`` names this visit); True when
    this visit is the one ``HARNESS_KILL_AT`` names."""
    kill_spec, pause_spec = os.environ.get(ENV), os.environ.get(PAUSE_ENV)
    if not kill_spec and not pause_spec:
        return False
    _reached[point] += 1
    if pause_spec and _named(pause_spec, point):
        pause()
    return kill_spec is not None and _named(kill_spec, point)


def pause() -> None:
    """Block until the test holding ``HARNESS_PAUSE_FIFO``'s write end closes it."""
    with open(os.environ[PAUSE_FIFO_ENV], "rb") as fifo:
        fifo.read()


def kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def point(name: str) -> None:
    """Pause here if ``HARNESS_PAUSE_AT`` names this visit of ``name``; die if ``HARNESS_KILL_AT`` does."""
    if armed(name):
        kill()
