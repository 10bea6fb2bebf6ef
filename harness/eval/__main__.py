"""``python -m harness.eval``: evaluate a checkpoint on benchmarks (conf/evaluate.yaml).

    python -m harness.eval checkpoint=outputs/arith-tiny-grpo/default benchmark=[arith_test] \\
        eval.n=16 eval.k=[1,4,16]

``checkpoint`` is a training run dir (its ``final/`` is evaluated), a run's ``final/`` or
``checkpoints/checkpoint-N``, any ``from_pretrained`` directory, or a hub id. The results never
go into a training run's own files: they are written to ``eval.out_dir`` if set, else, for a
checkpoint of a training run, ``<run>/eval/standalone/<final|checkpoint-N>/``, else Hydra's output
dir: ``config.yaml``, ``run.json`` (kind ``eval``), ``metrics.jsonl`` (one eval line) and
``eval/step-<N>/{records.parquet,summary.json}``. N is the checkpoint's real step: its
``trainer_state.json``'s ``global_step``, the run's last step for ``final/``, or ``step`` if set.
The config, every benchmark and the checkpoint are checked before the model is loaded.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from harness.config.eval import EvaluateConfig
from harness.config.schema import register_configs
from harness.errors import ConfigError, one_line_errors
from harness.eval.benchmarks import load_benchmarks
from harness.eval.runner import EvalResult, evaluate, log_to_wandb, record_metrics
from harness.plain import plain_dict, to_schema
from harness.run.run_dir import (
    CHECKPOINTS,
    EVAL_DIR,
    FINAL,
    LOCK_FILE,
    STANDALONE,
    RunRecord,
    atomic_write,
    checkpoint_dirs,
    is_training_run,
)


def validate(cfg: DictConfig) -> EvaluateConfig:
    try:
        return to_schema(cfg, EvaluateConfig)
    except ValueError as err:  # __post_init__ messages name their key
        raise ConfigError(f"invalid config: {err}") from None


def trained_step(checkpoint: str | Path) -> int:
    """``global_step`` from ``<checkpoint>/trainer_state.json``; 0 when absent."""
    state = Path(checkpoint) / "trainer_state.json"
    if state.is_file():
        return int(json.loads(state.read_text()).get("global_step", 0))
    return 0


@dataclass
class Target:
    """What to evaluate: a ``from_pretrained`` source, its training step, and its run (if any)."""

    model: str
    step: int
    run_dir: Path | None
    label: str  # final, checkpoint-N, or the directory's / hub id's name


def _run_final(run_dir: Path) -> Target:
    final = run_dir / FINAL
    if not (final / "config.json").is_file():
        ckpts = checkpoint_dirs(run_dir)
        status = RunRecord(run_dir).data.get("status", "unknown")
        hint = f"; evaluate a checkpoint instead, e.g. checkpoint={ckpts[-1]}" if ckpts else ""
        raise ConfigError(
            f"checkpoint={run_dir}: this training run has no final/ yet (status {status}){hint}"
        )
    data = RunRecord(run_dir).data
    return Target(str(final), int(data.get("last_step") or data.get("steps") or 0), run_dir, FINAL)


def resolve_target(checkpoint: str) -> Target:
    """Where ``checkpoint=`` points (see the module docstring); raise ``ConfigError`` if nowhere."""
    from harness.run.naming import token
    from harness.training.models import check_source, is_hub_id

    path = Path(hydra.utils.to_absolute_path(checkpoint)).expanduser()
    if not path.exists():
        if is_hub_id(checkpoint):
            return Target(check_source(checkpoint, "checkpoint"), 0, None, token(checkpoint))
        raise ConfigError(f"checkpoint={checkpoint}: no such directory")
    if is_training_run(path):
        return _run_final(path)
    if path.name == FINAL and is_training_run(path.parent):
        return _run_final(path.parent)
    check_source(str(path), "checkpoint")
    run = (
        path.parent.parent
        if path.parent.name == CHECKPOINTS and is_training_run(path.parent.parent)
        else None
    )
    return Target(str(path), trained_step(path), run, path.name if run else token(path.name))


def output_dir(conf: EvaluateConfig, target: Target) -> Path:
    """Where the results go; never a training run's own files (``<run>/eval/standalone/`` only)."""
    if conf.eval.out_dir:
        out = Path(hydra.utils.to_absolute_path(conf.eval.out_dir))
    elif target.run_dir is not None:
        out = target.run_dir / EVAL_DIR / STANDALONE / target.label
    else:
        out = Path(HydraConfig.get().runtime.output_dir)
    for parent in (out, *out.parents):
        if is_training_run(parent):
            allowed = parent / EVAL_DIR / STANDALONE
            if allowed not in out.parents:
                raise ConfigError(
                    f"eval.out_dir={out}: inside the training run {parent}, whose files an evaluation "
                    f"never writes; use {allowed}/<name> (the default for its checkpoints) or a "
                    "directory outside the run"
                )
            break
    return out


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
            checkpoint,
            seed=conf.eval.seed,
            dtype=dtype,
            gpu_memory_utilization=conf.eval.vllm_gpu_memory_utilization,
            tensor_parallel_size=conf.eval.vllm_tensor_parallel_size,
            progress=conf.eval.progress,
        )
        return None, AutoTokenizer.from_pretrained(checkpoint), backend
    import torch

    from harness.training.models import load_pretrained

    model, tokenizer = load_pretrained(checkpoint, dtype)
    model.to(torch.device(device))  # type: ignore[arg-type]  # transformers types `to` as a decorated function
    return model, tokenizer, None


def _init_wandb(conf: EvaluateConfig, raw: DictConfig, run_dir: Path, name: str) -> Any:
    import wandb

    return wandb.init(
        project=os.environ.get("WANDB_PROJECT", "rlvr-credit-assignment"),
        name=name,
        job_type="eval",
        dir=str(run_dir),
        config=plain_dict(raw),
    )


def print_summary(result: EvalResult) -> None:
    ks = result.summary["k"]
    cols = [f"pass@{k}" for k in ks] + ["avg@n", "maj@n"]
    print(f"[harness.eval] step {result.step}: {result.out_dir}")
    print("  " + f"{'benchmark':<16}" + "".join(f"{c:>10}" for c in cols))
    rows = [*list(result.summary["benchmarks"].items()), ("avg", result.summary["avg"])]
    for name, m in rows:
        print("  " + f"{name:<16}" + "".join(f"{m[c]:>10.3f}" for c in cols))


def main(cfg: DictConfig) -> EvalResult:
    from harness.run.locks import exclusive

    conf = validate(cfg)
    load_benchmarks(conf.benchmark)  # bad files / unparsable answers fail before the model loads
    target = resolve_target(conf.checkpoint)
    step = conf.step if conf.step >= 0 else target.step
    out = output_dir(conf, target)
    with exclusive(out / LOCK_FILE, wait=False, what=f"eval dir {out}"):
        atomic_write(out / "config.yaml", lambda tmp: tmp.write_text(OmegaConf.to_yaml(cfg, resolve=True)))
        record = RunRecord(out)
        name = f"eval-{target.label}-step{step}"
        record.start(name, "eval", ["eval", *(f"benchmark:{b}" for b in conf.benchmark)], step, kind="eval")
        try:
            model, tokenizer, backend = build_model(conf, target.model)
            run = _init_wandb(conf, cfg, out, name) if conf.eval.wandb else None
            if run is not None:
                record.update(wandb_id=run.id)
            result = evaluate(
                model,
                tokenizer,
                conf.benchmark,
                conf.eval,
                step=step,
                run_dir=out,
                backend=backend,
                extra={"checkpoint": target.model},
            )
            record_metrics(out, step, result.metrics)
            if run is not None:
                log_to_wandb(result, step)
                run.finish()
        except BaseException as err:
            record.fail(f"{type(err).__name__}: {err}")
            raise
        record.finish(step)
    print_summary(result)
    return result


@hydra.main(
    config_path=str(Path(__file__).resolve().parents[2] / "conf"), config_name="evaluate", version_base="1.3"
)
def _hydra_main(cfg: DictConfig) -> None:
    one_line_errors(main, cfg)


def cli() -> None:
    """``harness-eval`` / ``python -m harness.eval``: register the schemas, then hand over to Hydra."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    register_configs()
    _hydra_main()


if __name__ == "__main__":
    cli()
