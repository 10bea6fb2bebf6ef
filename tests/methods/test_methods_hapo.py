"""HAPO (our reconstruction, METHODS.md § HAPO): α = 0 is GRPO exactly; the weights follow the spec."""

from __future__ import annotations

import pytest
import torch

from harness.methods import get_method_config, policy_loss
from harness.methods.hapo import capacity_weights
from harness.methods.surrogate import LOSS_AGGS

F64 = torch.float64


def weights(entropy, valid=None, **params):
    entropy = torch.tensor(entropy, dtype=F64)
    valid = torch.ones_like(entropy, dtype=torch.bool) if valid is None else torch.tensor(valid)
    return capacity_weights(entropy, valid, get_method_config("hapo", **params))


@pytest.mark.parametrize("loss_agg", LOSS_AGGS)
@pytest.mark.parametrize("extra", [{}, {"beta": 0.05, "dual_clip": 3.0}, {"adv_clamp": -0.1}])
def test_alpha_zero_is_grpo_exactly(batch, loss_agg, extra):
    inputs = batch.make(6, 50, seed=70, scale=0.5)
    params = {"loss_agg": loss_agg, **extra}
    loss, metrics = policy_loss("hapo", **inputs, alpha=0.0, **params)
    (grad,) = torch.autograd.grad(loss, inputs["logp"])
    grpo, grpo_metrics = policy_loss("grpo", **inputs, **params)
    (grpo_grad,) = torch.autograd.grad(grpo, inputs["logp"])
    assert torch.equal(loss, grpo)
    assert torch.equal(grad, grpo_grad)
    assert metrics == grpo_metrics


@pytest.mark.parametrize(
    ("entropy", "params", "expected"),
    [
        ([[1.0, 3.0]], {"w_min": 0.0}, [[0.5, 1.5]]),  # w = n·H/ΣH
        ([[1.0, 3.0]], {"w_min": 0.8}, [[0.8 / 1.15, 1.5 / 1.15]]),  # floor, then mean 1
        ([[1.0, 3.0]], {"alpha": 2.0}, [[0.2, 1.8]]),  # c = H²: 2·[1, 9]/10
        ([[1.0, 3.0]], {"alpha": 2.0, "w_max": 1.5}, [[0.2 / 0.85, 1.5 / 0.85]]),  # cap, then mean 1
        ([[0.0, 0.0, 0.0]], {}, [[1.0, 1.0, 1.0]]),  # no capacity anywhere: GRPO's weights
        ([[0.0, 2.0]], {}, [[0.1 / 1.05, 2.0 / 1.05]]),  # a deterministic token keeps w_min
        ([[5.0, 1.0, 7.0]], {"alpha": 0.0}, [[1.0, 1.0, 1.0]]),  # α = 0: uniform
    ],
)
def test_weights_known_values(entropy, params, expected):
    torch.testing.assert_close(
        weights(entropy, **params), torch.tensor(expected, dtype=F64), rtol=1e-12, atol=1e-15
    )


def test_weights_of_ragged_sequences_have_mean_one_on_their_own_tokens():
    w = weights(
        [[1.0, 3.0, 9.0], [2.0, 6.0, 9.0]], valid=[[True, True, True], [True, True, False]], w_min=0.0
    )
    torch.testing.assert_close(w[1], torch.tensor([0.5, 1.5, 0.0], dtype=F64), rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(w[0], torch.tensor([3, 9, 27], dtype=F64) / 13, rtol=1e-12, atol=1e-15)


def test_hapo_is_grpo_with_per_token_advantages(batch):
    """The spec's form: A[i,t] = A_i·w[i,t] in GRPO's clipped surrogate (values and gradients)."""
    inputs = batch.make(6, 40, seed=71, scale=0.5)
    valid = inputs["mask"].bool()
    params = {"alpha": 1.5, "w_min": 0.2, "w_max": 3.0, "beta": 0.05, "dual_clip": 2.0}
    loss, _ = policy_loss("hapo", **inputs, **params)
    w = capacity_weights(inputs["entropy"], valid, get_method_config("hapo", **params))
    per_token = {**inputs, "advantages": inputs["advantages"][:, None] * w}
    params = {k: v for k, v in params.items() if k in ("beta", "dual_clip")}
    grpo, _ = policy_loss("grpo", **per_token, **params)
    torch.testing.assert_close(loss, grpo, rtol=1e-12, atol=1e-14)
    grads = [torch.autograd.grad(x, inputs["logp"])[0] for x in (loss, grpo)]
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("polarity", "kept"), [("pos", "neg"), ("neg", "pos")])
def test_polarity_leaves_the_other_sign_as_grpo(batch, polarity, kept):
    inputs = batch.make(6, 40, seed=72, scale=0.5)
    inputs["mask"][1, :10] = 1.0
    inputs["advantages"] = torch.tensor([1.0, -1.0, 0.5, -0.5, 2.0, -2.0], dtype=F64)
    loss, _ = policy_loss("hapo", **inputs, polarity=polarity, loss_agg="seq-mean-token-sum")
    grpo, _ = policy_loss("grpo", **inputs, loss_agg="seq-mean-token-sum")
    grad = torch.autograd.grad(loss, inputs["logp"])[0]
    grpo_grad = torch.autograd.grad(grpo, inputs["logp"])[0]
    rows = inputs["advantages"] > 0 if kept == "pos" else inputs["advantages"] < 0
    assert torch.equal(grad[rows], grpo_grad[rows])
    assert not torch.allclose(grad[~rows], grpo_grad[~rows])


def test_sign_is_preserved_and_mass_moves_to_high_entropy_tokens(batch):
    """On-policy each token's gradient is −A_i·w/n_i: same sign as GRPO's, larger where H is larger."""
    inputs = batch.make(4, 30, seed=73, scale=0.0)
    inputs["mask"][:] = 1.0
    loss, _ = policy_loss("hapo", **inputs, w_min=0.0)
    grpo, _ = policy_loss("grpo", **inputs)
    grad = torch.autograd.grad(loss, inputs["logp"])[0]
    grpo_grad = torch.autograd.grad(grpo, inputs["logp"])[0]
    assert (torch.sign(grad) == torch.sign(grpo_grad)).all()
    expected = grpo_grad * inputs["entropy"] / inputs["entropy"].mean(-1, keepdim=True)
    torch.testing.assert_close(grad, expected, rtol=1e-12, atol=1e-14)


def test_hapo_needs_entropy(batch):
    inputs = batch.make(3, 10, seed=74)
    with pytest.raises(ValueError, match=r"hapo.*needs `entropy`"):
        policy_loss("hapo", **{**inputs, "entropy": None})
