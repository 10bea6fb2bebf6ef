"""CISPO, GMPO and SAPO against the peers' formulas: values and gradients, float64, ragged masks.

The references are written here from the peers' published code (TRL `GRPOTrainer._compute_loss`,
`loss_type` "cispo" and "sapo"; verl `core_algos.py` `compute_policy_loss_cispo`,
`compute_policy_loss_geo_mean`, `compute_policy_loss_sapo` and `agg_loss`); nothing of theirs is
imported. Every aggregation mode the peer supports is covered: verl's `agg_loss` has four (CISPO),
its GMPO and SAPO force one; TRL's CISPO divides by the token count, its SAPO is its "grpo" mean.
"""

from __future__ import annotations

import pytest
import torch

from harness.methods import policy_loss
from harness.methods.surrogate import LOSS_AGGS

TOL = {"rtol": 1e-9, "atol": 1e-12}
VERL_TOL = {"rtol": 1e-6, "atol": 1e-9}  # verl divides by n + 1e-8


def verl_agg_loss(loss_mat, mask, mode):
    """verl `agg_loss` without global batch info (one micro-batch, dp_size = 1)."""
    if mode == "token-mean":
        return (loss_mat * mask).sum() / mask.sum()
    if mode == "seq-mean-token-sum":
        seq_losses = (loss_mat * mask).sum(-1)
        return seq_losses.sum() / (mask.sum(-1) > 0).sum()
    if mode == "seq-mean-token-mean":
        n = mask.sum(-1)
        seq_losses = (loss_mat * mask).sum(-1) / (n + 1e-8)
        return seq_losses.sum() / (n > 0).sum()
    return (loss_mat * mask).sum(-1).sum() / mask.shape[-1]  # seq-mean-token-sum-norm


def verl_counts(mask, mode):
    """Our aggregation counts that give verl's normaliser: its seq-mean modes count the non-empty
    sequences; its seq-mean-token-sum-norm divides by T alone (no sequence count)."""
    if mode == "seq-mean-token-sum-norm":
        return {"n_seqs": 1, "max_len": mask.shape[-1]}
    return {"n_seqs": int((mask.sum(-1) > 0).sum())}


def per_token(adv, like):
    return adv[:, None].expand_as(like) if adv.dim() == 1 else adv


def verl_cispo(logp, old, adv, mask, clip_low, clip_high, mode, beta=0.0, ref=None):
    """verl compute_policy_loss_cispo: −sg(clamp(ρ, 1−low, 1+high))·A·logp, aggregated by `mode`
    (+ the actor's KL loss β·agg(k3), same mode)."""
    ratio = torch.exp(torch.clamp(logp - old, min=-20.0, max=20.0))
    clipped_ratio_sg = torch.clamp(ratio, 1 - clip_low, 1 + clip_high).detach()
    pg_losses = -clipped_ratio_sg * per_token(adv, logp) * logp
    loss = verl_agg_loss(pg_losses, mask, mode)
    if beta:
        loss = loss + beta * verl_agg_loss(torch.exp(ref - logp) - (ref - logp) - 1, mask, mode)
    clipfrac = ((ratio != torch.clamp(ratio, 1 - clip_low, 1 + clip_high)).double() * mask).sum() / mask.sum()
    return loss, clipfrac


def trl_cispo(logp, old, adv, mask, epsilon_high, beta=0.0, ref=None):
    """TRL loss_type="cispo": −sg(clamp(ρ, max=ε_high))·A·logp (+ β·k3), / the token count."""
    coef_1 = torch.exp(logp - old)
    per_token_loss = -torch.clamp(coef_1, max=epsilon_high).detach() * per_token(adv, logp) * logp
    if beta:
        per_token_loss = per_token_loss + beta * (torch.exp(ref - logp) - (ref - logp) - 1)
    return (per_token_loss * mask).sum() / mask.sum().clamp(min=1.0)


def verl_geo_mean(logp, old, adv, mask, clip_low, clip_high):
    """verl compute_policy_loss_geo_mean: the sign-aware log-ratio clip, the masked mean in log space,
    −Ā_i·exp(·), mean over sequences."""
    adv = per_token(adv, logp)
    negative_approx_kl = logp - old
    sgn_advantage = torch.sign(adv)
    negative_approx_kl_clamp = torch.clamp(negative_approx_kl, -clip_low, clip_high)
    negative_approx_kl_min = torch.min(
        sgn_advantage * negative_approx_kl, sgn_advantage * negative_approx_kl_clamp
    )
    negative_approx_kl_min = sgn_advantage * negative_approx_kl_min
    response_mask_sum = mask.sum(dim=-1)
    ratio = torch.exp((negative_approx_kl_min * mask).sum(dim=-1) / (response_mask_sum + 1e-8))
    advantage = (adv * mask).sum(dim=-1) / (response_mask_sum + 1e-8)
    return torch.mean(-advantage * ratio)


def verl_sapo(logp, old, adv, mask, tau_pos, tau_neg):
    """verl compute_policy_loss_sapo: −σ(τ(ρ−1))·4/τ·A, τ = τ_pos where A > 0; seq-mean-token-mean."""
    adv = per_token(adv, logp)
    ratio = torch.exp(torch.clamp(logp - old, min=-20.0, max=20.0))
    taus = torch.where(
        adv > 0, torch.as_tensor(tau_pos, dtype=adv.dtype), torch.as_tensor(tau_neg, dtype=adv.dtype)
    )
    gates = torch.sigmoid(taus * (ratio - 1.0)) * (4.0 / taus)
    return verl_agg_loss(-gates * adv, mask, "seq-mean-token-mean")


def trl_sapo(logp, old, adv, mask, tau_pos, tau_neg, beta=0.0, ref=None):
    """TRL loss_type="sapo": −σ(τ(ρ−1))·4/τ·A (+ β·k3), mean over tokens then over all sequences."""
    coef_1 = torch.exp(logp - old)
    adv = per_token(adv, logp)
    temperatures = torch.where(adv > 0, tau_pos, tau_neg)
    per_token_loss = -torch.sigmoid(temperatures * (coef_1 - 1)) * 4 / temperatures * adv
    if beta:
        per_token_loss = per_token_loss + beta * (torch.exp(ref - logp) - (ref - logp) - 1)
    return ((per_token_loss * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()


def inputs_for(batch, seed, scale, per_token_adv=False):
    inputs = batch.make(6, 40, seed=seed, scale=scale)
    inputs["advantages"][3] = 0.0  # a zero advantage: SAPO's τ_neg side, GMPO's sign 0
    if per_token_adv:
        g = torch.Generator().manual_seed(seed + 1)
        inputs["advantages"] = torch.randn(6, 40, generator=g, dtype=torch.float64)
    return inputs


def assert_same(loss, reference, logp, tol):
    (grad,) = torch.autograd.grad(loss, logp, retain_graph=True)
    (ref_grad,) = torch.autograd.grad(reference, logp, retain_graph=True)
    torch.testing.assert_close(loss, reference, **tol)
    torch.testing.assert_close(grad, ref_grad, **tol)
    assert grad.abs().sum() > 0


@pytest.mark.parametrize("per_token_adv", [False, True])
@pytest.mark.parametrize("clip", [(1.0, 4.0), (0.2, 0.28), (1.0, 0.2)])
@pytest.mark.parametrize("loss_agg", LOSS_AGGS)
def test_cispo_equals_verl(batch, loss_agg, clip, per_token_adv):
    inputs = inputs_for(batch, 60, scale=0.8, per_token_adv=per_token_adv)
    mask, beta = inputs["mask"], 0.04
    params = {"clip_low": clip[0], "clip_high": clip[1], "loss_agg": loss_agg, "beta": beta}
    loss, metrics = policy_loss("cispo", **inputs, **params, **verl_counts(mask, loss_agg))
    reference, clipfrac = verl_cispo(
        inputs["logp"],
        inputs["old_logp"],
        inputs["advantages"],
        mask,
        *clip,
        loss_agg,
        beta,
        inputs["ref_logp"],
    )
    assert_same(loss, reference, inputs["logp"], VERL_TOL)
    assert metrics["clip_frac"] == pytest.approx(clipfrac.item())
    assert metrics["clip_frac"] > 0  # the cap binds on some tokens at this scale


@pytest.mark.parametrize("beta", [0.0, 0.04])
@pytest.mark.parametrize("epsilon_high", [5.0, 1.2])
def test_cispo_equals_trl(batch, epsilon_high, beta):
    """TRL's ε_high is the cap itself (no lower bound): ours with clip_low = 1, clip_high = ε_high − 1."""
    inputs = inputs_for(batch, 61, scale=0.8)
    loss, _ = policy_loss("cispo", **inputs, clip_high=epsilon_high - 1, beta=beta)
    reference = trl_cispo(
        inputs["logp"],
        inputs["old_logp"],
        inputs["advantages"],
        inputs["mask"],
        epsilon_high,
        beta,
        inputs["ref_logp"],
    )
    assert_same(loss, reference, inputs["logp"], TOL)


def test_cispo_clipped_tokens_keep_their_gradient(batch):
    """Unlike PPO's clip, a token past the cap still gets −clip(ρ)·A·∇logp (here ρ = e^3 > 5)."""
    inputs = inputs_for(batch, 62, scale=0.1)
    inputs["mask"][0, :] = 1.0
    inputs["advantages"][0] = 1.0
    with torch.no_grad():
        inputs["old_logp"][0, 5] = inputs["logp"][0, 5] - 3.0
    loss, _ = policy_loss("cispo", **inputs)
    (grad,) = torch.autograd.grad(loss, inputs["logp"])
    assert grad[0, 5].item() == pytest.approx(-5.0 / inputs["mask"].sum().item())
    grpo, _ = policy_loss("grpo", **inputs, loss_agg="token-mean")
    assert torch.autograd.grad(grpo, inputs["logp"])[0][0, 5] == 0


@pytest.mark.parametrize("per_token_adv", [False, True])
@pytest.mark.parametrize("clip", [(0.4, 0.4), (0.2, 0.28)])
def test_gmpo_equals_verl_geo_mean(batch, clip, per_token_adv):
    inputs = inputs_for(batch, 63, scale=0.5, per_token_adv=per_token_adv)
    loss, metrics = policy_loss("gmpo", **inputs, clip_low=clip[0], clip_high=clip[1])
    reference = verl_geo_mean(inputs["logp"], inputs["old_logp"], inputs["advantages"], inputs["mask"], *clip)
    assert_same(loss, reference, inputs["logp"], VERL_TOL)
    assert metrics["clip_frac"] > 0


def test_gmpo_is_the_geometric_mean_of_the_clipped_ratios(batch):
    """Known values: one sequence, A = 1, log-ratios [0.1, 0.9, −0.6] with ε = 0.4: the 0.9 is cut
    to 0.4 (A > 0 clips the upper side only), so s = exp((0.1 + 0.4 − 0.6)/3), loss = −s."""
    logp = torch.tensor([[-1.0, -2.0, -0.5]], dtype=torch.float64, requires_grad=True)
    old = logp.detach() - torch.tensor([[0.1, 0.9, -0.6]], dtype=torch.float64)
    loss, _ = policy_loss("gmpo", logp, old, torch.tensor([1.0], dtype=torch.float64), torch.ones(1, 3))
    s = torch.exp(torch.tensor(-0.1 / 3, dtype=torch.float64))
    torch.testing.assert_close(loss, -s, **TOL)
    (grad,) = torch.autograd.grad(loss, logp)
    torch.testing.assert_close(grad, torch.tensor([[-s / 3, 0.0, -s / 3]], dtype=torch.float64), **TOL)


@pytest.mark.parametrize("per_token_adv", [False, True])
@pytest.mark.parametrize("taus", [(1.0, 1.05), (0.5, 2.0)])
def test_sapo_equals_verl(batch, taus, per_token_adv):
    inputs = inputs_for(batch, 64, scale=0.5, per_token_adv=per_token_adv)
    mask = inputs["mask"]
    loss, _ = policy_loss(
        "sapo", **inputs, tau_pos=taus[0], tau_neg=taus[1], **verl_counts(mask, "seq-mean-token-mean")
    )
    reference = verl_sapo(inputs["logp"], inputs["old_logp"], inputs["advantages"], mask, *taus)
    assert_same(loss, reference, inputs["logp"], VERL_TOL)


@pytest.mark.parametrize("beta", [0.0, 0.04])
@pytest.mark.parametrize("taus", [(1.0, 1.05), (0.5, 2.0)])
def test_sapo_equals_trl(batch, taus, beta):
    inputs = inputs_for(batch, 65, scale=0.5)
    loss, metrics = policy_loss("sapo", **inputs, tau_pos=taus[0], tau_neg=taus[1], beta=beta)
    reference = trl_sapo(
        inputs["logp"],
        inputs["old_logp"],
        inputs["advantages"],
        inputs["mask"],
        *taus,
        beta,
        inputs["ref_logp"],
    )
    assert_same(loss, reference, inputs["logp"], TOL)
    assert metrics["clip_frac"] == 0.0  # no clip: the gate is smooth


@pytest.mark.parametrize("name", ["cispo", "sapo"])
def test_on_policy_gradient_is_grpos(batch, name):
    """At ρ = 1 CISPO's weight is 1 and SAPO's gate has slope 1: both give GRPO's gradient."""
    inputs = inputs_for(batch, 66, scale=0.0)
    loss, _ = policy_loss(name, **inputs, loss_agg="seq-mean-token-mean")
    grpo, _ = policy_loss("grpo", **inputs)
    (grad,) = torch.autograd.grad(loss, inputs["logp"])
    (ref_grad,) = torch.autograd.grad(grpo, inputs["logp"])
    torch.testing.assert_close(grad, ref_grad, **TOL)
