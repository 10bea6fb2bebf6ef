"""Kill points for the fault-injection tests (tests/reliability/): ``HARNESS_KILL_AT=<point>:<n>``.

With that variable set, the process SIGKILLs itself the ``n``-th time it reaches ``point`` (no
cleanup, no flush: exactly what a preemption or the OOM killer does). Unset, a point costs one
dictionary lookup. The points:

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
POINTS = ("step", "checkpoint", "eval", "metrics", "finish")
_reached: Counter[str] = Counter()


def armed(point: str) -> bool:
    """Count a visit to ``point``; True when this visit is the one ``HARNESS_KILL_AT`` names."""
    spec = os.environ.get(ENV)
    if not spec:
        return False
    _reached[point] += 1
    name, _, nth = spec.partition(":")
    return name == point and _reached[point] == int(nth or 1)


def kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def point(name: str) -> None:
    """Die here if ``HARNESS_KILL_AT`` names this visit of ``name``."""
    if armed(name):
        kill()
