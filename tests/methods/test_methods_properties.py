"""Property-based tests: any shape, mask and in-range parameters give a finite loss and gradient."""

from __future__ import annotations

from dataclasses import fields

import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from harness.methods import METHODS, policy_loss
from harness.methods.eligibility import ENTROPY_SCOPES
from harness.methods.grpo_lambda import FORMS, PLACEMENTS, TRACE_LENGTHS
from harness.methods.hapo import POLARITIES
from harness.methods.quadrants import MASS_KEYS
from harness.methods.strace import MASK_NORMS
from harness.methods.surrogate import LOSS_AGGS

FIELD_STRATEGIES = {
    "clip_low": st.floats(0.0, 1.0),
    "clip_high": st.floats(0.0, 10.0),
    "beta": st.sampled_from([0.0, 0.1]),
    "loss_agg": st.sampled_from(LOSS_AGGS),
    "adv_clamp": st.sampled_from([float("-inf"), -0.1, 0.0]),
    "lam": st.floats(0.0, 1.0),
    "gamma": st.floats(0.0, 1.0),
    "style": st.sampled_from(("recent", "both", "uniform", "early")),
    "normalize": st.booleans(),
    "placement": st.sampled_from(PLACEMENTS),
    "weight_norm": st.booleans(),
    "entropy_quantile": st.floats(0.0, 1.0, exclude_min=True),
    "entropy_scope": st.sampled_from(ENTROPY_SCOPES),
    "loss_mask": st.booleans(),
    "dual_clip": st.sampled_from([None, 1.01, 3.0]),
    "form": st.sampled_from(FORMS),
    "trace_length": st.sampled_from(TRACE_LENGTHS),
    "mask_norm": st.sampled_from(MASK_NORMS),
    "alpha": st.sampled_from([0.0, 0.5, 1.0, 3.0, 60.0]),
    "w_min": st.floats(0.0, 1.0),
    "w_max": st.sampled_from([None, 1.0, 2.0, 10.0]),
    "polarity": st.sampled_from(POLARITIES),
    "tau_pos": st.floats(0.01, 10.0),
    "tau_neg": st.floats(0.01, 10.0),
}


@st.composite
def method_params(draw) -> tuple[str, dict]:
    name = draw(st.sampled_from(sorted(METHODS)))
    config = METHODS[name].config
    drawn = [f for f in fields(config) if f.name != "name" and f.name not in config.inert]  # inert: default
    params = {f.name: draw(FIELD_STRATEGIES[f.name]) for f in drawn}
    try:
        config(**params)
    except ValueError:
        assume(False)  # a combination the config rejects (e.g. style early with the lag form)
    return name, params


@st.composite
def loss_inputs(draw) -> dict:
    B, T = draw(st.integers(1, 4)), draw(st.integers(1, 40))
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31)))
    log_ratio_scale = draw(st.sampled_from([0.0, 1e-3, 0.3, 5.0, 60.0]))
    logp = -torch.rand(B, T, generator=g, dtype=dtype) * 5
    valid = torch.rand(B, T, generator=g) < draw(st.floats(0.0, 1.0))
    advantages = torch.randn(B, T, generator=g, dtype=dtype) * 3
    return {
        "logp": logp.requires_grad_(),
        "old_logp": logp.detach() + log_ratio_scale * torch.randn(B, T, generator=g, dtype=dtype),
        "advantages": advantages if draw(st.booleans()) else advantages[:, 0],
        "mask": valid.to(draw(st.sampled_from([torch.bool, torch.float32, torch.int64]))),
        "entropy": torch.rand(B, T, generator=g, dtype=dtype) * 3,
        "ref_logp": logp.detach() + torch.randn(B, T, generator=g, dtype=dtype),
    }


@settings(max_examples=50, deadline=None, database=None)
@given(method_params(), loss_inputs())
def test_loss_grads_and_metrics_are_finite(method, inputs):
    name, params = method
    loss, metrics = policy_loss(name, **inputs, **params)
    loss.backward()
    grad = inputs["logp"].grad
    assert loss.dim() == 0
    assert torch.isfinite(loss)
    assert torch.isfinite(grad).all()
    assert (grad[~inputs["mask"].bool()] == 0).all()
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())
    assert 0.0 <= metrics["clip_frac"] <= 1.0
    assert 0.0 <= metrics["eligible_frac"] <= 1.0
    assert all(metrics[key] >= 0.0 for key in MASS_KEYS)  # entropy given, loss with a gradient


@settings(max_examples=25, deadline=None, database=None)
@given(method_params(), loss_inputs())
def test_on_policy_zero_advantage_has_zero_gradient(method, inputs):
    name, params = method
    inputs["old_logp"] = inputs["logp"].detach().clone()
    inputs["advantages"] = torch.zeros_like(inputs["advantages"])
    loss, metrics = policy_loss(name, **inputs, **{**params, "beta": 0.0})
    loss.backward()
    assert loss.item() == 0.0
    assert (inputs["logp"].grad == 0).all()
    assert metrics["abs_x_mean"] == 0.0
    assert metrics["ratio_mean"] in (0.0, 1.0)
