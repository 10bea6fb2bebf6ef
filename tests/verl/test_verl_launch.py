"""harness-verl: the harness's Hydra choices as verl overrides that verl's own Hydra config accepts."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import verl
from hydra import compose, initialize_config_dir
from verl.trainer.ppo.utils import need_critic, need_reference_policy
from verl.utils.config import omega_conf_to_dataclass, validate_config

from harness.errors import ConfigError
from harness.verl import HarnessPolicyLossConfig
from harness.verl.launch import main

VERL_CONF = str(Path(verl.__file__).parent / "trainer" / "config")
PAPER = ["model=qwen3-4b", "task=math12k", "trainer=paper"]


def dry_run(capsys: pytest.CaptureFixture[str], *overrides: str) -> list[str]:
    assert main(["--dry-run", "--run-dir", "/runs/x", *overrides]) == 0
    cmd = shlex.split(capsys.readouterr().out)
    assert cmd[1:3] == ["-m", "verl.trainer.main_ppo"]
    return cmd[3:]


def verl_config(overrides: list[str]):
    with initialize_config_dir(VERL_CONF, version_base=None):
        return compose("ppo_trainer", overrides=overrides)


def test_strace_dry_run_composes_in_verls_config(capsys: pytest.CaptureFixture[str]) -> None:
    ov = dry_run(capsys, "method=strace", "method.lam=0.9", *PAPER)
    cfg = verl_config(ov)
    actor = cfg.actor_rollout_ref.actor
    assert actor.policy_loss.loss_mode == "harness_strace"
    assert actor.policy_loss.method == {"lam": 0.9}
    assert actor.calculate_entropy is True
    assert (actor.clip_ratio_low, actor.clip_ratio_high, actor.loss_agg_mode) == (
        0.2,
        0.2,
        "seq-mean-token-mean",
    )
    assert (cfg.data.train_batch_size, actor.ppo_mini_batch_size, cfg.actor_rollout_ref.rollout.n) == (
        128,
        32,
        8,
    )
    assert cfg.trainer.total_training_steps == 500  # 2000 optimizer steps / 4 mini-batches
    assert cfg.data.max_response_length == 4096
    assert cfg.actor_rollout_ref.model.path == "Qwen/Qwen3-4B"
    assert cfg.trainer.default_local_dir == "/runs/x/checkpoints"
    # what verl's main_ppo checks before it starts Ray
    validate_config(config=cfg, use_reference_policy=need_reference_policy(cfg), use_critic=need_critic(cfg))
    # verl's own instantiation of the actor config: the loud route builds our class, knobs validated
    built = omega_conf_to_dataclass(actor)
    assert isinstance(built.policy_loss, HarnessPolicyLossConfig)
    assert built.policy_loss.method == {"lam": 0.9}


def test_gspo_and_grpo_lambda_map_their_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    actor = verl_config(dry_run(capsys, "method=gspo", *PAPER)).actor_rollout_ref.actor
    assert (actor.clip_ratio_low, actor.clip_ratio_high, actor.calculate_entropy) == (3e-4, 4e-4, False)
    actor = verl_config(
        dry_run(capsys, "method=grpo_lambda", "method.form=lag", *PAPER)
    ).actor_rollout_ref.actor
    assert actor.loss_agg_mode == "token-mean"
    assert dict(actor.policy_loss.method) == {"form": "lag"}  # adv_clamp -0.1 is the method's default


def test_beta_becomes_verls_kl_loss(capsys: pytest.CaptureFixture[str]) -> None:
    actor = verl_config(dry_run(capsys, "method=grpo", "method.beta=0.04", *PAPER)).actor_rollout_ref.actor
    assert (actor.use_kl_loss, actor.kl_loss_coef, actor.kl_loss_type) == (True, 0.04, "low_var_kl")


def test_extra_verl_overrides_pass_through(capsys: pytest.CaptureFixture[str]) -> None:
    ov = dry_run(capsys, "method=grpo", *PAPER, "--", "trainer.val_before_train=true")
    assert verl_config(ov).trainer.val_before_train is True


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (["method=grpo", "model=tiny", "task=math12k", "trainer=paper"], "model=tiny is built in"),
        (["method=grpo", *PAPER, "trainer.scale_rewards=batch"], "trainer.scale_rewards: 'batch'"),
        (["method=grpo", *PAPER, "trainer.steps=2001"], "trainer.steps=2001 must be a multiple"),
        (["method=ptrace", *PAPER, "method.lam=2"], "method.lam"),
    ],
)
def test_unmappable_choices_are_config_errors(overrides: list[str], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        main([*overrides, "--dry-run"])


def test_a_missing_harness_fails_loudly_at_instantiation(capsys: pytest.CaptureFixture[str]) -> None:
    """The loud route names a class; when it cannot be imported, verl's config build stops there."""
    ov = [
        o.replace("harness.verl.HarnessPolicyLossConfig", "harness_missing.HarnessPolicyLossConfig")
        for o in dry_run(capsys, "method=grpo", *PAPER)
    ]
    with pytest.raises(Exception, match="harness_missing"):
        omega_conf_to_dataclass(verl_config(ov).actor_rollout_ref.actor)
