"""Typed, validated configuration: the schema behind ``conf/``.

Every group of ``conf/`` is backed by a dataclass registered in Hydra's
ConfigStore, so a typo in a key fails at composition and an out-of-range value
fails in ``__post_init__`` when :func:`validate` builds the objects: both before
any model is built. Method schemas come from ``harness.methods``; ``task`` is a
``harness.problems`` problem source, like every ``benchmark.<name>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from harness.config.eval import BenchmarkConfig, EvalConfig
from harness.config.eval import register_configs as register_eval_configs
from harness.errors import ConfigError
from harness.methods.advantages import SCALES
from harness.methods.base import MethodConfig
from harness.plain import to_schema
from harness.problems.source import ProblemSource
from harness.validation import check as _check
from harness.validation import check_choice as _check_choice

ROLLOUTS = ("hf", "vllm")
WandbMode = Literal["offline", "online", "disabled"]
WANDB_MODES: tuple[WandbMode, ...] = get_args(WandbMode)
RESUME_MODES = ("auto", "never", "must")
DISTRIBUTED_STRATEGIES = ("auto", "ddp", "zero3")


@dataclass
class WarmStartConfig:
    """Supervised warm start on worked arithmetic solutions (tiny models only; steps=0 disables)."""

    steps: int = 0
    lr: float = 3e-3
    batch_size: int = 64
    n_problems: int = 6000
    seed: int | None = None  # None: the run's trainer.seed (one warm start per seed); set: one for every seed

    def __post_init__(self) -> None:
        _check(self.steps >= 0, "model.warm_start.steps", f"must be >= 0, got {self.steps}")
        _check(self.seed is None or self.seed >= 0, "model.warm_start.seed", f"must be >= 0, got {self.seed}")
        _check(self.lr > 0, "model.warm_start.lr", f"must be > 0, got {self.lr}")
        _check(self.batch_size >= 1, "model.warm_start.batch_size", f"must be >= 1, got {self.batch_size}")


@dataclass
class ResourcesConfig:
    """What one training job of this model needs from a SLURM cluster."""

    nodes: int = 1
    gpus_per_node: int = 0
    cpus_per_task: int = 2
    mem_gb: int = 16
    timeout_min: int = 60


@dataclass
class ModelConfig:
    """Where the weights come from: ``build`` names a built-in architecture made from a config and
    warm-started offline (``tiny``, ``tiny-m``); otherwise ``path`` (a local directory) or ``hub``."""

    name: str = "tiny"
    hub: str = ""
    path: str = ""
    build: str = ""
    dtype: str = "float32"
    gradient_checkpointing: bool = False
    micro_batch_size: int = 16
    warm_start: WarmStartConfig = field(default_factory=WarmStartConfig)
    resources: ResourcesConfig = field(default_factory=ResourcesConfig)

    def __post_init__(self) -> None:
        _check_choice(self.dtype, "model.dtype", ("float32", "bfloat16", "float16"))
        _check(
            self.micro_batch_size >= 1, "model.micro_batch_size", f"must be >= 1, got {self.micro_batch_size}"
        )

    @property
    def source(self) -> str:
        """Where weights come from: a local path beats the hub name; tiny models are built."""
        return self.path or self.hub


@dataclass
class TaskConfig(ProblemSource):
    """Training problems (``harness.problems``): the arithmetic task's train split, or a real math dataset.

    The warm start trains on the arithmetic task's ``warm`` split with this task's ``n_operations``
    and ``max_operand``.
    """

    name: str = "arith"
    split: str = "train"
    n_problems: int = 6000

    @property
    def key(self) -> str:
        return "task"


@dataclass
class TrainerConfig:
    """The RL loop's knobs; mapped onto TRL's ``GRPOConfig`` by ``harness.training.trl_args.grpo_args``.

    One rollout samples ``group_size`` completions for each of ``prompts_per_step`` prompts;
    its samples are split into ``mini_batches`` optimizer steps (verl's train_batch_size /
    ppo_mini_batch_size; TRL's steps_per_generation / gradient_accumulation_steps), and the
    rollout is reused ``ppo_epochs`` times. ``steps`` counts optimizer steps (TRL's
    ``global_step``: the unit of checkpoints, ``eval.interval`` and metrics.jsonl rows), so a
    run makes ``steps / (mini_batches · ppo_epochs)`` rollouts. ``trl`` passes any other
    ``trl.GRPOConfig`` field through (checked against its fields before any compute).
    """

    seed: int = 0
    steps: int = 60
    prompts_per_step: int = 8
    group_size: int = 8
    mini_batches: int = 1
    ppo_epochs: int = 1
    lr: float = 1e-6
    lr_scheduler: str = "linear"
    weight_decay: float = 0.0
    warmup_ratio: float = 0.0
    max_grad_norm: float = 1.0
    max_prompt_length: int = 512
    max_completion_length: int = 1024
    temperature: float = 1.0
    top_p: float = 1.0
    scale_rewards: str = "group"
    format_reward_weight: float = 0.0
    reward_timeout_s: float = 5.0
    save_steps: int = 50
    save_total_limit: int = 2
    rollout: str = "hf"
    vllm_gpu_memory_utilization: float = 0.3
    log_completions: bool = False
    trl: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key in (
            "steps",
            "prompts_per_step",
            "mini_batches",
            "ppo_epochs",
            "max_completion_length",
            "save_steps",
        ):
            value = getattr(self, key)
            _check(value >= 1, f"trainer.{key}", f"must be >= 1, got {value}")
        _check(
            self.group_size >= 2,
            "trainer.group_size",
            f"must be >= 2 (advantages are group-relative), got {self.group_size}",
        )
        _check(self.lr > 0, "trainer.lr", f"must be > 0, got {self.lr}")
        _check(self.temperature > 0, "trainer.temperature", f"must be > 0, got {self.temperature}")
        _check(0 < self.top_p <= 1, "trainer.top_p", f"must be in (0, 1], got {self.top_p}")
        _check(
            0 <= self.warmup_ratio < 1, "trainer.warmup_ratio", f"must be in [0, 1), got {self.warmup_ratio}"
        )
        _check_choice(self.scale_rewards, "trainer.scale_rewards", SCALES)
        _check_choice(self.rollout, "trainer.rollout", ROLLOUTS)
        from transformers.trainer_utils import SchedulerType

        _check_choice(self.lr_scheduler, "trainer.lr_scheduler", tuple(s.value for s in SchedulerType))

    @property
    def generation_batch_size(self) -> int:
        return self.prompts_per_step * self.group_size


@dataclass
class DistributedConfig:
    """How several processes share the model (``conf/distributed/``); one process ignores it.

    ``auto``: ``ddp`` for models whose resources ask for at most one GPU per node, ``zero3``
    otherwise (the arguments of ``conf/distributed/<that>.yaml``). ``trainer_args`` go to TRL's
    ``GRPOConfig`` (transformers ``TrainingArguments``: ``ddp_*``, ``deepspeed``, ``fsdp`` …).
    """

    strategy: str = "auto"
    trainer_args: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_choice(self.strategy, "distributed.strategy", DISTRIBUTED_STRATEGIES)


@dataclass
class WandbConfig:
    mode: str = "offline"
    project: str = "rlvr-credit-assignment"
    entity: str = ""
    group: str = ""
    tags: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        _check_choice(self.mode, "logger.wandb.mode", WANDB_MODES)


@dataclass
class LoggerConfig:
    wandb: WandbConfig = field(default_factory=WandbConfig)
    progress_bar: bool = True


@dataclass
class TrainConfig:
    """Root of ``conf/train.yaml``. ``method`` is one of ``harness.methods``' dataclasses."""

    method: MethodConfig = MISSING  # the chosen method's subclass (conf: method=<name>)
    model: ModelConfig = field(default_factory=ModelConfig)
    task: TaskConfig = field(default_factory=TaskConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    distributed: DistributedConfig = field(default_factory=DistributedConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    benchmark: dict[str, BenchmarkConfig] = field(default_factory=dict)
    cache_dir: str = ".cache/harness"
    run_name: str = ""
    resume: str = "auto"  # auto | never | must (harness.run.identity.decide)

    def __post_init__(self) -> None:
        m = self.model
        _check(bool(m.build or m.hub or m.path), "model", "set model.build, model.hub or model.path")
        _check(
            not (m.build and m.path),
            "model.path",
            f"{m.path!r} with model.build={m.build!r}: a built-in model is made from a config, not loaded; "
            "drop model.path, or load a checkpoint with model.build='' model.path=<dir>",
        )
        _check_choice(self.resume, "resume", RESUME_MODES)


def register_configs() -> None:
    """Put every schema in Hydra's ConfigStore (idempotent)."""
    from harness.methods import METHODS
    from harness.run.naming import register_resolvers

    register_eval_configs()
    register_resolvers()
    cs = ConfigStore.instance()
    cs.store(name="train_schema", node=TrainConfig)
    for name, method in METHODS.items():  # `method=<name>`; conf/method/ holds only presets
        cs.store(group="method", name=name, node=method.config)
    groups = {
        "model": ModelConfig,
        "task": TaskConfig,
        "trainer": TrainerConfig,
        "logger": LoggerConfig,
        "distributed": DistributedConfig,
    }
    for group, schema in groups.items():
        cs.store(group=group, name=f"{group}_schema", node=schema)


def accumulation_steps(cfg: TrainConfig, world_size: int) -> int:
    """Micro-batches each process accumulates per optimizer step (TRL's batch geometry); a rollout
    is ``trainer.mini_batches`` such steps.

    Raises ``ConfigError`` unless a rollout's samples split evenly into mini-batches, micro-batches
    and processes: preflight and the sweep planner call it for that check, before any compute.
    """
    t, micro = cfg.trainer, cfg.model.micro_batch_size
    per_step = t.generation_batch_size
    if per_step % (t.mini_batches * micro * world_size):
        raise ConfigError(
            f"trainer.prompts_per_step * trainer.group_size = {per_step} must be divisible by "
            f"trainer.mini_batches * model.micro_batch_size * world size = "
            f"{t.mini_batches} * {micro} * {world_size}"
        )
    return per_step // (t.mini_batches * micro * world_size)


def validate(cfg: DictConfig) -> TrainConfig:
    """Build (and so validate) every dataclass of a composed config; raise naming the key."""
    if OmegaConf.is_missing(cfg, "method") or cfg.method is None:
        raise ConfigError("method: choose one, e.g. method=grpo")
    try:
        OmegaConf.to_object(cfg.method)  # the method's own errors first, named method.<field>
    except ValueError as err:  # the method's messages start with the field name
        raise ConfigError(f"method.{err}") from None
    try:
        return to_schema(cfg, TrainConfig)
    except ValueError as err:  # our schemas' messages already name their key
        raise ConfigError(str(err)) from None
