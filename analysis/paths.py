"""Where the notebooks find sweeps: relative paths are resolved against the repository root.

A notebook's kernel starts in ``analysis/`` (Jupyter) or wherever papermill is
told, so a relative ``multirun/toy_main`` means the repository's, whatever the
working directory. (The CLI, like any command, resolves against the working
directory.)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENV = "ANALYSIS_SWEEP_DIRS"
DEFAULT = ("multirun",)


def sweep_dirs(dirs: Sequence[str | os.PathLike] | str | None = None) -> list[Path]:
    """``dirs``, else ``$ANALYSIS_SWEEP_DIRS`` (``os.pathsep``-separated), else ``multirun``;
    each relative path taken from the repository root."""
    if dirs is None:
        env = os.environ.get(ENV, "")
        dirs = [d for d in env.split(os.pathsep) if d] or list(DEFAULT)
    elif isinstance(dirs, (str, os.PathLike)):
        dirs = [dirs]
    return [Path(os.path.normpath(REPO / Path(d).expanduser())) for d in dirs]
