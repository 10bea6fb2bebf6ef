"""tests/verl run in the verl venv (`make test-verl`, part of `make test`); the main venv, which has
no verl (it pins transformers below the main venv's), collects none of them. The helpers here are
imported as top-level modules (``verl_batches``): verl's wheel installs a top-level ``tests``
package, which hides this repository's ``tests`` namespace in the verl venv."""

from __future__ import annotations

import importlib.util


def _verl_installed() -> bool:
    """The real package, not this directory (tests/ is on sys.path: ``verl`` finds tests/verl as a
    namespace package when verl is not installed)."""
    spec = importlib.util.find_spec("verl")
    return spec is not None and spec.origin is not None


if not _verl_installed():
    collect_ignore_glob = ["test_*.py"]
