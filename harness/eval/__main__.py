"""``python -m harness.eval``: evaluate a checkpoint on benchmarks (conf/evaluate.yaml).

    python -m harness.eval checkpoint=outputs/run/final benchmark=[math500,aime24] \\
        eval.n=16 eval.k=[1,4,16]

Writes into Hydra's output dir (or ``eval.out_dir``): ``config.yaml``, ``run.json``,
``metrics.jsonl`` (one eval line) and ``eval/step-<N>/{records.parquet,summary.json}``,
where N is the checkpoint's ``global_step`` (``trainer_state.json``) unless ``step`` is set.
The config and every benchmark are validated/loaded before the model is.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from harness.eval.benchmarks import load_benchmarks
from harness.eval.config import EvaluateConfig, register_configs
from harness.eval.runner import EvalResult, evaluate, log_to_wandb, record_metrics

register_configs()


def validate(cfg: DictConfig) -> EvaluateConfig:
    try:
        return OmegaConf.to_object(cfg)
    except ValueError as err:  # __post_init__ messages name their key
        raise ValueError(f"invalid config: {err}") from None


def checkpoint_step(checkpoint: str) -> int:
    """``global_step`` from ``<checkpoint>/trainer_state.json``; 0 when absent."""
    state = Path(checkpoint) / "trainer_state.json"
    if state.is_file():
        return int(json.loads(state.read_text()).get("global_step", 0))
    return 0


def resolve_checkpoint(checkpoint: str) -> str:
    path = Path(hydra.utils.to_absolute_path(checkpoint))
    return str(path) if path.exists() else checkpoint  # else: a hub id


def _device_dtype(conf: EvaluateConfig) -> tuple[str, str]:
    import torch

    device = conf.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = conf.dtype
    if dtype == "auto":
        dtype = "bfloat16" if device.startswith("cuda") else "float32"
    return device, dtype


def build_model(conf: EvaluateConfig, checkpoint: str) -> tuple[Any, Any, Any]:
    """(model or None, tokenizer, backend or None) for ``conf.eval.backend``."""
    device, dtype = _device_dtype(conf)
    if conf.eval.backend == "vllm":
        from transformers import AutoTokenizer

        from harness.eval.generate import VLLMBackend

        backend = VLLMBackend(
            checkpoint, seed=conf.eval.seed, dtype=dtype,
            gpu_memory_utilization=conf.eval.vllm_gpu_memory_utilization,
            tensor_parallel_size=conf.eval.vllm_tensor_parallel_size, progress=conf.eval.progress,
        )
        return None, AutoTokenizer.from_pretrained(checkpoint), backend
    from harness.models import load_pretrained

    model, tokenizer = load_pretrained(checkpoint, dtype)
    return model.to(device), tokenizer, None


def _init_wandb(conf: EvaluateConfig, raw: DictConfig, run_dir: Path, name: str) -> Any:
    import wandb

    return wandb.init(
        project=os.environ.get("WANDB_PROJECT", "rlvr-credit-assignment"), name=name,
        job_type="eval", dir=str(run_dir), config=OmegaConf.to_container(raw, resolve=True),
    )


def print_summary(result: EvalResult) -> None:
    ks = result.summary["k"]
    cols = [f"pass@{k}" for k in ks] + ["avg@n", "maj@n"]
    print(f"[harness.eval] step {result.step}: {result.out_dir}")
    print("  " + f"{'benchmark':<16}" + "".join(f"{c:>10}" for c in cols))
    rows = list(result.summary["benchmarks"].items()) + [("avg", result.summary["avg"])]
    for name, m in rows:
        print("  " + f"{name:<16}" + "".join(f"{m[c]:>10.3f}" for c in cols))


def main(cfg: DictConfig) -> EvalResult:
    from harness.rundir import RunRecord

    conf = validate(cfg)
    load_benchmarks(conf.benchmark)  # bad files / unparsable answers fail before the model loads
    run_dir = Path(conf.eval.out_dir or HydraConfig.get().runtime.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = resolve_checkpoint(conf.checkpoint)
    step = conf.step if conf.step >= 0 else checkpoint_step(checkpoint)
    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    record = RunRecord(run_dir)
    name = f"eval-{Path(checkpoint).name or checkpoint}-step{step}"
    record.start(name, "eval", ["eval", *(f"benchmark:{b}" for b in conf.benchmark)], step)
    try:
        model, tokenizer, backend = build_model(conf, checkpoint)
        run = _init_wandb(conf, cfg, run_dir, name) if conf.eval.wandb else None
        if run is not None:
            record.update(wandb_id=run.id)
        result = evaluate(model, tokenizer, conf.benchmark, conf.eval, step=step, run_dir=run_dir,
                          backend=backend, extra={"checkpoint": checkpoint})
        record_metrics(run_dir, step, result.metrics)
        if run is not None:
            log_to_wandb(result, step)
            run.finish()
    except BaseException as err:
        record.fail(f"{type(err).__name__}: {err}")
        raise
    record.finish()
    print_summary(result)
    return result


@hydra.main(config_path="../../conf", config_name="evaluate", version_base="1.3")
def cli(cfg: DictConfig) -> None:
    main(cfg)


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(cli())
