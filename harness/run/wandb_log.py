"""W&B mirrors the run directory: the same rows, the same keys, against the same ``step``.

Every row written to ``metrics.jsonl`` is logged as is (``{"step": N, "train/…": …}``) and
W&B plots every metric against ``step``; rows are logged without W&B's own ``step=``, so a
resumed run's replayed steps are kept, not dropped. TRL's and transformers' own W&B callback
is off (``report_to="none"``): W&B's config is ours alone, and no TRL key reaches W&B.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

STEP = "step"


def use_step_axis(run: Any) -> None:
    """Plot every metric of ``run`` against ``step`` (the metrics.jsonl step)."""
    run.define_metric(STEP)
    run.define_metric("*", step_metric=STEP)


def mirror(run: Any) -> Callable[[dict[str, Any]], None]:
    """A ``MetricsLog`` mirror logging each written row to ``run``."""
    use_step_axis(run)
    return lambda row: run.log(dict(row))
