"""Execute a notebook of analysis/ with papermill, as a user would, and collect what it shows."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import nbformat
import papermill

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Shown:
    """What the executed notebook displays."""

    text: str  # printed output
    markdown: str  # rendered Markdown (our tables)
    html: str  # rendered DataFrames
    images: int  # PNG figures


def execute(name: str, out_dir: Path, cwd: Path, **parameters: object) -> Shown:
    """Run ``analysis/<name>`` from ``cwd`` with papermill; raise on any cell error.

    The kernel imports this checkout (PYTHONPATH), whatever package the venv installed.
    """
    env = {
        "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "MPLBACKEND": "Agg",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        papermill.execute_notebook(
            str(REPO / "analysis" / name),
            str(out_dir / name),
            parameters=parameters,
            cwd=str(cwd),
            kernel_name="python3",
            progress_bar=False,
            execution_timeout=300,
        )
    finally:
        for key, value in saved.items():
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)
    nb = nbformat.read(out_dir / name, as_version=4)
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    data = [o.get("data", {}) for o in outputs]
    return Shown(
        text="".join(o.get("text", "") for o in outputs),
        markdown="".join(d.get("text/markdown", "") for d in data),
        html="".join(d.get("text/html", "") for d in data),
        images=sum("image/png" in d for d in data),
    )
