"""Errors the user can fix: bad config, bad data, a run dir in use or holding another config.

The command-line entry points print a ``HarnessError`` as one line (``[harness] error: ...``) and
exit 1; ``HYDRA_FULL_ERROR=1`` shows the traceback instead. Anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class HarnessError(Exception):
    """A problem with the user's input or run directory; its message names the key, file or row."""


class ConfigError(HarnessError, ValueError):
    """A composed config that fails validation; the message names the key."""


class DataError(HarnessError, ValueError):
    """Task or benchmark data that cannot be used; the message names the file and row."""


class RunDirError(HarnessError):
    """A run directory that cannot be used as asked: in use, another config, nothing to resume."""


def one_line_errors(main: Callable[..., T], *args: Any, multirun: bool = False) -> T:
    """``main(*args)``; a ``HarnessError`` becomes one line on stderr and exit status 1.

    In a multirun the error is printed and re-raised, so that Hydra records the job as failed and
    the other jobs still run.
    """
    try:
        return main(*args)
    except HarnessError as err:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"[harness] error: {err}", file=sys.stderr, flush=True)
        if multirun:
            raise
        sys.exit(1)
