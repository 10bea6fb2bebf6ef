"""Everything a training run needs, checked before any compute: the warm start, the model load and
W&B come after. Each failure is a ``HarnessError`` naming the key, file and row."""

from __future__ import annotations

import tempfile
from pathlib import Path

from harness.config.schema import TrainConfig, accumulation_steps
from harness.errors import ConfigError, RunDirError
from harness.training import distributed


def check_writable(directory: Path, key: str) -> None:
    """``directory`` exists (or can be made) and takes files."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as err:
        raise RunDirError(f"{key}={directory}: not writable ({err.strerror})") from None


def preflight(cfg: TrainConfig, cache_dir: Path) -> list[dict[str, str]]:
    """Check the model source, every task row, every benchmark, the batch geometry and the cache dir;
    return the task's rows (read once, used for training)."""
    from harness.eval.benchmarks import load_benchmarks
    from harness.problems.dataset import task_rows
    from harness.training.models import TINY_ARCHS, check_source
    from harness.training.trl_args import check_trl_passthrough

    accumulation_steps(cfg, distributed.world_size())  # raises unless the batch splits evenly
    check_trl_passthrough(cfg, distributed.world_size())
    if cfg.model.build:
        if cfg.model.build not in TINY_ARCHS:
            raise ConfigError(f"model.build={cfg.model.build}: must be one of {sorted(TINY_ARCHS)}")
        if cfg.model.warm_start.steps == 0:
            raise ConfigError("model.warm_start.steps=0: tiny models need a warm start (> 0)")
    else:
        check_source(cfg.model.source, "model.path" if cfg.model.path else "model.hub")
    rows = task_rows(cfg.task)
    load_benchmarks(cfg.benchmark)  # memoised: the evaluations reuse what is read here
    if cfg.model.build:
        check_writable(cache_dir, "cache_dir")
    return rows
