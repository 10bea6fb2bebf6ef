"""The step-0 evaluation of a cached warm start, made once and copied into every run that starts from it.

Every method of a study's seed starts from the same warm start (``harness.training.warmstart``), and evaluation
is seeded by ``eval.seed`` alone, so their step-0 evaluations are the same samples and the same scores.
The first run to evaluate it keeps a copy of its ``eval/step-0`` beside the warm start, keyed by the
evaluation protocol and the benchmarks; later runs copy that directory into their own run dir instead of
sampling again. A copy appears by a rename, complete, and two runs racing to publish it keep either
(they are equal).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness import contract
from harness.config.eval import benchmarks_from, eval_config_from
from harness.contract import SUMMARY


def start_eval_dir(warm_start: Path, eval_cfg: Any, benchmarks: Any) -> Path:
    """Where the step-0 evaluation of ``warm_start`` under this protocol and these benchmarks is kept."""
    # without the keys that change no score (the resume identity's bookkeeping: cadence, layout, logging)
    cfg = contract.without(asdict(eval_config_from(eval_cfg)), contract.bookkeeping_keys("resume"), "eval")
    spec = {"eval": cfg, "benchmarks": {k: asdict(v) for k, v in benchmarks_from(benchmarks).items()}}
    key = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return warm_start.with_name(f"{warm_start.name}.eval0-{key}")


def reuse(shared: Path, dest: Path) -> dict[str, float] | None:
    """Copy the kept evaluation into ``dest`` and return its metrics; None if none is kept."""
    if not (shared / SUMMARY).is_file():
        return None
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(shared, dest)
    return json.loads((dest / SUMMARY).read_text())["metrics"]


def keep(src: Path, shared: Path) -> None:
    """Publish a copy of the evaluation dir ``src`` as ``shared`` (unless another run already did)."""
    tmp = shared.with_name(f"{shared.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src, tmp)
    try:
        os.replace(tmp, shared)
    except OSError:  # published by a run that raced us: same content
        shutil.rmtree(tmp, ignore_errors=True)
