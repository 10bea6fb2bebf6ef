"""``python -m harness.train``: one RL run, configured by Hydra, on TRL's GRPO engine.

    python -m harness.train method=strace method.entropy_quantile=0.1 model=qwen3-4b

The run directory is derived from the command line (``harness.run.naming``), so running the same
command again resumes the same run; a run dir is a transaction (docs/run_dir.md):

1. validate the config; lock the run dir (a second launch of the same run exits at once);
2. ``resume=auto|never|must``: resume only the same config (``harness.run.identity``), skip a
   finished one, refuse a changed one with a diff;
3. preflight: model, every task row, benchmarks, batch geometry, cache dir (``harness.training.preflight``);
4. only then the warm start, the model, W&B and training (``harness.training.execute``).
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from harness.config.schema import TrainConfig, register_configs, validate
from harness.errors import one_line_errors
from harness.methods import knobs
from harness.run import faults
from harness.run.identity import config_hash, decide, semantic_config
from harness.run.locks import exclusive
from harness.run.run_dir import CONFIG_FILE, LOCK_FILE, MetricsLog, RunRecord, atomic_write
from harness.training import distributed


def run_name(cfg: TrainConfig) -> str:
    """``strace-lam0.99-q0.2-tiny-s0``, ``grpo_lambda-lam0.99-lag-weight-tiny-s0``: method, its knobs
    (``harness.methods.knob``) marked ``in_name`` and every other knob set away from its default, in
    field order, then model and seed. Runs whose knobs differ never share a name; runs that differ
    elsewhere may (a name is for people: analysis groups runs by their whole config)."""
    if cfg.run_name:
        return cfg.run_name
    parts = [cfg.method.name]
    for f, tag in knobs(cfg.method):
        value = getattr(cfg.method, f.name)
        if f.metadata["in_name"] or value != f.default:
            parts.append(_name_part(tag, value))
    return "-".join([*parts, cfg.model.name, f"s{cfg.trainer.seed}"])


def _name_part(tag: str, value: object) -> str:
    if isinstance(value, bool):
        return tag if value else f"no_{tag}"
    return value if isinstance(value, str) else f"{tag}{value}"


def run_tags(cfg: TrainConfig) -> list[str]:
    """W&B tags: method, model, seed, task, and every knob of the method (``harness.methods.knob``)."""
    tags = [
        f"method:{cfg.method.name}",
        f"model:{cfg.model.name}",
        f"seed:{cfg.trainer.seed}",
        f"task:{cfg.task.name}",
    ]
    tags += [f"{tag}:{getattr(cfg.method, f.name)}" for f, tag in knobs(cfg.method)]
    return tags + list(cfg.logger.wandb.tags)


def main(cfg: DictConfig) -> dict[str, float] | None:
    conf = validate(cfg)  # every error here names its key; nothing is built yet
    distributed.init()  # a multi-task SLURM/submitit job: RANK, WORLD_SIZE, MASTER_ADDR... for env://
    lead = distributed.is_main()  # rank 0 alone holds the lock and writes the run dir
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    with exclusive(run_dir / LOCK_FILE, wait=False, what=f"run dir {run_dir}") if lead else nullcontext():
        return _run(conf, cfg, run_dir, lead)


def _run(conf: TrainConfig, cfg: DictConfig, run_dir: Path, lead: bool) -> dict[str, float] | None:
    from harness.training.preflight import preflight

    semantic = semantic_config(cfg)
    if decide(run_dir, semantic, conf.resume).check().action == "skip":
        final = MetricsLog(run_dir).final_eval() if lead else {}
        print(
            f"[harness] {run_dir} already finished with this config; skipping (delete it to rerun). Final: "
            + ", ".join(f"{k}={v:.3f}" for k, v in final.items() if "pass@1" in k and v is not None)
        )
        return final
    cache = Path(hydra.utils.to_absolute_path(conf.cache_dir))
    rows = preflight(conf, cache)  # before the warm start, the model and W&B
    record = RunRecord(run_dir)
    if lead:
        atomic_write(run_dir / CONFIG_FILE, lambda tmp: tmp.write_text(OmegaConf.to_yaml(cfg, resolve=True)))
        group = conf.logger.wandb.group or _sweep_group()
        record.start(
            run_name(conf), group, run_tags(conf), conf.trainer.steps, config_hash=config_hash(semantic)
        )
    try:
        from harness.training.execute import execute

        result = execute(conf, cfg, run_dir, record, rows, cache)
    except BaseException as err:
        if lead:
            record.fail(f"{type(err).__name__}: {err}")
        raise
    if lead:
        faults.point("finish")
        record.finish(conf.trainer.steps)
    return result


def _sweep_group() -> str:
    return Path(HydraConfig.get().sweep.dir).name if is_multirun() else ""


def is_multirun() -> bool:
    return HydraConfig.get().mode == RunMode.MULTIRUN


CONF_DIR = str(Path(__file__).resolve().parents[1] / "conf")  # absolute: console scripts run from anywhere


@hydra.main(config_path=CONF_DIR, config_name="train", version_base="1.3")
def _hydra_main(cfg: DictConfig) -> dict[str, float] | None:
    """The task function (a sweep job's return value: the final evaluation, shown by the launcher)."""
    return one_line_errors(main, cfg, multirun=is_multirun())


def cli() -> None:
    """``harness-train`` / ``python -m harness.train``: register the schemas, then hand over to Hydra."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    register_configs()
    _hydra_main()


if __name__ == "__main__":
    cli()
