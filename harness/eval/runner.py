"""Evaluate a model on benchmarks: sample, score, write ``eval/step-<N>/`` (docs/run_dir.md).

``evaluate`` is called by the training loop (every ``eval.interval`` steps and at the
end) and by ``python -m harness.eval``.  Per benchmark it renders the prompts exactly as
in training (``harness.problems.prompt.render_prompt``), samples ``eval.n`` completions per problem
under a forked, seeded RNG (same seed -> same records; the caller's RNG is untouched),
scores them with ``harness.grading.math_reward`` and stores (n, c) per problem so that
pass@k for any k <= n can be recomputed later without regenerating.
"""

from __future__ import annotations

import json
import logging
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from harness.config.eval import (
    BenchmarkSpecs,
    EvalConfig,
    Values,
    benchmarks_from,
    eval_config_from,
)
from harness.contract import AVG, RECORDS, SUMMARY, eval_key, step_dir
from harness.eval.benchmarks import load_benchmark
from harness.eval.generate import Backend, Completion, HFBackend, Sampling
from harness.eval.passk import majority_vote, pass_at_k
from harness.grading import MAX_ANSWER_CHARS, canonical_answer, last_boxed, math_reward, warmup_verifier
from harness.problems import Problem
from harness.run.run_dir import MetricsLog, atomic_write

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

log = logging.getLogger(__name__)

SAMPLE_COLUMNS = ["benchmark", "problem_id", "prompt", "completion", "reward"]
RECORD_SCHEMA = pa.schema(
    [
        ("step", pa.int64()),
        ("benchmark", pa.string()),
        ("problem_id", pa.string()),
        ("n", pa.int64()),
        ("c", pa.int64()),
        ("mean_length", pa.float64()),
        ("majority_correct", pa.bool_()),
        ("completions", pa.list_(pa.string())),
        ("rewards", pa.list_(pa.float64())),
    ]
)


@dataclass
class BenchmarkRun:
    """One benchmark's scored samples and timings."""

    name: str
    rows: list[dict[str, Any]]
    samples: list[dict[str, Any]]
    generate_s: float
    verify_s: float
    tokens: int


@dataclass
class EvalResult:
    step: int
    metrics: dict[str, float]
    samples: list[dict[str, Any]]
    records: pd.DataFrame
    summary: dict[str, Any]
    out_dir: Path
    timing: dict[str, float] = field(default_factory=dict)


def benchmark_seed(seed: int, name: str) -> int:
    """Per-benchmark seed: a benchmark's samples do not depend on which others run."""
    return (int(seed) * 1_000_003 + zlib.crc32(name.encode())) % (2**31 - 1)


# ------------------------------------------------------------------------------ scoring


def _answer_key(text: str) -> str | None:
    boxed = last_boxed(text)
    if boxed is None or len(boxed) > MAX_ANSWER_CHARS:
        return None
    return canonical_answer(boxed) or None


def score_problem(problem: Problem, completions: list[Completion], timeout_s: float) -> dict[str, Any]:
    """(n, c, mean_length, majority_correct, rewards) for one problem's samples."""
    texts = [t for t, _ in completions]
    rewards = [math_reward(t, problem.answer, timeout_s=timeout_s) for t in texts]
    _, maj_ok = majority_vote([_answer_key(t) for t in texts], rewards)
    return {
        "n": len(texts),
        "c": int(sum(r > 0.5 for r in rewards)),
        "mean_length": float(np.mean([k for _, k in completions])) if completions else 0.0,
        "majority_correct": bool(maj_ok),
        "rewards": [float(r) for r in rewards],
        "completions": texts,
    }


def _seeded_generate(
    backend: Backend, prompts: list[str], n: int, sampling: Sampling
) -> list[list[Completion]]:
    import torch

    devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(sampling.seed)
        return backend.generate(prompts, n, sampling)


def run_benchmark(
    name: str,
    problems: list[Problem],
    backend: Backend,
    tokenizer: PreTrainedTokenizerBase,
    cfg: EvalConfig,
    step: int,
) -> BenchmarkRun:
    from harness.problems.prompt import render_prompt

    prompts = [render_prompt(tokenizer, p.problem) for p in problems]
    sampling = Sampling(cfg.temperature, cfg.top_p, cfg.max_new_tokens, benchmark_seed(cfg.seed, name))
    if isinstance(backend, HFBackend):
        backend.desc = f"eval {name}"
    t0 = time.perf_counter()
    outputs = _seeded_generate(backend, prompts, cfg.n, sampling)
    t1 = time.perf_counter()
    scored = [score_problem(p, outs, cfg.reward_timeout_s) for p, outs in zip(problems, outputs, strict=True)]
    t2 = time.perf_counter()
    rows = [
        {"step": int(step), "benchmark": name, "problem_id": p.id, **s}
        for p, s in zip(problems, scored, strict=True)
    ]
    samples = [
        {
            "benchmark": name,
            "problem_id": p.id,
            "prompt": prompt,
            "completion": s["completions"][0],
            "reward": s["rewards"][0],
        }
        for p, prompt, s in list(zip(problems, prompts, scored, strict=True))[: cfg.samples_per_benchmark]
    ]
    tokens = sum(k for outs in outputs for _, k in outs)
    return BenchmarkRun(name, rows, samples, t1 - t0, t2 - t1, tokens)


# ---------------------------------------------------------------------------- summaries


def benchmark_metrics(records: pd.DataFrame, ks: list[int]) -> dict[str, float]:
    """pass@k (k <= n), avg@n, maj@n and mean length of one benchmark's records."""
    n, c = records["n"].to_numpy(), records["c"].to_numpy()
    out = {f"pass@{k}": float(np.mean(pass_at_k(n, c, k))) for k in ks}
    out["avg@n"] = float(np.mean(c / n))
    out["maj@n"] = float(records["majority_correct"].mean())
    out["mean_length"] = float(records["mean_length"].mean())
    return out


def summarize(records: pd.DataFrame, ks: list[int]) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Per-benchmark metrics and their unweighted mean over benchmarks."""
    per = {
        str(name): benchmark_metrics(group, ks) for name, group in records.groupby("benchmark", sort=False)
    }
    keys = [f"pass@{k}" for k in ks] + ["avg@n", "maj@n"]
    avg = {key: float(np.mean([m[key] for m in per.values()])) for key in keys} if per else {}
    return per, avg


def flat_metrics(per: dict[str, dict[str, float]], avg: dict[str, float]) -> dict[str, float]:
    """``eval/<benchmark>/<metric>`` and ``eval/avg/<metric>`` (W&B / metrics.jsonl keys)."""
    out = {eval_key(b, k): v for b, m in per.items() for k, v in m.items()}
    out.update({eval_key(AVG, k): v for k, v in avg.items()})
    return out


# ------------------------------------------------------------------------------ writing


def write_records(path: Path, records: pd.DataFrame, save_completions: bool) -> None:
    schema = (
        RECORD_SCHEMA
        if save_completions
        else pa.schema([f for f in RECORD_SCHEMA if f.name != "completions"])
    )
    table = pa.Table.from_pandas(records[[f.name for f in schema]], schema=schema, preserve_index=False)
    atomic_write(path, lambda tmp: pq.write_table(table, tmp))


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(summary, indent=1, default=float)))


def record_metrics(run_dir: Path | str, step: int, metrics: dict[str, float]) -> None:
    """Write an eval line to ``metrics.jsonl``, replacing an earlier eval line of this step
    (docs/run_dir.md: a step appears at most once per kind)."""
    MetricsLog(Path(run_dir)).write(step, metrics)


# ------------------------------------------------------------------------------ evaluate


def _make_backend(
    model: PreTrainedModel | None, tokenizer: PreTrainedTokenizerBase, cfg: EvalConfig
) -> Backend:
    if cfg.backend == "vllm":
        log.warning(
            "eval.backend=vllm needs a checkpoint path (python -m harness.eval); "
            "evaluating the in-memory model with the hf backend"
        )
    return HFBackend(model, tokenizer, batch_size=cfg.batch_size, progress=cfg.progress)


def evaluate(
    model: PreTrainedModel | None,
    tokenizer: PreTrainedTokenizerBase,
    benchmarks: BenchmarkSpecs,
    eval_cfg: EvalConfig | Values,
    *,
    step: int,
    run_dir: Path | str,
    backend: Backend | None = None,
    extra: dict[str, Any] | None = None,
) -> EvalResult:
    """Sample ``eval_cfg.n`` completions per problem of each benchmark, score them, and
    write ``<run_dir>/eval/step-<step>/{records.parquet,summary.json}`` (overwritten on
    re-run).  ``backend`` defaults to batched HF generation with ``model``."""
    cfg = eval_config_from(eval_cfg)
    benches = benchmarks_from(benchmarks)
    if not benches:
        raise ValueError("benchmark: nothing to evaluate (choose e.g. benchmark=[arith_test])")
    problems = {name: load_benchmark(b) for name, b in benches.items()}  # fail before sampling
    backend = backend or _make_backend(model, tokenizer, cfg)
    t0 = time.perf_counter()
    warmup_verifier()  # one-time per process; kept out of the per-benchmark verify_s
    runs = [run_benchmark(name, probs, backend, tokenizer, cfg, step) for name, probs in problems.items()]
    records = pd.DataFrame([row for r in runs for row in r.rows])
    per, avg = summarize(records, cfg.k)
    metrics = flat_metrics(per, avg)
    timing = {
        "total_s": time.perf_counter() - t0,
        "generate_s": sum(r.generate_s for r in runs),
        "verify_s": sum(r.verify_s for r in runs),
        "tokens": float(sum(r.tokens for r in runs)),
        "problems": float(len(records)),
    }
    for r in runs:
        per[r.name].update(
            num_problems=len(r.rows), generate_s=r.generate_s, verify_s=r.verify_s, tokens=r.tokens
        )
    summary = {
        "step": int(step),
        "n": cfg.n,
        "k": cfg.k,
        "benchmarks": per,
        "avg": avg,
        "metrics": metrics,
        "eval": asdict(cfg),
        "benchmark_configs": {k: asdict(v) for k, v in benches.items()},
        "timing": timing,
        **(extra or {}),
    }
    out = step_dir(run_dir, step)
    out.mkdir(parents=True, exist_ok=True)
    write_records(out / RECORDS, records, cfg.save_completions)
    write_summary(out / SUMMARY, summary)
    samples = [s for r in runs for s in r.samples]
    return EvalResult(int(step), metrics, samples, records, summary, out, timing)


def log_to_wandb(result: EvalResult, step: int, *, metrics: bool = True) -> bool:
    """Log the metrics row (as metrics.jsonl has it: ``step`` and the ``eval/…`` keys) and a
    samples table to the active W&B run (False if none). ``metrics=False``: the table only (a
    training run's rows reach W&B through its metrics.jsonl mirror, ``harness.run.wandb_log``)."""
    import wandb

    if wandb.run is None:
        return False
    from harness.run.wandb_log import STEP, use_step_axis

    use_step_axis(wandb.run)
    payload: dict[str, Any] = {STEP: int(step), **(result.metrics if metrics else {})}
    if result.samples:
        data = [[s[c] for c in SAMPLE_COLUMNS] for s in result.samples]
        columns: list[str | int] = [*SAMPLE_COLUMNS]  # wandb.Table's annotation
        payload["eval/samples"] = wandb.Table(columns=columns, data=data)
    wandb.log(payload)
    return True
