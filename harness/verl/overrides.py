"""The harness's composed config (``TrainConfig``) as ``python -m verl.trainer.main_ppo`` overrides.

Every mapped key is listed below; what verl cannot express is a ``ConfigError`` naming the key.
Steps: the harness counts optimizer steps, verl counts rollouts (``trainer.total_training_steps``),
one rollout being ``trainer.mini_batches × trainer.ppo_epochs`` optimizer steps.
"""

from __future__ import annotations

import math
from dataclasses import fields
from pathlib import Path
from typing import Any

from harness.config.schema import TrainConfig
from harness.errors import ConfigError
from harness.methods import MethodConfig
from harness.verl.losses import MAPPED, loss_mode, needs_entropy

ACTOR = "actor_rollout_ref.actor"
ROLLOUT = "actor_rollout_ref.rollout"
CONFIG_CLASS = "harness.verl.HarnessPolicyLossConfig"
REWARD_FILE = Path(__file__).with_name("reward.py")
SCHEDULERS = {"constant": "constant", "cosine": "cosine"}  # harness (transformers) name → verl's


def value(v: Any) -> str:
    """A Python value as a Hydra override value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, list | tuple):
        return "[" + ",".join(value(x) for x in v) + "]"
    if isinstance(v, str) and any(c in v for c in " ,=[]{}()'\"\\:$"):
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return str(v)


def method_overrides(method: MethodConfig) -> list[str]:
    """The loss mode through the loud route, verl's shared knobs, and the method's own knobs set away
    from their defaults (``+...policy_loss.method.<knob>``)."""
    out = [
        f"{ACTOR}.policy_loss._target_={CONFIG_CLASS}",
        f"{ACTOR}.policy_loss.loss_mode={loss_mode(method.name)}",
        f"{ACTOR}.clip_ratio_low={value(method.clip_low)}",
        f"{ACTOR}.clip_ratio_high={value(method.clip_high)}",
        f"{ACTOR}.loss_agg_mode={method.loss_agg}",
        f"{ACTOR}.calculate_entropy={value(needs_entropy(method.name))}",
        f"{ACTOR}.entropy_coeff=0",
    ]
    if method.dual_clip is not None:  # else verl's clip_ratio_c (3.0) stays: its PPO losses always dual-clip
        out.append(f"{ACTOR}.clip_ratio_c={value(method.dual_clip)}")
    if method.beta > 0:  # verl's k3 ("low_var_kl", clamped to ±10), added by verl's ppo_loss
        out += [
            f"{ACTOR}.use_kl_loss=true",
            f"{ACTOR}.kl_loss_coef={value(method.beta)}",
            f"{ACTOR}.kl_loss_type=low_var_kl",
        ]
    for f in fields(method):
        if f.name not in {"name", *MAPPED} and getattr(method, f.name) != f.default:
            out.append(f"+{ACTOR}.policy_loss.method.{f.name}={value(getattr(method, f.name))}")
    return out


def _rollouts(steps: int, per_rollout: int, key: str) -> int:
    if steps % per_rollout:
        raise ConfigError(
            f"{key}={steps} must be a multiple of trainer.mini_batches * trainer.ppo_epochs = {per_rollout} "
            "(verl counts rollouts)"
        )
    return steps // per_rollout


def trainer_overrides(conf: TrainConfig) -> list[str]:
    """Batch geometry, optimiser, sampling, advantages."""
    t = conf.trainer
    if t.prompts_per_step % t.mini_batches:
        raise ConfigError(
            f"trainer.prompts_per_step={t.prompts_per_step} must be divisible by trainer.mini_batches={t.mini_batches}"
        )
    if t.scale_rewards == "batch":
        raise ConfigError(
            "trainer.scale_rewards: 'batch' has no verl equivalent (verl's GRPO scales per group or not at all)"
        )
    if t.lr_scheduler not in SCHEDULERS:
        raise ConfigError(f"trainer.lr_scheduler: verl has {', '.join(SCHEDULERS)}, got {t.lr_scheduler!r}")
    if t.format_reward_weight:
        raise ConfigError(
            "trainer.format_reward_weight: the verl reward (harness/verl/reward.py) is correctness only; set it to 0"
        )
    if t.trl:
        raise ConfigError(
            "trainer.trl: TRL's own arguments have no verl meaning; pass verl overrides after `--`"
        )
    per_rollout = t.mini_batches * t.ppo_epochs
    return [
        "algorithm.adv_estimator=grpo",
        f"algorithm.norm_adv_by_std_in_grpo={value(t.scale_rewards == 'group')}",
        f"data.train_batch_size={t.prompts_per_step}",
        f"data.max_prompt_length={t.max_prompt_length}",
        f"data.max_response_length={t.max_completion_length}",
        f"data.seed={t.seed}",
        f"{ROLLOUT}.n={t.group_size}",
        f"{ROLLOUT}.name=vllm",
        f"{ROLLOUT}.temperature={value(t.temperature)}",
        f"{ROLLOUT}.top_p={value(t.top_p)}",
        f"{ROLLOUT}.gpu_memory_utilization={value(t.vllm_gpu_memory_utilization)}",
        f"{ACTOR}.ppo_mini_batch_size={t.prompts_per_step // t.mini_batches}",
        f"{ACTOR}.ppo_epochs={t.ppo_epochs}",
        f"{ACTOR}.data_loader_seed={t.seed}",
        f"{ACTOR}.optim.lr={value(t.lr)}",
        f"{ACTOR}.optim.weight_decay={value(t.weight_decay)}",
        f"{ACTOR}.optim.lr_warmup_steps_ratio={value(t.warmup_ratio)}",
        f"{ACTOR}.optim.lr_scheduler_type={SCHEDULERS[t.lr_scheduler]}",
        f"{ACTOR}.optim.clip_grad={value(t.max_grad_norm)}",
        f"trainer.total_training_steps={_rollouts(t.steps, per_rollout, 'trainer.steps')}",
        f"trainer.save_freq={max(1, t.save_steps // per_rollout)}",
    ]


def model_overrides(conf: TrainConfig) -> list[str]:
    m = conf.model
    if m.build:
        raise ConfigError(
            f"model={m.name} is built in by the harness (model.build={m.build!r}); verl loads a checkpoint: "
            "choose a hub model (model=qwen3-1.7b) or set model.build='' model.path=<dir>"
        )
    micro = m.micro_batch_size
    return [
        f"actor_rollout_ref.model.path={value(m.source)}",
        f"actor_rollout_ref.model.enable_gradient_checkpointing={value(m.gradient_checkpointing)}",
        f"{ACTOR}.ppo_micro_batch_size_per_gpu={micro}",
        f"{ROLLOUT}.log_prob_micro_batch_size_per_gpu={micro}",
        f"actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu={micro}",
        f"trainer.nnodes={m.resources.nodes}",
        f"trainer.n_gpus_per_node={max(1, m.resources.gpus_per_node)}",
    ]


def eval_overrides(conf: TrainConfig) -> list[str]:
    """Validation samples eval.n completions per problem (pass@k from them: harness.verl.rundir)."""
    e, t = conf.eval, conf.trainer
    per_rollout = t.mini_batches * t.ppo_epochs
    total = t.steps // per_rollout
    test_freq = _rollouts(e.interval, per_rollout, "eval.interval") if e.interval else total
    return [
        f"trainer.test_freq={test_freq}",
        "trainer.val_before_train=false",
        f"{ROLLOUT}.val_kwargs.n={e.n}",
        f"{ROLLOUT}.val_kwargs.temperature={value(e.temperature)}",
        f"{ROLLOUT}.val_kwargs.top_p={value(e.top_p)}",
        f"{ROLLOUT}.val_kwargs.do_sample={value(e.temperature > 0)}",
    ]


def run_overrides(conf: TrainConfig, run_dir: Path, name: str) -> list[str]:
    """Data files, reward, logging and checkpoints: all inside the run dir."""
    data = run_dir / "verl" / "data"
    vals = [str(data / f"val-{b}.parquet") for b in conf.benchmark] or [str(data / "train.parquet")]
    wandb = conf.logger.wandb
    loggers = ["console", "file"] + (["wandb"] if wandb.mode != "disabled" else [])
    return [
        f"data.train_files={value(str(data / 'train.parquet'))}",
        f"data.val_files={value(vals)}",
        "data.prompt_key=prompt",
        f"reward.custom_reward_function.path={value(str(REWARD_FILE))}",
        "reward.custom_reward_function.name=compute_score",
        f"trainer.project_name={value(wandb.project)}",
        f"trainer.experiment_name={value(name)}",
        f"trainer.logger={value(loggers)}",
        f"trainer.default_local_dir={value(str(run_dir / 'checkpoints'))}",
        f"trainer.validation_data_dir={value(str(run_dir / 'verl' / 'validation'))}",
    ]


def verl_overrides(conf: TrainConfig, run_dir: Path, name: str) -> list[str]:
    """Every override of one verl run, in the order above."""
    return [
        *method_overrides(conf.method),
        *model_overrides(conf),
        *trainer_overrides(conf),
        *eval_overrides(conf),
        *run_overrides(conf, run_dir, name),
    ]
