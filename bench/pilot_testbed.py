"""The test bed's pilot: how hard is the task for the warm-started tiny model?

    python -m bench.pilot_testbed "task.n_operations=4 task.max_operand=9 model.warm_start.steps=400" ...

Each argument is one candidate (Hydra overrides on top of ``trainer=cpu_ppo``). For each,
the warm start is built (or reused from ``.cache/harness``, where the study finds it) for seed 0, and
held-out pass@1 is measured on the candidate's own test split (the benchmark follows the task's
``n_operations`` and ``max_operand``) at the trainer's sampling settings. A test bed where credit
assignment can matter starts at pass@1 ~20-50%: room to improve, and reward in most groups.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.profile_step import CACHE, compose_cfg
from harness.eval.runner import evaluate
from harness.training.models import load_pretrained
from harness.training.warmstart import warm_start

BASE = ["trainer=cpu_ppo"]


def pilot(overrides: list[str], n_problems: int, n: int) -> dict[str, float]:
    cfg = compose_cfg([*BASE, *overrides])
    bench = cfg.benchmark["arith_test"]
    bench.n_operations, bench.max_operand, bench.n_problems = (
        cfg.task.n_operations,
        cfg.task.max_operand,
        n_problems,
    )
    cfg.eval.n, cfg.eval.k, cfg.eval.progress = n, [1], False
    t = time.perf_counter()
    path = warm_start(cfg.model, cfg.task, cfg.trainer.seed, CACHE)
    warm_s = time.perf_counter() - t
    model, tok = load_pretrained(str(path))
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        result = evaluate(model, tok, cfg.benchmark, cfg.eval, step=0, run_dir=Path(tmp))
    return {
        "pass@1": 100 * result.metrics["eval/arith_test/pass@1"],
        "warm_min": warm_s / 60,
        "eval_min": (time.perf_counter() - t) / 60,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("candidates", nargs="+", help="one quoted string of overrides per candidate")
    parser.add_argument("--problems", type=int, default=200)
    parser.add_argument("--n", type=int, default=4, help="samples per problem")
    ns = parser.parse_args()
    for cand in ns.candidates:
        r = pilot(cand.split(), ns.problems, ns.n)
        print(
            f"{cand:<70} pass@1 {r['pass@1']:5.1f}%  warm start {r['warm_min']:.1f} min  "
            f"eval {r['eval_min']:.1f} min",
            flush=True,
        )


if __name__ == "__main__":
    main()
