"""``python -m harness.train``: one RL run, configured by Hydra, on TRL's GRPO engine.

    python -m harness.train method=strace method.entropy_quantile=0.1 model=qwen3-4b

The run directory is deterministic for a given command line (see conf/train.yaml),
so running the same command again resumes from its last checkpoint, and a run
that already finished is skipped.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from harness import distributed, launch  # noqa: F401  (launch: the hydra/launcher schemas)
from harness.config import TrainConfig, register_configs, validate
from harness.rundir import MetricsLog, RunRecord

register_configs()


def run_name(cfg: TrainConfig) -> str:
    """``strace-lam0.99-q0.2-tiny-s0``: method, its trace knobs, model, seed."""
    if cfg.run_name:
        return cfg.run_name
    parts = [cfg.method.name]
    for attr, tag in (("lam", "lam"), ("entropy_quantile", "q")):
        if hasattr(cfg.method, attr):
            parts.append(f"{tag}{getattr(cfg.method, attr)}")
    return "-".join(parts + [cfg.model.name, f"s{cfg.trainer.seed}"])


def run_tags(cfg: TrainConfig) -> list[str]:
    tags = [f"method:{cfg.method.name}", f"model:{cfg.model.name}", f"seed:{cfg.trainer.seed}",
            f"task:{cfg.task.name}"]
    for attr, tag in (("lam", "lam"), ("style", "style"), ("placement", "placement"), ("entropy_quantile", "q")):
        if hasattr(cfg.method, attr):
            tags.append(f"{tag}:{getattr(cfg.method, attr)}")
    return tags + list(cfg.logger.wandb.tags)


def _model_source(cfg: TrainConfig) -> str:
    if not cfg.model.tiny:
        return cfg.model.source
    from harness.warmstart import warm_start

    if cfg.model.warm_start.steps == 0:
        raise ValueError("model.warm_start.steps: tiny models need a warm start (> 0)")
    cache = Path(hydra.utils.to_absolute_path(cfg.cache_dir))
    return str(distributed.rank_zero_first(warm_start, cfg.model, cfg.task, cfg.trainer.seed, cache))


def main(cfg: DictConfig) -> dict[str, float] | None:
    conf = validate(cfg)  # every error here names its key; nothing is built yet
    distributed.init()  # a multi-task SLURM/submitit job: RANK, WORLD_SIZE, MASTER_ADDR... for env://
    lead = distributed.is_main()  # only rank 0 writes run.json and config.yaml
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    record = RunRecord(run_dir)
    if record.finished:
        final = MetricsLog(run_dir).final_eval()
        print(f"[harness] {run_dir} already finished; skipping (delete it to rerun). Final: "
              + ", ".join(f"{k}={v:.3f}" for k, v in final.items() if "pass@1" in k))
        return final
    if lead:
        (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
        group = conf.logger.wandb.group or _sweep_group()
        record.start(run_name(conf), group, run_tags(conf), conf.trainer.steps)
    try:
        from harness.run import execute

        result = execute(conf, cfg, run_dir, record, _model_source(conf))
    except BaseException as err:
        if lead:
            record.fail(f"{type(err).__name__}: {err}")
        raise
    if lead:
        record.finish()
    return result


def _sweep_group() -> str:
    hc = HydraConfig.get()
    return Path(hc.sweep.dir).name if hc.mode.name == "MULTIRUN" else ""


@hydra.main(config_path="../conf", config_name="train", version_base="1.3")
def cli(cfg: DictConfig) -> None:
    main(cfg)


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(cli())
