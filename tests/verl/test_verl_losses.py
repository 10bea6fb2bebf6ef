"""Every harness method as a verl policy loss, through verl's own code: ``get_policy_loss_fn`` and
``ppo_loss`` (verl/workers/utils/losses.py), the path verl's engine worker trains with."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import pytest
import torch
from verl.trainer.ppo.core_algos import POLICY_LOSS_REGISTRY, get_policy_loss_fn
from verl.workers.utils.losses import ppo_loss
from verl_batches import AGG_MODES, actor_config, ppo_inputs, random_batch

from harness.methods import METHODS, get_method, get_method_config, policy_loss
from harness.verl import HarnessPolicyLossConfig, loss_mode
from harness.verl.entropy import ppo_loss_with_entropy

CLIPS = {"clip_ratio_low": 0.2, "clip_ratio_high": 0.28, "clip_ratio_c": 3.0}


def loss_and_grad(mode: str, agg: str, batch: dict, *, dp_size: int = 1, **knobs: object) -> list:
    """[(loss, d loss / d logp)] per rank: the batch split into `dp_size` shards, each through ppo_loss
    with the global counts verl's engine sets (none at dp_size 1: verl's local fallback)."""
    out = []
    shard = batch["mask"].shape[0] // dp_size
    for r in range(dp_size):
        logp = batch["logp"].clone().requires_grad_(True)
        config = actor_config(mode, agg, **{**CLIPS, **knobs})
        output, data = ppo_inputs(
            batch, logp, slice(r * shard, (r + 1) * shard), dp_size=dp_size, global_info=dp_size > 1
        )
        loss, _ = ppo_loss(config, output, data)
        loss.backward()
        out.append((loss.detach(), logp.grad))
    return out


def test_import_verl_registers_every_method_through_the_entry_point() -> None:
    (ep,) = [ep for ep in entry_points(group="verl.plugins") if ep.name == "harness"]
    assert ep.value == "harness.verl.losses"
    code = "import verl; from verl.trainer.ppo.core_algos import POLICY_LOSS_REGISTRY as R; print(sorted(k for k in R if k.startswith('harness_')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == str(sorted(loss_mode(m) for m in METHODS))


@pytest.mark.parametrize("dp_size", [1, 4])
@pytest.mark.parametrize("agg", AGG_MODES)
def test_harness_grpo_equals_verl_vanilla(agg: str, dp_size: int) -> None:
    batch = random_batch()
    ours = loss_and_grad("harness_grpo", agg, batch, dp_size=dp_size)
    theirs = loss_and_grad("vanilla", agg, batch, dp_size=dp_size)
    for (loss, grad), (ref_loss, ref_grad) in zip(ours, theirs, strict=True):
        torch.testing.assert_close(loss, ref_loss, rtol=1e-9, atol=1e-9)
        torch.testing.assert_close(grad, ref_grad, rtol=1e-9, atol=1e-12)
    assert any(g.abs().sum() > 0 for _, g in ours)


@pytest.mark.parametrize("agg", AGG_MODES)
def test_dp_shards_sum_to_the_whole_batch(agg: str) -> None:
    """What DDP averages over 4 ranks (each with verl's global counts) is the one-rank loss."""
    batch = random_batch()
    ((whole, whole_grad),) = loss_and_grad("harness_grpo", agg, batch)
    shards = loss_and_grad("harness_grpo", agg, batch, dp_size=4)
    torch.testing.assert_close(sum(loss for loss, _ in shards) / 4, whole, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(sum(g for _, g in shards) / 4, whole_grad, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("agg", AGG_MODES)
def test_harness_gspo_equals_verl_gspo(agg: str) -> None:
    """Sequence ratios near 1 (both clip branches active at GSPO's 3e-4/4e-4), none past clip_ratio_c."""
    batch = random_batch(scale=2e-3, seed=1)
    batch["logp"][1, :2] = batch["old"][1, :2]
    clips = {"clip_ratio_low": 3e-4, "clip_ratio_high": 4e-4}
    ours = loss_and_grad("harness_gspo", agg, batch, **clips)
    theirs = loss_and_grad("gspo", agg, batch, **clips)
    for (loss, grad), (ref_loss, ref_grad) in zip(ours, theirs, strict=True):
        torch.testing.assert_close(loss, ref_loss, rtol=1e-9, atol=1e-12)
        torch.testing.assert_close(grad, ref_grad, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("dp_size", [1, 4])
def test_every_method_runs_through_verl_as_the_harness_computes_it(method: str, dp_size: int) -> None:
    """verl's path (entropy hook on) equals the harness's own call with the mapped config and counts."""
    batch = random_batch(seed=2)
    agg = "seq-mean-token-mean"
    shard = batch["mask"].shape[0] // dp_size
    for r in range(dp_size):
        rows = slice(r * shard, (r + 1) * shard)
        logp = batch["logp"].clone().requires_grad_(True)
        output, data = ppo_inputs(batch, logp, rows, dp_size=dp_size, global_info=dp_size > 1)
        loss, metrics = ppo_loss_with_entropy(actor_config(loss_mode(method), agg, **CLIPS), output, data)
        shared = {"clip_low": 0.2, "clip_high": 0.28, "dual_clip": 3.0, "loss_agg": agg}
        inert = get_method(method).config.inert  # verl's clips reach only the methods that clip
        cfg = get_method_config(method, **{k: v for k, v in shared.items() if k not in inert})
        ref_logp = batch["logp"][rows].clone().requires_grad_(True)
        mask = batch["mask"][rows]
        ref, _ = policy_loss(
            cfg,
            ref_logp,
            batch["old"][rows],
            batch["adv"][rows],
            mask,
            entropy=batch["entropy"][rows] * mask,
            n_seqs=batch["mask"].shape[0] / dp_size if dp_size > 1 else None,
        )
        torch.testing.assert_close(loss, ref, rtol=1e-9, atol=1e-9)
        loss.backward()
        ref.backward()
        torch.testing.assert_close(logp.grad[rows], ref_logp.grad, rtol=1e-7, atol=1e-10)
        assert {"actor/harness/ratio_mean", "actor/pg_clipfrac", "actor/pg_loss"} <= set(metrics)


def test_strace_without_entropies_errors_clearly() -> None:
    batch = random_batch()
    logp = batch["logp"].clone().requires_grad_(True)
    output, data = ppo_inputs(batch, logp, slice(None))
    with pytest.raises(
        ValueError, match=r"harness_strace needs the actor's per-token entropies.*calculate_entropy=true"
    ):
        ppo_loss(actor_config("harness_strace", "token-mean"), output, data)


def test_the_config_class_installs_the_entropy_hook_in_the_engine_worker() -> None:
    """verl's engine worker builds the actor config (our class) just before it binds ppo_loss."""
    import verl.workers.engine_workers as workers

    HarnessPolicyLossConfig(loss_mode="harness_strace")
    assert workers.ppo_loss is ppo_loss_with_entropy


def test_unmappable_inputs_are_errors() -> None:
    batch = random_batch()
    fn = get_policy_loss_fn("harness_grpo")
    args = (batch["old"], batch["logp"], batch["adv"], batch["mask"])
    with pytest.raises(ValueError, match="'token-sum' has no harness equivalent"):
        fn(*args, "token-sum", actor_config("harness_grpo", "token-sum"))
    pl = HarnessPolicyLossConfig(
        loss_mode="harness_strace", method={"loss_mask": True, "mask_norm": "eligible"}
    )
    with pytest.raises(ValueError, match=r"mask_norm: 'eligible' counts only the eligible tokens"):
        get_policy_loss_fn("harness_strace")(
            *args, "token-mean", actor_config("x", "token-mean", policy_loss=pl)
        )
    with pytest.raises(ValueError, match="rollout correction weights"):
        fn(*args, "token-mean", actor_config("harness_grpo", "token-mean"), torch.ones_like(batch["old"]))


def test_method_knobs_come_from_the_policy_loss_config() -> None:
    """lam=0 makes P-trace GRPO: the knob reaches the loss (and moves it off its λ = 0.99 default)."""
    batch = random_batch(seed=3)
    values = {}
    for knobs in ({}, {"lam": 0.0}):
        pl = HarnessPolicyLossConfig(loss_mode="harness_ptrace", method=knobs)
        fn = get_policy_loss_fn("harness_ptrace")
        config = actor_config("harness_ptrace", "token-mean", policy_loss=pl, **CLIPS)
        values[str(knobs)] = fn(
            batch["old"], batch["logp"], batch["adv"], batch["mask"], "token-mean", config
        )[0]
    grpo = get_policy_loss_fn("harness_grpo")
    config = actor_config("harness_grpo", "token-mean", **CLIPS)
    expected = grpo(batch["old"], batch["logp"], batch["adv"], batch["mask"], "token-mean", config)[0]
    torch.testing.assert_close(values["{'lam': 0.0}"], expected)
    assert not torch.allclose(values["{}"], expected)


@pytest.mark.parametrize(
    ("loss_mode_", "knobs", "match"),
    [
        (
            "harness_grpo_lambda",
            {"lamda": 0.9},
            r"policy_loss\.method: unknown parameter\(s\) lamda for method 'grpo_lambda'",
        ),
        ("harness_ptrace", {"lam": 1.5}, r"policy_loss\.method: lam"),
        (
            "harness_gspo",
            {"clip_low": 0.1},
            r"policy_loss\.method\.clip_low: set actor_rollout_ref\.actor\.clip_ratio_low instead",
        ),
        (
            "harness_nope",
            {},
            r"loss_mode: 'harness_nope' is not a harness method; known: harness_cispo, .*harness_grpo, ",
        ),
        ("vanilla", {}, r"'vanilla' is not a harness method"),
    ],
)
def test_bad_policy_loss_config_errors_by_name(loss_mode_: str, knobs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        HarnessPolicyLossConfig(loss_mode=loss_mode_, method=knobs)


def test_every_loss_mode_is_registered() -> None:
    assert {loss_mode(m) for m in METHODS} <= set(POLICY_LOSS_REGISTRY)
