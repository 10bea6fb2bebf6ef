"""Typed evaluation config: ``eval`` (sampling protocol) and ``benchmark.<name>`` entries.

The dataclasses are registered in Hydra's ConfigStore (``eval/eval_schema``, the base of
conf/eval/default.yaml, and ``evaluate_schema``) so a typo fails at composition;
``__post_init__`` range checks run when the objects are built (:func:`eval_config_from` /
:func:`benchmarks_from`), before any model is loaded.

Sampling defaults follow the common pass@k protocol for reasoning models
(DeepSeek-R1 and "Does RL really incentivize reasoning..." (Yue et al. 2025)):
temperature 0.6, top_p 0.95, no top-k, n=16 samples per problem.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar, cast

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, ListConfig, OmegaConf

from harness.plain import to_schema
from harness.problems.source import ProblemSource
from harness.validation import check as _check
from harness.validation import check_choice as _check_choice

BACKENDS = ("hf", "vllm")
ON_UNPARSABLE = ("error", "warn", "drop")


@dataclass
class EvalConfig:
    """How to sample and score: ``n`` completions per problem, pass@k for each k."""

    n: int = 16
    k: list[int] = field(default_factory=lambda: [1, 4, 16])
    temperature: float = 0.6
    top_p: float = 0.95
    max_new_tokens: int = 1024
    batch_size: int = 64  # sequences (prompt x sample) per generate call (hf backend)
    backend: str = "hf"  # hf | vllm (the gpu extra)
    interval: int = 0  # training steps between evaluations; 0 = only at the end
    save_completions: bool = True  # keep completions in records.parquet
    samples_per_benchmark: int = 4  # rows per benchmark in the W&B samples table
    seed: int = 0
    out_dir: str = ""  # standalone eval's output; "": <run>/eval/standalone/<ckpt>, or Hydra's dir
    wandb: bool = False  # standalone eval: log to W&B (offline unless WANDB_MODE says otherwise)
    reward_timeout_s: float = 5.0
    progress: bool = True
    vllm_gpu_memory_utilization: float = 0.85
    vllm_tensor_parallel_size: int = 1

    def __post_init__(self) -> None:
        _check(self.n >= 1, "eval.n", f"must be >= 1, got {self.n}")
        ks = list(self.k)
        _check(len(ks) > 0, "eval.k", "must list at least one k")
        _check(all(int(k) == k and k >= 1 for k in ks), "eval.k", f"must be positive integers, got {ks}")
        _check(max(ks) <= self.n, "eval.k", f"every k must be <= eval.n={self.n}, got {ks}")
        _check(len(set(ks)) == len(ks), "eval.k", f"has duplicates: {ks}")
        self.k = sorted(int(k) for k in ks)
        _check(self.temperature >= 0, "eval.temperature", f"must be >= 0, got {self.temperature}")
        _check(0 < self.top_p <= 1, "eval.top_p", f"must be in (0, 1], got {self.top_p}")
        _check(self.max_new_tokens >= 1, "eval.max_new_tokens", f"must be >= 1, got {self.max_new_tokens}")
        _check(self.batch_size >= 1, "eval.batch_size", f"must be >= 1, got {self.batch_size}")
        _check(
            self.backend in BACKENDS, "eval.backend", f"must be one of {list(BACKENDS)}, got {self.backend!r}"
        )
        _check(self.interval >= 0, "eval.interval", f"must be >= 0, got {self.interval}")
        _check(
            self.samples_per_benchmark >= 0,
            "eval.samples_per_benchmark",
            f"must be >= 0, got {self.samples_per_benchmark}",
        )
        _check(
            self.reward_timeout_s > 0, "eval.reward_timeout_s", f"must be > 0, got {self.reward_timeout_s}"
        )
        _check(
            0 < self.vllm_gpu_memory_utilization <= 1,
            "eval.vllm_gpu_memory_utilization",
            f"must be in (0, 1], got {self.vllm_gpu_memory_utilization}",
        )
        _check(
            self.vllm_tensor_parallel_size >= 1,
            "eval.vllm_tensor_parallel_size",
            f"must be >= 1, got {self.vllm_tensor_parallel_size}",
        )


@dataclass
class BenchmarkConfig(ProblemSource):
    """One benchmark (``harness.problems``): a hub dataset, a local JSONL/parquet file, or the arithmetic
    task's test split.

    ``on_unparsable`` decides what happens to gold answers the verifier cannot parse: stop (error),
    keep them with a warning listing their ids (warn), or drop them with that warning (drop).
    """

    source: str = "hub"
    on_unparsable: str = "error"

    @property
    def key(self) -> str:
        return f"benchmark.{self.name or '?'}"

    def __post_init__(self) -> None:
        _check(bool(self.name), f"{self.key}.name", "must be set")
        super().__post_init__()
        _check_choice(self.on_unparsable, f"{self.key}.on_unparsable", ON_UNPARSABLE)


@dataclass
class EvaluateConfig:
    """Root of ``conf/evaluate.yaml`` (``python -m harness.eval``)."""

    checkpoint: str = MISSING
    step: int = -1  # -1: global_step of the checkpoint's trainer_state.json (0 if absent)
    device: str = "auto"  # auto | cpu | cuda | cuda:1 ...
    dtype: str = "auto"  # auto (bfloat16 on GPU, float32 on CPU) | float32 | bfloat16 | float16
    eval: EvalConfig = field(default_factory=EvalConfig)
    benchmark: dict[str, BenchmarkConfig] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check(
            self.dtype in ("auto", "float32", "bfloat16", "float16"),
            "dtype",
            f"must be auto, float32, bfloat16 or float16, got {self.dtype!r}",
        )
        _check(len(self.benchmark) > 0, "benchmark", "choose at least one, e.g. benchmark=[arith_test]")


def register_configs() -> None:
    """Put the schemas in Hydra's ConfigStore (idempotent)."""
    cs = ConfigStore.instance()
    cs.store(group="eval", name="eval_schema", node=EvalConfig)
    cs.store(name="evaluate_schema", node=EvaluateConfig)


T = TypeVar("T")
Values = Mapping[str, object] | DictConfig | None  # one config as written: a dict, a composed node
Benchmark = BenchmarkConfig | Values  # one entry of cfg.benchmark (a mapping or a list of them)
BenchmarkSpecs = Mapping[str, Benchmark] | Sequence[Benchmark] | ListConfig | Values


def _to_container(cfg: Any) -> Any:
    if isinstance(cfg, (DictConfig, ListConfig)):
        return OmegaConf.to_container(cfg, resolve=True)
    return cfg


def _build(schema: type[T], values: T | Values, where: str) -> T:
    """Merge ``values`` onto the structured ``schema`` (unknown keys / bad types raise) and build it."""
    if isinstance(values, schema):
        return values
    try:
        merged = OmegaConf.merge(OmegaConf.structured(schema), _to_container(values) or {})
        return to_schema(merged, schema)
    except ValueError:
        raise
    except Exception as err:  # omegaconf's ConfigKeyError / ValidationError
        known = ", ".join(f.name for f in fields(cast(Any, schema)))
        raise ValueError(f"{where}: {err}".rstrip() + f"\n(valid keys: {known})") from None


def eval_config_from(cfg: EvalConfig | Values) -> EvalConfig:
    """An :class:`EvalConfig` from a composed ``cfg.eval`` node, a dict, or an EvalConfig."""
    return _build(EvalConfig, cfg, "eval")


def _entry_name(entry: Any) -> str:
    if isinstance(entry, BenchmarkConfig):
        return entry.name
    return str((entry or {}).get("name", ""))


def benchmarks_from(cfg: BenchmarkSpecs) -> dict[str, BenchmarkConfig]:
    """``{name: BenchmarkConfig}`` from ``cfg.benchmark`` (a mapping), a list, or configs.

    A mapping's key is the benchmark's name unless the entry sets ``name`` itself.
    """
    specs = _to_container(cfg)
    if specs is None:
        return {}
    items: list[tuple[str, Any]]
    if isinstance(specs, Mapping):
        items = [(str(key), value) for key, value in specs.items()]
    else:
        items = [(_entry_name(v), v) for v in specs]
    out: dict[str, BenchmarkConfig] = {}
    for key, value in items:
        if not isinstance(value, BenchmarkConfig):
            value = dict(_to_container(value) or {})
            value.setdefault("name", key)
        bench = _build(BenchmarkConfig, value, f"benchmark.{key}")
        _check(bench.name not in out, f"benchmark.{key}", f"duplicate benchmark name {bench.name!r}")
        out[bench.name] = bench
    return out
