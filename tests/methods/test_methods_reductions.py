"""Reductions between methods, and agreement with the published GRPO / GSPO formulas."""

from __future__ import annotations

import pytest
import torch

from harness.methods import policy_loss
from harness.methods.surrogate import LOSS_AGGS
from harness.methods.trace import trace


def _loss_and_grad(name: str, inputs: dict, **params) -> tuple[torch.Tensor, torch.Tensor, dict]:
    inputs = {k: v.detach().clone() for k, v in inputs.items()}
    inputs["logp"].requires_grad_()
    loss, metrics = policy_loss(name, **inputs, **params)
    loss.backward()
    return loss.detach(), inputs["logp"].grad, metrics


def _assert_same(a: tuple, b: tuple, exact: bool = True) -> None:
    tol = {"rtol": 0, "atol": 0} if exact else {"rtol": 1e-10, "atol": 1e-12}
    torch.testing.assert_close(a[0], b[0], **tol)
    torch.testing.assert_close(a[1], b[1], **tol)


def trl_grpo_loss(
    logp, old, adv, mask, eps_low, eps_high, *, level="token", loss_type="grpo", beta=0.0, ref=None
):
    """TRL GRPOTrainer._compute_loss, written from the published formulas (no trl import)."""
    log_ratio = logp - old
    if level == "token":
        log_importance_weights = log_ratio
    else:
        log_importance_weights = ((log_ratio * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).unsqueeze(-1)
    coef_1 = torch.exp(log_importance_weights)
    coef_2 = torch.clamp(coef_1, 1 - eps_low, 1 + eps_high)
    per_token_loss = -torch.min(coef_1 * adv.unsqueeze(1), coef_2 * adv.unsqueeze(1))
    if beta != 0.0:
        per_token_loss = per_token_loss + beta * (torch.exp(ref - logp) - (ref - logp) - 1)
    if loss_type == "grpo":
        loss = ((per_token_loss * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
    elif loss_type == "bnpo":
        loss = (per_token_loss * mask).sum() / mask.sum().clamp(min=1.0)
    else:  # dr_grpo
        loss = (per_token_loss * mask).sum() / (per_token_loss.size(0) * mask.size(1))
    is_clipped = ((coef_1 < 1 - eps_low) & (adv.unsqueeze(1) < 0)) | (
        (coef_1 > 1 + eps_high) & (adv.unsqueeze(1) > 0)
    )
    clip_frac = (is_clipped.expand_as(mask) * mask).sum() / mask.sum()
    return loss, clip_frac


TRL_LOSS_TYPES = {"seq-mean-token-mean": "grpo", "token-mean": "bnpo", "seq-mean-token-sum-norm": "dr_grpo"}


@pytest.mark.parametrize("beta", [0.0, 0.04])
@pytest.mark.parametrize("loss_agg", list(TRL_LOSS_TYPES))
def test_grpo_matches_trl_formula(batch, loss_agg, beta):
    inputs = batch.make(6, 40, seed=1, scale=0.3)
    loss, grad, metrics = _loss_and_grad("grpo", inputs, loss_agg=loss_agg, beta=beta)
    logp = inputs["logp"].detach().clone().requires_grad_()
    ref_loss, ref_clip_frac = trl_grpo_loss(
        logp,
        inputs["old_logp"],
        inputs["advantages"],
        inputs["mask"],
        0.2,
        0.2,
        loss_type=TRL_LOSS_TYPES[loss_agg],
        beta=beta,
        ref=inputs["ref_logp"],
    )
    ref_loss.backward()
    torch.testing.assert_close(loss, ref_loss.detach(), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(grad, logp.grad, rtol=1e-12, atol=1e-14)
    assert metrics["clip_frac"] == pytest.approx(ref_clip_frac.item())
    assert 0 < metrics["clip_frac"] < 1


def _gspo_inputs(batch, seed: int) -> dict:
    """Sequence log-ratios spread around GSPO's tiny clip range, so some sequences clip."""
    inputs = batch.make(8, 30, seed=seed, scale=0.0)
    g = torch.Generator().manual_seed(seed)
    row_scale = 10 ** torch.empty(8, 1, dtype=torch.float64).uniform_(-4, -1, generator=g)
    inputs["old_logp"] = inputs["old_logp"] + row_scale * torch.randn(8, 30, generator=g, dtype=torch.float64)
    return inputs


def test_gspo_matches_trl_sequence_level(batch):
    inputs = _gspo_inputs(batch, seed=2)
    loss, grad, metrics = _loss_and_grad("gspo", inputs)
    logp = inputs["logp"].detach().clone().requires_grad_()
    ref_loss, ref_clip_frac = trl_grpo_loss(
        logp, inputs["old_logp"], inputs["advantages"], inputs["mask"], 3e-4, 4e-4, level="sequence"
    )
    ref_loss.backward()
    torch.testing.assert_close(loss, ref_loss.detach(), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(grad, logp.grad, rtol=1e-9, atol=1e-14)
    assert metrics["clip_frac"] == pytest.approx(ref_clip_frac.item())
    assert 0 < metrics["clip_frac"] < 1


def test_gspo_token_form_equals_sequence_objective(batch):
    """−mean_i min(s_i·A_i, clip(s_i, 1−ε_low, 1+ε_high)·A_i), s_i = exp(mean_t x[i,t])."""
    inputs = _gspo_inputs(batch, seed=3)
    loss, grad, _ = _loss_and_grad("gspo", inputs)
    logp = inputs["logp"].detach().clone().requires_grad_()
    mask, adv = inputs["mask"], inputs["advantages"]
    s = torch.exp(((logp - inputs["old_logp"]) * mask).sum(-1) / mask.sum(-1).clamp(min=1))
    per_seq = -torch.minimum(s * adv, s.clamp(1 - 3e-4, 1 + 4e-4) * adv)
    seq_loss = (per_seq * (mask.sum(-1) > 0)).mean()
    seq_loss.backward()
    torch.testing.assert_close(loss, seq_loss.detach(), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(grad, logp.grad, rtol=1e-9, atol=1e-14)


LAMBDA_ZERO_CASES = [
    ("grpo_lambda", {"form": "lag", "style": "recent", "placement": "ratio", "normalize": False}),
    ("grpo_lambda", {"form": "lag", "style": "recent", "placement": "ratio", "normalize": True}),
    ("grpo_lambda", {"form": "lag", "style": "recent", "placement": "weight", "normalize": False}),
    ("grpo_lambda", {"form": "lag", "style": "recent", "placement": "weight", "weight_norm": True}),
    ("ptrace", {}),
    ("ptrace", {"normalize": False}),
    ("strace", {"entropy_quantile": 1.0}),
    ("strace", {"entropy_quantile": 1.0, "entropy_scope": "sequence", "loss_mask": True}),
]


@pytest.mark.parametrize("loss_agg", LOSS_AGGS)
@pytest.mark.parametrize(("name", "params"), LAMBDA_ZERO_CASES)
def test_lambda_zero_is_grpo_exactly(batch, name, params, loss_agg):
    inputs = batch.make(5, 70, seed=4, scale=0.5)
    common = {"loss_agg": loss_agg, "adv_clamp": -0.1, "beta": 0.02}
    grpo = _loss_and_grad("grpo", inputs, **common)
    _assert_same(_loss_and_grad(name, inputs, lam=0.0, **params, **common), grpo)


@pytest.mark.parametrize("loss_mask", [False, True])
@pytest.mark.parametrize("scope", ["batch", "sequence"])
@pytest.mark.parametrize(("style", "lam"), [("recent", 0.99), ("recent", 0.5), ("both", 0.9)])
def test_strace_with_q_one_is_ptrace_exactly(batch, style, lam, scope, loss_mask):
    inputs = batch.make(5, 90, seed=5, scale=0.5)
    params = {"style": style, "lam": lam, "loss_agg": "token-mean"}
    ptrace = _loss_and_grad("ptrace", inputs, **params)
    strace = _loss_and_grad(
        "strace", inputs, entropy_quantile=1.0, entropy_scope=scope, loss_mask=loss_mask, **params
    )
    _assert_same(strace, ptrace)
    assert strace[2]["eligible_frac"] == 1.0


@pytest.mark.parametrize("loss_agg", LOSS_AGGS)
@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize(("style", "lam"), [("recent", 0.99), ("both", 0.99), ("both", 0.5), ("recent", 1.0)])
def test_on_policy_weight_and_trace_have_the_same_gradient(batch, style, lam, normalize, loss_agg):
    inputs = batch.make(5, 80, seed=6)
    inputs["old_logp"] = inputs["logp"].detach().clone()
    params = {"form": "lag", "style": style, "lam": lam, "normalize": normalize, "loss_agg": loss_agg}
    _, trace_grad, _ = _loss_and_grad("grpo_lambda", inputs, placement="ratio", **params)
    _, weight_grad, _ = _loss_and_grad("grpo_lambda", inputs, placement="weight", **params)
    torch.testing.assert_close(weight_grad, trace_grad, rtol=1e-10, atol=1e-14)
    assert trace_grad.abs().sum() > 0


def test_weight_norm_rescales_to_mean_one(batch):
    """weight_norm: W has mean 1 over each sequence, so a uniform-advantage batch has GRPO's loss scale."""
    inputs = batch.make(4, 50, seed=7)
    inputs["old_logp"] = inputs["logp"].detach().clone()
    inputs["advantages"] = torch.ones(4, dtype=torch.float64)
    loss, _, _ = _loss_and_grad(
        "grpo_lambda",
        inputs,
        form="lag",
        placement="weight",
        weight_norm=True,
        adv_clamp=-1e9,
        loss_agg="seq-mean-token-mean",
    )
    grpo_loss, _, _ = _loss_and_grad("grpo", inputs)
    torch.testing.assert_close(loss, grpo_loss)


def test_ptrace_at_lambda_one_ends_on_the_gspo_ratio(batch):
    g = torch.Generator().manual_seed(8)
    x = torch.randn(6, 40, generator=g, dtype=torch.float64)
    valid = batch.mask(6, 40, g)
    X = trace(x, valid, "recent", 1.0, normalize=True)
    lengths = valid.sum(-1)
    rows = lengths > 0
    last = X[rows, lengths[rows] - 1]
    gspo = trace(x, valid, "uniform", normalize=True)[rows, 0]
    torch.testing.assert_close(last, gspo)


def test_both_kernel_keeps_the_first_token_at_lambda_zero():
    x = torch.randn(2, 9, dtype=torch.float64)
    valid = torch.ones(2, 9, dtype=torch.bool)
    X = trace(x, valid, "both", 0.0)
    expected = x + x[:, :1]
    expected[:, 0] = x[:, 0]
    torch.testing.assert_close(X, expected)
