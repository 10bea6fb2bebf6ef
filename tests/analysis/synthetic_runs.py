"""Synthetic run directories written exactly per docs/run_dir.md (fixtures: conftest.py).

Every number is a simple function of the run's spec, so the tests can compute
the expected table cells by hand from :class:`RunSpec` alone.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

BENCHMARKS = ("aime24", "math500")
N = 32
STEPS = 10
EVAL_STEPS = (5, 10)
PROMPTS_PER_STEP = 8


@dataclass
class RunSpec:
    """One synthetic run; ``c[step][benchmark]`` are the per-problem correct counts (n = N)."""

    job: str
    method: str
    model: str
    seed: int
    status: str = "finished"
    lam: float | None = None
    style: str | None = None
    placement: str | None = None
    quantile: float | None = None
    group: str = "main"
    extra: dict = field(default_factory=dict)  # more config, merged into the groups (trainer.lr)
    c_offset: int = 0  # added to every correct count (see counts)
    reward_offset: float = 0.0  # train/reward_mean = reward_slope * step + reward_offset
    reward_slope: float = 0.05
    tokens_per_step: int = 1000  # train/tokens = tokens_per_step * step
    c: dict[int, dict[str, list[int]]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.method}-{self.model}-s{self.seed}"

    def reward(self, step: int) -> float:
        return self.reward_slope * step + self.reward_offset

    @property
    def logged_steps(self) -> int:
        return STEPS if self.status == "finished" else STEPS // 2


def _config(spec: RunSpec) -> dict:
    method = {"name": spec.method}
    for key, value in (
        ("lam", spec.lam),
        ("style", spec.style),
        ("placement", spec.placement),
        ("entropy_quantile", spec.quantile),
    ):
        if value is not None:
            method[key] = value
    cfg = {
        "method": method,
        "model": {"name": spec.model, "dtype": "float32"},
        "task": {"name": "arith"},
        "trainer": {"seed": spec.seed, "max_steps": STEPS},
        "eval": {"interval": 5, "n": N, "k": [1, 4, 16]},
        "logger": {"wandb": {"group": spec.group}},
    }
    _merge(cfg, spec.extra)
    return cfg


def _merge(into: dict, more: dict) -> None:
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _metrics(spec: RunSpec) -> list[dict]:
    lines = []
    for step in range(1, spec.logged_steps + 1):
        lines.append(
            {
                "step": step,
                "train/reward_mean": spec.reward(step),
                "train/reward_std": 0.1,
                "train/accuracy": spec.reward(step) / 2,
                "train/response_length": 50.0,
                "train/clip_frac": 0.0,
                "train/entropy": 1.0,
                "train/kl": 0.0,
                "train/tokens": spec.tokens_per_step * step,
                "train/prompts": PROMPTS_PER_STEP * step,
                "time/wall": 2.0 * step,
            }
        )
        if step in spec.c:
            ev = {"step": step}
            for bench, cs in spec.c[step].items():
                ev[f"eval/{bench}/pass@1"] = sum(cs) / (N * len(cs))
            lines.append(ev)
    return lines


def write_run(run_dir: Path, spec: RunSpec) -> Path:
    """A run directory as harness.train writes it (checkpoint/final dirs left empty)."""
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / "checkpoints" / "checkpoint-5").mkdir(parents=True)
    cfg = _config(spec)
    (run_dir / "config.yaml").write_text(yaml.safe_dump(cfg))
    (run_dir / ".hydra" / "config.yaml").write_text(yaml.safe_dump(cfg))
    tags = [f"method:{spec.method}", f"model:{spec.model}", f"seed:{spec.seed}"]
    (run_dir / "run.json").write_text(
        json.dumps(
            {
                "name": spec.name,
                "group": spec.group,
                "tags": tags,
                "status": spec.status,
                "started": "2026-11-22T05:40:00",
                "finished": "2026-11-22T06:00:00" if spec.status == "finished" else None,
                "error": "RuntimeError: CUDA out of memory" if spec.status == "failed" else None,
                "wandb_id": None,
                "steps": spec.logged_steps,
            }
        )
    )
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in _metrics(spec)))
    for step, per_bench in spec.c.items():
        rows = [
            {
                "step": step,
                "benchmark": b,
                "problem_id": f"{b}-{i}",
                "n": N,
                "c": c,
                "mean_length": 40.0 + c,
                "majority_correct": c > N // 2,
                "completions": ["x"] * 2,
                "rewards": [0.0, 1.0],
            }
            for b, cs in per_bench.items()
            for i, c in enumerate(cs)
        ]
        out = run_dir / "eval" / f"step-{step}"
        out.mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows), out / "records.parquet")
        (out / "summary.json").write_text("{}")
    return run_dir


def counts(seed: int, method: str, step: int, offset: int = 0) -> dict[str, list[int]]:
    """Deterministic per-problem correct counts that differ by seed, method, step and offset."""
    base = (
        {"grpo": 1, "gspo": 2, "strace": 3, "grpo_lambda": 2, "ptrace": 1}[method]
        + seed
        + (step == 10)
        + offset
    )
    return {"aime24": [0, base, 3 * base], "math500": [base + 4, N, 1, 20]}


def evaluated(spec: RunSpec) -> RunSpec:
    """``spec`` with its correct counts at each evaluation it reached."""
    steps = [s for s in EVAL_STEPS if s <= spec.logged_steps]
    spec.c = {s: counts(spec.seed, spec.method, s, spec.c_offset) for s in steps}
    return spec


def main_specs() -> list[RunSpec]:
    """grpo on both models; strace finished on tiny, failed/unfinished on tiny-m;
    gspo one finished + one failed seed on tiny and no run on tiny-m."""
    strace = {"lam": 0.99, "quantile": 0.2}
    specs = [
        RunSpec("0", "grpo", "tiny", 0),
        RunSpec("1", "grpo", "tiny", 1),
        RunSpec("2", "grpo", "tiny-m", 0, reward_offset=0.1),
        RunSpec("3", "grpo", "tiny-m", 1, reward_offset=0.1),
        RunSpec("4", "strace", "tiny", 0, reward_offset=0.2, tokens_per_step=800, **strace),
        RunSpec("5", "strace", "tiny", 1, reward_offset=0.1, tokens_per_step=800, **strace),
        RunSpec("6", "strace", "tiny-m", 0, status="failed", **strace),
        RunSpec("7", "strace", "tiny-m", 1, status="running", **strace),
        RunSpec("8", "gspo", "tiny", 0, reward_offset=0.05),
        RunSpec("9", "gspo", "tiny", 1, status="failed"),
    ]
    return [evaluated(s) for s in specs]


def ablation_specs() -> list[RunSpec]:
    """GRPO-λ over λ × placement (one cell only failed), S-trace over the entropy quantile
    (at seed 2, so no run repeats one of :func:`main_specs`)."""
    specs = []
    job = 0
    for lam in (0.9, 0.99):
        for placement in ("ratio", "weight"):
            for seed in (0, 1):
                failed = lam == 0.9 and placement == "weight"
                specs.append(
                    RunSpec(
                        str(job),
                        "grpo_lambda",
                        "tiny",
                        seed,
                        status="failed" if failed else "finished",
                        lam=lam,
                        style="recent",
                        placement=placement,
                        group="lambda_ablation",
                        reward_offset=lam / 10 + (placement == "weight") / 20,
                    )
                )
                job += 1
    for q in (0.1, 0.2):
        specs.append(
            RunSpec(
                str(job),
                "strace",
                "tiny",
                2,
                lam=0.99,
                quantile=q,
                group="entropy_quantile_ablation",
            )
        )
        job += 1
    return [evaluated(s) for s in specs]


@dataclass
class SyntheticSweeps:
    root: Path
    main: Path
    ablation: Path
    main_specs: list[RunSpec]
    ablation_specs: list[RunSpec]

    def spec(self, run: str) -> RunSpec:
        """The spec of a loaded run (its ``run`` column)."""
        path = Path(run)
        specs = self.main_specs if path.parent == self.main else self.ablation_specs
        return next(s for s in specs if s.job == path.name)


# --- values computed by hand from the specs ---


def chen(n: int, c: int, k: int) -> float:
    """The textbook pass@k, 1 - C(n-c, k)/C(n, k), from integer binomials."""
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def run_scores(spec: RunSpec, k: int) -> dict[str, float]:
    """Per-benchmark and average pass@k (fractions) of a run at its last evaluated step."""
    per_bench = spec.c[max(spec.c)]
    out = {b: statistics.mean(chen(N, c, k) for c in cs) for b, cs in per_bench.items()}
    out["avg"] = statistics.mean(out[b] for b in BENCHMARKS)
    return out


def mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else math.nan)


def finished(specs: list[RunSpec], **where: object) -> list[RunSpec]:
    return [s for s in specs if s.status == "finished" and all(getattr(s, k) == v for k, v in where.items())]
