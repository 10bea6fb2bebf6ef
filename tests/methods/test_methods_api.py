"""policy_loss's contract: inputs, errors, metrics, registry."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.methods import (
    METHODS,
    MethodConfig,
    TokenBatch,
    Traced,
    get_method_config,
    policy_loss,
    register_method,
)
from harness.methods.eligibility import high_entropy_mask, quantile_threshold


@pytest.mark.parametrize("name", sorted(METHODS))
def test_metrics_are_floats_with_the_documented_keys(batch, name):
    inputs = batch.make(4, 30, seed=20)
    loss, metrics = policy_loss(name, **inputs, beta=0.1)
    assert loss.dim() == 0
    assert loss.requires_grad
    assert {"clip_frac", "ratio_mean", "abs_x_mean", "eligible_frac", "kl"} <= set(metrics)
    assert all(isinstance(v, float) for v in metrics.values())
    assert "kl" not in policy_loss(name, **inputs)[1]


def test_metric_values(batch):
    inputs = batch.make(3, 20, seed=21)
    valid = inputs["mask"].bool()
    x = (inputs["logp"] - inputs["old_logp"]).detach()[valid]
    _, metrics = policy_loss("grpo", **inputs, beta=0.1)
    assert metrics["abs_x_mean"] == pytest.approx(x.abs().mean().item())
    assert metrics["ratio_mean"] == pytest.approx(x.exp().mean().item())
    d = (inputs["ref_logp"] - inputs["logp"]).detach()[valid]
    assert metrics["kl"] == pytest.approx((d.exp() - d - 1).mean().item())
    assert metrics["eligible_frac"] == 1.0


@pytest.mark.parametrize("tensor", ["old_logp", "mask", "entropy", "ref_logp"])
def test_shape_mismatch_names_the_tensor(batch, tensor):
    inputs = batch.make(3, 10, seed=22)
    inputs[tensor] = inputs[tensor][:, :9]
    with pytest.raises(ValueError, match=rf"{tensor} has shape \(3, 9\) but logp has shape \(3, 10\)"):
        policy_loss("strace", **inputs, beta=0.1)


def test_bad_advantage_and_logp_shapes(batch):
    inputs = batch.make(3, 10, seed=23)
    with pytest.raises(ValueError, match="advantages must be"):
        policy_loss("grpo", **{**inputs, "advantages": torch.zeros(4)})
    with pytest.raises(ValueError, match="logp must be"):
        policy_loss("grpo", **{k: v[0] for k, v in inputs.items()})


def test_missing_entropy_and_ref_logp_are_clear_errors(batch):
    inputs = batch.make(3, 10, seed=24)
    with pytest.raises(ValueError, match=r"strace.*needs `entropy`"):
        policy_loss("strace", **{**inputs, "entropy": None})
    with pytest.raises(ValueError, match=re.escape("beta=0.1 > 0 needs `ref_logp`")):
        policy_loss("grpo", **{**inputs, "ref_logp": None}, beta=0.1)


def test_bad_params_and_counts(batch):
    inputs = batch.make(3, 10, seed=25)
    with pytest.raises(ValueError, match="unknown method 'ppo'"):
        policy_loss("ppo", **inputs)
    with pytest.raises(ValueError, match="lam: must be in"):
        policy_loss("ptrace", **inputs, lam=2.0)
    with pytest.raises(ValueError, match="n_tokens must be > 0"):
        policy_loss("grpo", **inputs, n_tokens=0)


def test_a_config_instance_can_be_passed_as_the_method(batch):
    inputs = batch.make(3, 25, seed=26)
    cfg = get_method_config("ptrace", lam=0.7, loss_agg="token-mean")
    by_config, _ = policy_loss(cfg, **inputs)
    by_name, _ = policy_loss("ptrace", **inputs, lam=0.7, loss_agg="token-mean")
    torch.testing.assert_close(by_config, by_name, rtol=0, atol=0)
    overridden, _ = policy_loss(cfg, **inputs, lam=0.0)
    torch.testing.assert_close(
        overridden, policy_loss("grpo", **inputs, loss_agg="token-mean")[0], rtol=0, atol=0
    )


def test_per_token_advantages_equal_broadcast_ones(batch):
    inputs = batch.make(3, 25, seed=27)
    per_token = {**inputs, "advantages": inputs["advantages"][:, None].expand(3, 25)}
    for name in METHODS:
        torch.testing.assert_close(policy_loss(name, **per_token)[0], policy_loss(name, **inputs)[0])


def test_low_precision_inputs_are_computed_in_float32(batch):
    inputs = {k: v.detach().to(torch.bfloat16) for k, v in batch.make(3, 300, seed=28).items()}
    inputs["logp"].requires_grad_()
    loss, _ = policy_loss("grpo_lambda", **inputs)
    loss.backward()
    assert loss.dtype == torch.float32
    assert inputs["logp"].grad.dtype == torch.bfloat16
    assert torch.isfinite(inputs["logp"].grad.float()).all()


def test_eligibility_threshold_is_the_entropy_quantile(batch):
    g = torch.Generator().manual_seed(29)
    entropy = torch.rand(5, 40, generator=g, dtype=torch.float64)
    valid = batch.mask(5, 40, g)
    e = high_entropy_mask(entropy, valid, 0.3, "batch")
    assert (e == valid & (entropy >= torch.quantile(entropy[valid], 0.7))).all()
    e_seq = high_entropy_mask(entropy, valid, 0.3, "sequence")
    for i in range(5):
        if valid[i].any():
            tau = torch.quantile(entropy[i][valid[i]], 0.7)
            assert (e_seq[i] == valid[i] & (entropy[i] >= tau)).all()
        else:
            assert not e_seq[i].any()


def test_strace_low_entropy_tokens_get_no_gradient_of_their_own(batch):
    inputs = batch.make(4, 60, seed=30)
    valid = inputs["mask"].bool()
    loss, _ = policy_loss("strace", **inputs, entropy_quantile=0.3)
    loss.backward()
    eligible = high_entropy_mask(inputs["entropy"], valid, 0.3, "batch")
    assert (inputs["logp"].grad[~eligible] == 0).all()
    assert (inputs["logp"].grad[eligible] != 0).any()


def test_registering_a_new_method(batch):
    """A new method is one dataclass plus one decorated function."""

    @dataclass
    class HalfConfig(MethodConfig):
        name: str = "half_ratio"
        scale: float = 0.5

    @register_method(HalfConfig)
    def half_ratio(batch: TokenBatch, cfg: HalfConfig) -> Traced:
        return Traced(cfg.scale * batch.x)

    try:
        inputs = batch.make(3, 20, seed=31)
        loss, _ = policy_loss("half_ratio", **inputs, scale=1.0)
        torch.testing.assert_close(loss, policy_loss("grpo", **inputs)[0])
        with pytest.raises(ValueError, match="already registered"):
            register_method(HalfConfig)(half_ratio)
    finally:
        del METHODS["half_ratio"]


@settings(max_examples=60, deadline=None, database=None)
@given(
    st.sampled_from([torch.float32, torch.float64, torch.bfloat16, torch.float16]),
    st.sampled_from(["uniform", "signed", "ties", "tiny"]),
    st.integers(1, 5),
    st.integers(1, 80),
    st.integers(0, 100).map(lambda i: i / 100),
    st.integers(0, 2**31),
)
def test_radix_quantile_threshold_is_the_exact_order_statistic(dtype, kind, B, T, p, seed):
    """quantile_threshold = the ⌈p·(n−1)⌉-th smallest valid value, whatever the sign, ties or precision."""
    g = torch.Generator().manual_seed(seed)
    h = {
        "uniform": lambda: torch.rand(B, T, generator=g) * 3,
        "signed": lambda: torch.randn(B, T, generator=g),
        "ties": lambda: torch.randint(0, 3, (B, T), generator=g).float(),
        "tiny": lambda: torch.randn(B, T, generator=g) * 1e-8,
    }[kind]().to(dtype)
    h.view(-1)[0] = -0.0
    valid = torch.rand(B, T, generator=g) < 0.7
    if not valid.any():
        assert quantile_threshold(h, valid, p) == torch.inf
        return
    values = h[valid].sort().values
    expected = values[math.ceil(p * (values.numel() - 1))]
    assert quantile_threshold(h, valid, p) == expected
    assert ((h[valid] >= expected) == (h[valid].double() >= torch.quantile(h[valid].double(), p))).all()
