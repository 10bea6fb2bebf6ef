"""Agreement with the peers' formulas: TRL's top-entropy-quantile mask, verl's dual clip.

The references are written here from the peers' published code (TRL 1.16
`GRPOTrainer._compute_loss` / `get_high_entropy_mask`, verl `core_algos.py`
`compute_policy_loss_vanilla`); nothing of theirs is imported.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from harness.config.schema import register_configs
from harness.methods import STraceLossConfig, policy_loss

CONF = str(Path(__file__).resolve().parents[2] / "conf")


@pytest.fixture(scope="module")
def entropy_mask_preset() -> STraceLossConfig:
    """`method=grpo_entropy_mask` as Hydra builds it (conf/method/grpo_entropy_mask.yaml)."""
    register_configs()
    with initialize_config_dir(CONF, version_base="1.3"):
        cfg = compose("train", overrides=["method=grpo_entropy_mask"])
    method = OmegaConf.to_object(cfg.method)
    assert isinstance(method, STraceLossConfig)
    return method


def trl_entropy_masked_loss(logp, old, adv, mask, entropy, q, loss_type, max_len, beta=0.0, ref=None):
    """TRL: mask = H·m ≥ quantile(H[m], 1 − q) and m; ℓ·mask + β·KL; normalised by the valid tokens."""
    threshold = torch.quantile(entropy[mask.bool()], 1 - q)
    entropy_mask = ((entropy * mask) >= threshold) & mask.bool()
    coef_1 = torch.exp(logp - old)
    coef_2 = torch.clamp(coef_1, 0.8, 1.2)
    per_token_loss = -torch.min(coef_1 * adv[:, None], coef_2 * adv[:, None]) * entropy_mask
    if beta:
        per_token_loss = per_token_loss + beta * (torch.exp(ref - logp) - (ref - logp) - 1)
    if loss_type == "grpo":
        return ((per_token_loss * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
    if loss_type == "bnpo":
        return (per_token_loss * mask).sum() / mask.sum().clamp(min=1.0)
    return (per_token_loss * mask).sum() / (per_token_loss.size(0) * max_len)  # dr_grpo


LOSS_TYPES = {"grpo": "seq-mean-token-mean", "bnpo": "token-mean", "dr_grpo": "seq-mean-token-sum-norm"}


@pytest.mark.parametrize("beta", [0.0, 0.04])
@pytest.mark.parametrize("q", [0.2, 0.5])
@pytest.mark.parametrize("loss_type", list(LOSS_TYPES))
def test_grpo_entropy_mask_equals_trl_top_entropy_quantile(batch, entropy_mask_preset, loss_type, q, beta):
    inputs = batch.make(6, 50, seed=40, scale=0.3)
    inputs["mask"][1, :] = 1.0  # no empty row: TRL's grpo mean counts every sequence, as ours does
    params = {"entropy_quantile": q, "loss_agg": LOSS_TYPES[loss_type], "beta": beta, "max_len": 64}
    loss, metrics = policy_loss(entropy_mask_preset, **inputs, **params)
    (grad,) = torch.autograd.grad(loss, inputs["logp"])
    reference = trl_entropy_masked_loss(
        inputs["logp"],
        inputs["old_logp"],
        inputs["advantages"],
        inputs["mask"],
        inputs["entropy"],
        q,
        loss_type,
        64,
        beta,
        inputs["ref_logp"],
    )
    (ref_grad,) = torch.autograd.grad(reference, inputs["logp"])
    torch.testing.assert_close(loss, reference, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(grad, ref_grad, rtol=1e-12, atol=1e-14)
    assert metrics["eligible_frac"] == pytest.approx(q, abs=0.05)


def test_mask_norm_eligible_scales_the_gradient_by_the_valid_over_eligible_count(batch, entropy_mask_preset):
    """Issue 9's finding: normalising by the eligible tokens is TRL's gradient × n_i/k_i per sequence."""
    inputs = batch.make(4, 40, seed=41, scale=0.3)
    inputs["mask"][1, :] = 1.0
    loss_all, _ = policy_loss(entropy_mask_preset, **inputs)
    (grad_all,) = torch.autograd.grad(loss_all, inputs["logp"])
    loss_eligible, _ = policy_loss(entropy_mask_preset, **inputs, mask_norm="eligible")
    (grad_eligible,) = torch.autograd.grad(loss_eligible, inputs["logp"])
    valid = inputs["mask"].bool()
    eligible = valid & (inputs["entropy"] >= torch.quantile(inputs["entropy"][valid], 0.8))
    ratio = (valid.sum(-1).double() / eligible.sum(-1).clamp(min=1).double())[:, None]
    torch.testing.assert_close(grad_eligible, grad_all * ratio, rtol=1e-12, atol=1e-14)


def verl_dual_clip_loss(logp, old, adv, mask, clip_low, clip_high, c):
    """verl compute_policy_loss_vanilla with clip_ratio_c = c, loss_agg_mode token-mean."""
    negative_approx_kl = torch.clamp(logp - old, min=-20.0, max=20.0)
    ratio = torch.exp(negative_approx_kl)
    adv = adv[:, None].expand_as(ratio)
    pg_losses1 = -adv * ratio
    pg_losses2 = -adv * torch.clamp(ratio, 1 - clip_low, 1 + clip_high)
    clip_pg_losses1 = torch.maximum(pg_losses1, pg_losses2)
    pg_losses3 = -adv * c
    clip_pg_losses2 = torch.min(pg_losses3, clip_pg_losses1)
    pg_clipfrac_lower = (torch.gt(clip_pg_losses1, pg_losses3) * (adv < 0) * mask).sum() / mask.sum()
    pg_losses = torch.where(adv < 0, clip_pg_losses2, clip_pg_losses1)
    return (pg_losses * mask).sum() / mask.sum(), pg_clipfrac_lower


@pytest.mark.parametrize("c", [3.0, 1.5])
def test_dual_clip_equals_verl(batch, c):
    inputs = batch.make(5, 30, seed=42, scale=0.3)
    inputs["advantages"][0] = -1.5
    inputs["mask"][0, :] = 1.0
    with torch.no_grad():
        inputs["old_logp"][0, 3] = inputs["logp"][0, 3] - 4.0  # ρ = e^4 ≈ 55 under a negative advantage
    loss, metrics = policy_loss("grpo", **inputs, loss_agg="token-mean", dual_clip=c)
    (grad,) = torch.autograd.grad(loss, inputs["logp"])
    reference, clipfrac_lower = verl_dual_clip_loss(
        inputs["logp"], inputs["old_logp"], inputs["advantages"], inputs["mask"], 0.2, 0.2, c
    )
    (ref_grad,) = torch.autograd.grad(reference, inputs["logp"])
    torch.testing.assert_close(loss, reference, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(grad, ref_grad, rtol=1e-12, atol=1e-14)
    assert grad[0, 3] == 0  # the runaway token's loss is capped at −A·c: no gradient
    assert metrics["dual_clip_frac"] == pytest.approx(clipfrac_lower.item())
    assert metrics["dual_clip_frac"] > 0
    without, _ = policy_loss("grpo", **inputs, loss_agg="token-mean")
    assert without.item() > loss.item()  # the uncapped token adds |A|·55 / n instead of |A|·c / n


def test_dual_clip_acts_before_the_eps_weight_and_the_kl_term(batch):
    """METHODS.md: the cap applies to ℓ_t, then the ε-weight multiplies it, then β·KL is added."""
    inputs = batch.make(4, 25, seed=43, scale=0.5)
    inputs["advantages"][:] = -torch.tensor([1.0, 0.5, 2.0, 0.1], dtype=torch.float64)
    params = {
        "form": "lag",
        "placement": "weight",
        "style": "recent",
        "lam": 0.9,
        "beta": 0.1,
        "loss_agg": "token-mean",
        "adv_clamp": float("-inf"),
    }
    loss, _ = policy_loss("grpo_lambda", **inputs, dual_clip=1.1, **params)
    from harness.methods.trace import column_sums

    valid = inputs["mask"].bool()
    x = torch.where(valid, inputs["logp"] - inputs["old_logp"], 0)
    rho, adv = torch.exp(x), inputs["advantages"][:, None]
    ell = torch.minimum(-torch.minimum(rho * adv, rho.clamp(0.8, 1.2) * adv), -adv * 1.1)
    d = torch.where(valid, inputs["ref_logp"] - inputs["logp"], 0)
    per_token = ell * column_sums(valid, "recent", 0.9, dtype=torch.float64) + 0.1 * (d.exp() - d - 1)
    torch.testing.assert_close(loss, per_token[valid].sum() / valid.sum(), rtol=1e-12, atol=1e-14)
