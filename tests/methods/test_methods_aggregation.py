"""Aggregation: padding invariance and gradient accumulation over micro-batches."""

from __future__ import annotations

import pytest
import torch

from harness.methods import policy_loss
from harness.methods.surrogate import LOSS_AGGS

METHOD_CASES = [
    ("grpo", {}),
    ("grpo_lambda", {}),
    ("grpo_lambda", {"placement": "weight", "trace_length": "sequence"}),
    ("grpo_lambda", {"form": "lag", "style": "recent", "placement": "weight", "weight_norm": True}),
    ("grpo_lambda", {"form": "lag", "dual_clip": 3.0}),
    ("gspo", {}),
    ("ptrace", {}),
    ("strace", {"entropy_scope": "sequence"}),
    ("hapo", {}),
    ("hapo", {"alpha": 2.0, "polarity": "neg", "w_max": 3.0}),
    ("cispo", {"clip_low": 0.2, "clip_high": 0.28}),
    ("gmpo", {}),
    ("sapo", {}),
]
IDS = [f"{name}-{'-'.join(map(str, params.values()))}" for name, params in METHOD_CASES]


def _pad(inputs: dict, extra: int) -> dict:
    """Append `extra` masked columns full of NaN/inf garbage."""
    garbage = {
        "logp": torch.nan,
        "old_logp": torch.inf,
        "entropy": torch.nan,
        "ref_logp": -torch.inf,
        "mask": 0.0,
    }
    padded = {k: v.detach() for k, v in inputs.items()}
    for key, fill in garbage.items():
        tail = torch.full((padded[key].shape[0], extra), fill, dtype=padded[key].dtype)
        padded[key] = torch.cat([padded[key], tail], dim=-1)
    padded["logp"].requires_grad_()
    return padded


@pytest.mark.parametrize("loss_agg", LOSS_AGGS)
@pytest.mark.parametrize(
    ("name", "params"),
    [
        *METHOD_CASES,
        ("strace", {"loss_mask": True}),
        ("strace", {"loss_mask": True, "mask_norm": "eligible"}),
    ],
    ids=[*IDS, "strace-loss_mask", "strace-loss_mask-eligible"],
)
def test_padding_changes_nothing(batch, name, params, loss_agg):
    inputs = batch.make(5, 70, seed=11, scale=0.3)
    T = inputs["mask"].shape[-1]
    params = {**params, "loss_agg": loss_agg, "beta": 0.05}
    loss, metrics = policy_loss(name, **inputs, max_len=T, **params)
    loss.backward()
    padded = _pad(inputs, extra=100)
    padded_loss, padded_metrics = policy_loss(name, **padded, max_len=T, **params)
    padded_loss.backward()

    torch.testing.assert_close(padded_loss, loss, rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(padded["logp"].grad[:, :T], inputs["logp"].grad, rtol=1e-10, atol=1e-14)
    assert (padded["logp"].grad[:, T:] == 0).all()
    assert padded_metrics == pytest.approx(metrics, rel=1e-10)


def _micro_batch(inputs: dict, rows: slice) -> dict:
    """Rows `rows`, trimmed to their own longest completion (views of the big batch's logp)."""
    width = max(int(inputs["mask"][rows].sum(-1).max()), 1)
    return {k: v[rows, :width] if v.dim() == 2 else v[rows] for k, v in inputs.items()}


@pytest.mark.parametrize("loss_agg", LOSS_AGGS)
@pytest.mark.parametrize(("name", "params"), METHOD_CASES, ids=IDS)
def test_gradient_accumulation_equals_one_batch(batch, name, params, loss_agg):
    inputs = batch.make(7, 60, seed=12, scale=0.3)
    params = {**params, "loss_agg": loss_agg, "beta": 0.05}
    loss, _ = policy_loss(name, **inputs, **params)
    (grad,) = torch.autograd.grad(loss, inputs["logp"])

    counts = {"n_tokens": inputs["mask"].sum(), "n_seqs": 7, "max_len": 60}
    micro_losses = [
        policy_loss(name, **_micro_batch(inputs, rows), **counts, **params)[0]
        for rows in (slice(0, 2), slice(2, 5), slice(5, 7))
    ]
    accumulated = torch.stack(micro_losses).sum()
    (accumulated_grad,) = torch.autograd.grad(accumulated, inputs["logp"])

    torch.testing.assert_close(accumulated, loss, rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(accumulated_grad, grad, rtol=1e-10, atol=1e-14)


def test_default_counts_are_the_micro_batch_own(batch):
    inputs = batch.make(4, 30, seed=13)
    mask = inputs["mask"]
    for loss_agg, counts in [
        ("token-mean", {"n_tokens": mask.sum()}),
        ("seq-mean-token-mean", {"n_seqs": 4}),
        ("seq-mean-token-sum", {"n_seqs": 4}),
        ("seq-mean-token-sum-norm", {"n_seqs": 4, "max_len": 30}),
    ]:
        default, _ = policy_loss("ptrace", **inputs, loss_agg=loss_agg)
        explicit, _ = policy_loss("ptrace", **inputs, loss_agg=loss_agg, **counts)
        torch.testing.assert_close(default, explicit, rtol=0, atol=0)


def test_mask_norm_eligible_drops_low_entropy_rows_from_the_aggregation(batch):
    inputs = batch.make(4, 50, seed=14)
    loss, metrics = policy_loss(
        "strace", **inputs, loss_mask=True, mask_norm="eligible", loss_agg="token-mean", lam=0.0
    )
    valid = inputs["mask"].bool()
    eligible = valid & (inputs["entropy"] >= torch.quantile(inputs["entropy"][valid], 0.8))
    x = inputs["logp"] - inputs["old_logp"]
    rho = torch.exp(torch.where(eligible, x, 0))
    adv = inputs["advantages"][:, None]
    per_token = -torch.minimum(rho * adv, rho.clamp(0.8, 1.2) * adv)
    expected = per_token[eligible].sum() / eligible.sum()
    torch.testing.assert_close(loss, expected)
    assert metrics["eligible_frac"] == pytest.approx(eligible.sum().item() / inputs["mask"].sum().item())
