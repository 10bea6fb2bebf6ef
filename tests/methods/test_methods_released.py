"""GRPO-λ as released: the authors' kernels against a dense T×T oracle written from METHODS.md."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from harness.methods import policy_loss
from harness.methods.trace import prefix_trace, released_weights

STYLES = ["recent", "both", "early"]
LAMBDAS = [0.0, 0.5, 0.99, 1.0]
GAMMAS = [1.0, 0.9]
FLOOR = 1e-7


def released_kernel(style: str, a: float, n: Tensor, T: int) -> Tensor:
    """K[i,t,j] from METHODS.md "GRPO-λ as released": K(t,t) = 1, K(t,j) = max(1e-7, w(j)) for j < t.

    n: [B] float64 lengths. Built entry by entry in float64, the way the spec reads; the
    spec's matrix is n×n, so a column j ≥ n (padding, with trace_length=sequence) is empty.
    """
    B = n.shape[0]
    K = torch.zeros(B, T, T, dtype=torch.float64)
    for i in range(B):
        for t in range(T):
            K[i, t, t] = 1.0
            for j in range(min(t, int(n[i]))):
                if style == "recent":
                    w = a ** (n[i].item() - 1 - j)
                elif style == "both":
                    w = max(a ** (n[i].item() - j), a**j)
                else:
                    w = a**j
                K[i, t, j] = max(FLOOR, w)
    return K


def lengths(valid: Tensor, trace_length: str, max_len: int) -> Tensor:
    if trace_length == "sequence":
        return valid.sum(-1).clamp(min=1).to(torch.float64)
    return torch.full((valid.shape[0],), float(max_len), dtype=torch.float64)


def dense_released_loss(inputs: dict, style: str, a: float, n: Tensor, placement: str) -> Tensor:
    """The released GRPO-λ loss with a dense kernel: clamp A at −0.1, ε = 0.2, token-mean."""
    logp, mask = inputs["logp"], inputs["mask"]
    valid = mask.bool()
    K = released_kernel(style, a, n, logp.shape[-1])
    x = torch.where(valid, logp - inputs["old_logp"], 0)
    adv = inputs["advantages"].clamp(min=-0.1)[:, None]
    if placement == "ratio":
        rho = torch.exp((K @ x.unsqueeze(-1)).squeeze(-1))
        per_token = -torch.minimum(rho * adv, rho.clamp(0.8, 1.2) * adv)
    else:
        rho = torch.exp(x)
        s = torch.where(valid, 1 + torch.sigmoid(torch.where(valid, logp, 0) - 1), 0)
        E = (K @ s.unsqueeze(-1)).squeeze(-1)
        per_token = -torch.minimum(rho * adv, rho.clamp(0.8, 1.2) * adv) * E
    return (per_token * mask).sum() / mask.sum()


@pytest.mark.parametrize("trace_length", ["max", "sequence"])
@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("lam", LAMBDAS)
@pytest.mark.parametrize("style", STYLES)
def test_prefix_operator_equals_the_dense_kernel(batch, style, lam, gamma, trace_length):
    g = torch.Generator().manual_seed(1)
    B, T, max_len = 5, 24, 30
    valid = batch.mask(B, T, g)
    x = (torch.randn(B, T, generator=g, dtype=torch.float64) * valid).requires_grad_()
    n = lengths(valid, trace_length, max_len)
    K = released_kernel(style, gamma * lam, n, T)
    n_arg = n[:, None] if trace_length == "sequence" else max_len
    c = released_weights(valid, style, gamma * lam, n_arg, torch.float64)
    fast = prefix_trace(x, c)
    dense = (K @ x.unsqueeze(-1)).squeeze(-1)
    upstream = torch.randn(B, T, generator=g, dtype=torch.float64) * valid
    (fast_grad,) = torch.autograd.grad(fast, x, upstream)
    (dense_grad,) = torch.autograd.grad(dense, x, upstream)
    torch.testing.assert_close(fast[valid], dense[valid], rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(fast_grad * valid, dense_grad * valid, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("placement", ["ratio", "weight"])
@pytest.mark.parametrize("trace_length", ["max", "sequence"])
@pytest.mark.parametrize(("lam", "gamma"), [(0.0, 1.0), (0.5, 1.0), (0.99, 1.0), (1.0, 1.0), (0.99, 0.9)])
@pytest.mark.parametrize("style", STYLES)
def test_released_loss_equals_the_dense_oracle(batch, style, lam, gamma, trace_length, placement):
    inputs = batch.make(6, 20, seed=2, scale=0.1)
    max_len = 26
    loss, metrics = policy_loss(
        "grpo_lambda",
        **inputs,
        max_len=max_len,
        style=style,
        lam=lam,
        gamma=gamma,
        trace_length=trace_length,
        placement=placement,
    )
    (grad,) = torch.autograd.grad(loss, inputs["logp"])
    n = lengths(inputs["mask"].bool(), trace_length, max_len)
    reference = dense_released_loss(inputs, style, gamma * lam, n, placement)
    (ref_grad,) = torch.autograd.grad(reference, inputs["logp"])
    torch.testing.assert_close(loss, reference, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(grad, ref_grad, rtol=1e-10, atol=1e-14)
    assert metrics["eligible_frac"] == 1.0


def test_without_max_len_n_is_the_padded_width(batch):
    inputs = batch.make(4, 15, seed=3, scale=0.2)
    by_default, _ = policy_loss("grpo_lambda", **inputs, style="recent", lam=0.9)
    explicit, _ = policy_loss("grpo_lambda", **inputs, style="recent", lam=0.9, max_len=15)
    longer, _ = policy_loss("grpo_lambda", **inputs, style="recent", lam=0.9, max_len=40)
    torch.testing.assert_close(by_default, explicit, rtol=0, atol=0)
    assert not torch.isclose(by_default, longer)  # n enters the recent kernel's weights


def test_max_len_shorter_than_a_completion_is_a_clear_error(batch):
    inputs = batch.make(3, 12, seed=4)
    with pytest.raises(ValueError, match="max_len=8 is shorter than a completion"):
        policy_loss("grpo_lambda", **inputs, max_len=8)


@pytest.mark.parametrize("placement", ["ratio", "weight"])
def test_weight_placement_masks_padding_before_the_sigmoid(batch, placement):
    """NaN log-probs on padded tokens reach neither the loss nor its gradient."""
    inputs = batch.make(4, 30, seed=5)
    garbage = {k: v.detach().clone() for k, v in inputs.items()}
    garbage["logp"][~inputs["mask"].bool()] = torch.nan
    garbage["logp"].requires_grad_()
    loss, _ = policy_loss("grpo_lambda", **garbage, placement=placement)
    clean, _ = policy_loss("grpo_lambda", **inputs, placement=placement)
    loss.backward()
    clean.backward()
    torch.testing.assert_close(loss, clean)
    torch.testing.assert_close(garbage["logp"].grad, inputs["logp"].grad)


@pytest.mark.parametrize("loss_agg", ["token-mean", "seq-mean-token-mean"])
@pytest.mark.parametrize(
    ("released_style", "lag_style"), [("recent", "recent"), ("both", "both"), ("early", "both")]
)
def test_released_and_lag_forms_agree_at_gamma_lambda_one(batch, released_style, lag_style, loss_agg):
    """At γλ = 1 every kernel is all ones below the diagonal: X_t = Σ_(j≤t) x_j in both forms."""
    inputs = batch.make(5, 40, seed=6, scale=0.05)
    common = {"lam": 1.0, "loss_agg": loss_agg, "placement": "ratio"}
    released, _ = policy_loss("grpo_lambda", **inputs, form="released", style=released_style, **common)
    (released_grad,) = torch.autograd.grad(released, inputs["logp"])
    lag, _ = policy_loss("grpo_lambda", **inputs, form="lag", style=lag_style, **common)
    (lag_grad,) = torch.autograd.grad(lag, inputs["logp"])
    torch.testing.assert_close(released, lag, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(released_grad, lag_grad, rtol=1e-10, atol=1e-14)


def test_the_forms_differ_at_lambda_099(batch):
    """What issue 9 measured: released and lag are different losses below γλ = 1."""
    inputs = batch.make(6, 200, seed=7, scale=0.05)
    released, _ = policy_loss("grpo_lambda", **inputs, form="released")
    lag, _ = policy_loss("grpo_lambda", **inputs, form="lag")
    assert abs(released.item() - lag.item()) > 1e-2 * abs(lag.item())


def test_recent_at_long_n_is_close_to_grpo(batch):
    """At λ = 0.99 and n = 4096 a short response's recent weights sit at the 1e-7 floor: ≈ GRPO."""
    inputs = batch.make(4, 300, seed=8, scale=0.2)
    common = {"loss_agg": "token-mean", "adv_clamp": -0.1}
    released, _ = policy_loss("grpo_lambda", **inputs, style="recent", max_len=4096, **common)
    grpo, _ = policy_loss("grpo", **inputs, **common)
    torch.testing.assert_close(released, grpo, rtol=1e-4, atol=1e-6)
    assert released.item() != grpo.item()
