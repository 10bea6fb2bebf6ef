"""Multi-process training: one code path for SLURM multi-task jobs, submitit_local and torchrun.

A job with several tasks (SLURM ``--ntasks-per-node``, submitit_local's ``tasks_per_node``) runs
``harness.train`` once per task. :func:`init` exports torch.distributed's ``env://`` variables from
submitit's job environment (torchrun sets them itself); TRL's accelerator then joins the process group
(nccl on GPU, gloo on CPU) and shards or replicates the model as the ``distributed`` config group says
(``conf/distributed/``): ``ddp`` for models that fit one device, DeepSpeed ``zero3`` for models sized
for several GPUs (``distributed=auto``, the default, picks by the model's resources). Every rank derives the same run dir from its overrides;
rank 0 alone writes the run dir's records and evaluates, while the others wait.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from omegaconf import OmegaConf
from transformers import TrainerCallback

from harness.plain import plain_dict

T = TypeVar("T")
STRATEGIES = Path(__file__).resolve().parents[2] / "conf" / "distributed"
ENV_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def init() -> int:
    """In a multi-task submitit job, export RANK, WORLD_SIZE, MASTER_ADDR... for env://; return the world size."""
    if "RANK" not in os.environ and os.environ.get("SUBMITIT_EXECUTOR"):
        import submitit

        if submitit.JobEnvironment().num_tasks > 1:
            # Every task keeps all of its node's GPUs visible: accelerate and vLLM pick cuda:LOCAL_RANK.
            submitit.helpers.TorchDistributedEnvironment().export(set_cuda_visible_devices=False)
    return world_size()


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", 1))


def is_main() -> bool:
    return int(os.environ.get("RANK", 0)) == 0


def strategy(cfg: Any) -> str:
    """``distributed.strategy``; ``auto``: ``ddp`` for models that fit one device (their resources
    ask for <= 1 GPU per node), ``zero3`` otherwise."""
    if cfg.distributed.strategy != "auto":
        return cfg.distributed.strategy
    return "ddp" if cfg.model.resources.gpus_per_node <= 1 else "zero3"


def trainer_kwargs(cfg: Any, world: int) -> dict[str, Any]:
    """TrainingArguments of the strategy; none for a single process. ``auto`` takes the arguments
    of the option it resolves to (``conf/distributed/<ddp|zero3>.yaml``)."""
    if world == 1:
        return {}
    if cfg.distributed.strategy != "auto":
        return dict(cfg.distributed.trainer_args)
    option = OmegaConf.load(STRATEGIES / f"{strategy(cfg)}.yaml")
    return plain_dict(option.trainer_args)


@contextmanager
def _single_process() -> Iterator[None]:
    """Hide this job's torch.distributed variables, so that a trainer built inside runs on this process alone."""
    saved = {k: os.environ.pop(k) for k in ENV_VARS if k in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def barrier() -> None:
    import torch
    import torch.distributed as dist

    if not dist.is_initialized():  # accelerate later reuses this group
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        dist.init_process_group()
    dist.barrier()


def rank_zero_first(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` on rank 0 alone, as one process, then on the others (the warm start: a cache hit there).

    Called before any process group exists: the other ranks wait in the group's rendezvous meanwhile.
    """
    if world_size() == 1:
        return fn(*args)
    if is_main():
        with _single_process():
            result = fn(*args)
        barrier()
        return result
    barrier()
    return fn(*args)


def on_main(
    trainer: Any, evaluate: Callable[[Any, int], dict[str, float]]
) -> Callable[[Any, int], dict[str, float]]:
    """``evaluate(model, step)`` on rank 0 with the full weights (gathered under ZeRO-3); the other ranks wait."""
    if world_size() == 1:
        return evaluate
    from trl.models import unwrap_model_for_generation

    def run(model: Any, step: int) -> dict[str, float]:
        with unwrap_model_for_generation(trainer.model_wrapped, trainer.accelerator) as full:
            result = evaluate(full, step) if is_main() else {}
        trainer.accelerator.wait_for_everyone()
        return result

    return run


class ParamChecksums(TrainerCallback):
    """After every optimizer step, each rank appends hashes of its parameters and of its own batch of
    prompts to ``checksums/rank-<r>.jsonl``.

    Enabled by ``HARNESS_PARAM_CHECKSUMS=1``: under DDP the ranks train on different prompts yet must
    hold the same parameters after every step (the gradients really are averaged), which tests compare.
    """

    def __init__(self, run_dir: Path, trainer: Any) -> None:
        self.rank = int(os.environ.get("RANK", 0))
        self.path = Path(run_dir) / "checksums" / f"rank-{self.rank}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.trainer = trainer

    def on_step_end(self, args, state, control, model=None, **kwargs):
        digest, total = hashlib.sha256(), 0.0
        for name, p in model.named_parameters():
            data = p.detach().float().cpu()
            digest.update(name.encode() + data.numpy().tobytes())
            total += data.double().sum().item()
        batches = getattr(self.trainer, "_buffered_inputs", None) or []  # TRL's generated batch on this rank
        prompts = hashlib.sha256(b"".join(b["prompt_ids"].cpu().numpy().tobytes() for b in batches))
        row = {
            "step": state.global_step,
            "rank": self.rank,
            "sha256": digest.hexdigest(),
            "sum": total,
            "prompts_sha256": prompts.hexdigest(),
        }
        with self.path.open("a") as f:
            f.write(json.dumps(row) + "\n")


def add_callbacks(trainer: Any, run_dir: Path) -> None:
    if os.environ.get("HARNESS_PARAM_CHECKSUMS") == "1":
        trainer.add_callback(ParamChecksums(run_dir, trainer))
