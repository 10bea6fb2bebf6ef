"""Benchmark: load + tabulate a large synthetic sweep (``python -m bench.analysis``).

Writes ``--runs`` run dirs (default 1,000) with ``--steps`` logged steps (200)
and ``--problems`` per-problem records (500, over 5 benchmarks) per evaluation,
in a temp dir (not timed), then times :func:`analysis.load.load_sweeps` and
:func:`analysis.tables.all_tables` and prints the seconds. Target: < 10 s.
Each config.yaml is a full resolved config built from the harness's schemas
(~130 keys, as real runs write), since analysis groups by every key.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from analysis import load, tables

BENCHMARKS = ["aime24", "aime25", "amc23", "math500", "minerva"]
CONFIGS = (
    [{"name": "grpo"}, {"name": "gspo"}]
    + [
        {"name": "grpo_lambda", "lam": lam, "style": "recent", "placement": p}
        for lam in (0.9, 0.95, 0.99)
        for p in ("ratio", "weight")
    ]
    + [{"name": "ptrace", "lam": lam} for lam in (0.9, 0.95, 0.99)]
    + [{"name": "strace", "lam": 0.99, "entropy_quantile": q} for q in (0.1, 0.2, 0.4)]
)
MODELS = ["tiny", "tiny-m"]


def full_config(method: dict, model: str, seed: int) -> dict:
    """A resolved config as harness.train writes it: every group's schema with its defaults."""
    from harness.config.eval import BenchmarkConfig, EvalConfig
    from harness.config.schema import LoggerConfig, ModelConfig, TaskConfig, TrainerConfig
    from harness.methods import METHODS

    kind = METHODS[method["name"]].config
    return {
        "method": dataclasses.asdict(kind(**method)),
        "model": dataclasses.asdict(ModelConfig(name=model, build=model)),
        "task": dataclasses.asdict(TaskConfig()),
        "trainer": dataclasses.asdict(TrainerConfig(seed=seed)),
        "logger": dataclasses.asdict(LoggerConfig()),
        "eval": dataclasses.asdict(EvalConfig()),
        "benchmark": {b: dataclasses.asdict(BenchmarkConfig(name=b, source="arith")) for b in BENCHMARKS},
        "cache_dir": ".cache/harness",
        "run_name": "",
    }


def write_run(
    run_dir: Path,
    method: dict,
    model: str,
    seed: int,
    steps: int,
    problems: int,
    eval_every: int,
    rng: np.random.Generator,
) -> None:
    run_dir.mkdir(parents=True)
    status = "failed" if rng.random() < 0.02 else "finished"
    (run_dir / "config.yaml").write_text(yaml.safe_dump(full_config(method, model, seed)))
    (run_dir / "run.json").write_text(
        json.dumps(
            {
                "name": f"{method['name']}-{model}-s{seed}",
                "group": "bench",
                "tags": [],
                "status": status,
                "started": "2026-11-22T05:40:00",
                "finished": None,
                "error": None,
                "wandb_id": None,
                "steps": steps,
            }
        )
    )
    reward = np.clip(np.linspace(0.1, 0.8, steps) + rng.normal(0, 0.05, steps), 0, 1)
    per_bench = problems // len(BENCHMARKS)
    lines = []
    for step in range(1, steps + 1):
        r = float(reward[step - 1])
        lines.append(
            json.dumps(
                {
                    "step": step,
                    "train/reward_mean": r,
                    "train/reward_std": 0.3,
                    "train/accuracy": r,
                    "train/response_length": 200.0,
                    "train/clip_frac": 0.01,
                    "train/entropy": 0.5,
                    "train/kl": 0.001,
                    "train/tokens": 16000 * step,
                    "train/prompts": 64 * step,
                    "time/wall": 3.0 * step,
                }
            )
        )
        if step % eval_every == 0:
            lines.append(json.dumps({"step": step, **{f"eval/{b}/pass@16": r for b in BENCHMARKS}}))
            c = rng.binomial(32, r, size=per_bench * len(BENCHMARKS))
            out = run_dir / "eval" / f"step-{step}"
            out.mkdir(parents=True)
            pq.write_table(
                pa.table(
                    {
                        "step": np.full(c.size, step),
                        "benchmark": np.repeat(BENCHMARKS, per_bench),
                        "problem_id": [str(i) for i in range(c.size)],
                        "n": np.full(c.size, 32),
                        "c": c,
                        "mean_length": np.full(c.size, 200.0),
                        "majority_correct": c > 16,
                    }
                ),
                out / "records.parquet",
            )
    (run_dir / "metrics.jsonl").write_text("\n".join(lines) + "\n")


def generate(root: Path, runs: int, steps: int, problems: int, eval_every: int) -> None:
    rng = np.random.default_rng(0)
    grid = ((seed, model, method) for seed in itertools.count() for model in MODELS for method in CONFIGS)
    for job, (seed, model, method) in zip(range(runs), grid, strict=False):
        write_run(root / str(job), method, model, seed, steps, problems, eval_every, rng)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--problems", type=int, default=500)
    parser.add_argument(
        "--eval-every", type=int, default=200, help="steps between evaluations (records each)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        generate(Path(tmp), args.runs, args.steps, args.problems, args.eval_every)
        print(f"generated {args.runs} runs in {time.perf_counter() - t0:.1f} s (not counted)")
        t0 = time.perf_counter()
        sweep = load.load_sweeps(tmp)
        t1 = time.perf_counter()
        made = tables.all_tables(sweep)
        t2 = time.perf_counter()
    print(
        f"rows: runs={len(sweep.runs)} ({len(sweep.config_keys)} config keys) "
        f"steps={len(sweep.steps)} "
        f"problems={len(sweep.problems)}; tables: {', '.join(t.name for t in made)}"
    )
    print(f"load {t1 - t0:.2f} s + tabulate {t2 - t1:.2f} s = {t2 - t0:.2f} s (target < 10 s)")


if __name__ == "__main__":
    main()
