"""The Four Quadrant metrics: gradient masses by advantage sign × entropy, and their shares."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from analysis import load, plots, report
from harness.config.schema import register_configs
from harness.methods import METHODS, policy_loss
from harness.methods.quadrants import MASS_KEYS, QUADRANTS, shares
from harness.training.callbacks import train_row
from tests.analysis.synthetic_runs import RunSpec, write_run
from tests.train.trainers import random_batch, tiny_trainer

register_configs()  # what the entry points do before composing


def brute_force_masses(grad, adv, entropy, valid):
    """Σ|grad| per quadrant, the median by torch.quantile over the valid entropies."""
    high = valid & (entropy >= torch.quantile(entropy[valid], 0.5))
    a = adv[:, None].expand_as(grad) if adv.dim() == 1 else adv
    g = grad.abs()
    return {
        "grad_pos_high": g[valid & (a > 0) & high].sum().item(),
        "grad_pos_low": g[valid & (a > 0) & ~high].sum().item(),
        "grad_neg_high": g[valid & (a < 0) & high].sum().item(),
        "grad_neg_low": g[valid & (a < 0) & ~high].sum().item(),
    }


@pytest.mark.parametrize("name", sorted(METHODS))
def test_masses_are_the_loss_gradient_split_by_quadrant(batch, name):
    inputs = batch.make(6, 40, seed=80, scale=0.3)
    inputs["advantages"][2] = 0.0  # in no quadrant
    loss, metrics = policy_loss(name, **inputs, beta=0.02)
    (grad,) = torch.autograd.grad(loss, inputs["logp"])
    expected = brute_force_masses(grad, inputs["advantages"], inputs["entropy"], inputs["mask"].bool())
    assert {k: metrics[k] for k in MASS_KEYS} == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_grpo_shares_follow_the_token_counts(batch):
    """On-policy, token-mean, |A| equal: every valid token gets |A|/N, so shares = token shares."""
    inputs = batch.make(8, 30, seed=81, scale=0.0)
    inputs["advantages"] = torch.tensor([1.0, -1.0] * 4, dtype=torch.float64)
    _, metrics = policy_loss("grpo", **inputs, loss_agg="token-mean")
    valid = inputs["mask"].bool()
    high = valid & (inputs["entropy"] >= torch.quantile(inputs["entropy"][valid], 0.5))
    pos = (inputs["advantages"] > 0)[:, None]
    counts = {
        "pos_high": (pos & high).sum(),
        "pos_low": (pos & valid & ~high).sum(),
        "neg_high": (~pos & high).sum(),
        "neg_low": (~pos & valid & ~high).sum(),
    }
    expected = {q: c.item() / valid.sum().item() for q, c in counts.items()}
    assert shares(metrics) == pytest.approx(expected, rel=1e-12)


def test_hapo_moves_gradient_mass_to_high_entropy_tokens(batch):
    inputs = batch.make(8, 60, seed=82, scale=0.1)
    _, grpo = policy_loss("grpo", **inputs)
    _, hapo = policy_loss("hapo", **inputs, alpha=2.0)
    grpo_high, hapo_high = (shares(m)["pos_high"] + shares(m)["neg_high"] for m in (grpo, hapo))
    assert hapo_high > grpo_high + 0.1


def test_no_masses_without_entropy_or_gradient(batch):
    inputs = batch.make(3, 10, seed=83)
    assert not set(MASS_KEYS) & set(policy_loss("grpo", **{**inputs, "entropy": None})[1])
    with torch.no_grad():
        assert not set(MASS_KEYS) & set(policy_loss("grpo", **inputs)[1])


def test_the_extra_backward_leaves_the_callers_gradient_alone(batch):
    inputs = batch.make(5, 30, seed=84, scale=0.3)
    loss, _ = policy_loss("ptrace", **inputs)
    loss.backward()
    fresh = {k: v.detach().clone() for k, v in inputs.items()}
    fresh["logp"].requires_grad_()
    reference, _ = policy_loss("ptrace", **{**fresh, "entropy": None})
    reference.backward()
    assert torch.equal(inputs["logp"].grad, fresh["logp"].grad)


def test_shares_sum_to_one_and_are_empty_without_mass():
    masses = {"grad_pos_high": 3.0, "grad_pos_low": 1.0, "grad_neg_high": 0.0, "grad_neg_low": 4.0}
    assert shares(masses) == {"pos_high": 0.375, "pos_low": 0.125, "neg_high": 0.0, "neg_low": 0.5}
    assert shares(dict.fromkeys(MASS_KEYS, 0.0)) == {}
    assert shares({"grad_pos_high": 1.0}) == {}
    assert shares({**masses, "grad_neg_low": math.nan}) == {}


def test_train_row_logs_the_shares_under_train_quadrant():
    logs = {
        "loss": 0.1,
        "method/clip_frac": 0.0,
        **{f"method/{k}": v for k, v in zip(MASS_KEYS, [1.0, 1.0, 2.0, 0.0], strict=True)},
    }
    row = train_row(logs, wall=1.0)
    assert {f"train/quadrant/{q}": row[f"train/quadrant/{q}"] for q in QUADRANTS} == {
        "train/quadrant/pos_high": 0.25,
        "train/quadrant/pos_low": 0.25,
        "train/quadrant/neg_high": 0.5,
        "train/quadrant/neg_low": 0.0,
    }
    assert row["train/method/grad_neg_high"] == 2.0  # the masses stay, as every method metric
    no_mass = train_row({**logs, **{f"method/{k}": 0.0 for k in MASS_KEYS}}, wall=1.0)
    assert not any(k.startswith("train/quadrant/") for k in no_mass)


@pytest.mark.slow
def test_every_methods_metrics_carry_the_quadrant_masses(method_runs: dict[str, Path]) -> None:
    """The real tiny runs (tests/conftest.py): each training row has the masses, and the shares
    whenever some token with A ≠ 0 got a gradient."""
    for method, run_dir in method_runs.items():
        rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
        train = [r for r in rows if "train/loss" in r]
        assert train, method
        for row in train:
            masses = {k: row[f"train/method/{k}"] for k in MASS_KEYS}
            if sum(masses.values()) > 0:
                quadrant = [row[f"train/quadrant/{q}"] for q in QUADRANTS]
                assert sum(quadrant) == pytest.approx(1.0), method


def test_quadrant_figure_stacks_each_variants_mean_shares(tmp_path: Path) -> None:
    """One bar per method, its four segments the shares (%) averaged over steps, then seeds."""
    shares_by_run = {
        ("grpo", 0): [0.25, 0.25, 0.25, 0.25],
        ("grpo", 1): [0.35, 0.15, 0.25, 0.25],
        ("hapo", 0): [0.5, 0.1, 0.3, 0.1],
    }
    for (method, seed), values in shares_by_run.items():
        spec = RunSpec(f"{method}-{seed}", method, "tiny", seed)
        metrics = write_run(tmp_path / spec.job, spec) / "metrics.jsonl"
        rows = [json.loads(line) for line in metrics.read_text().splitlines()]
        for row in rows:
            if "train/reward_mean" in row and row["step"] != 3:  # step 3: no gradient, no shares
                row.update({f"train/quadrant/{q}": v for q, v in zip(QUADRANTS, values, strict=True)})
        metrics.write_text("".join(json.dumps(row) + "\n" for row in rows))
    sweep = load.load_sweeps(tmp_path)
    assert "quadrant_shares" in report.figures(sweep, k=1)  # make tables draws it
    (ax,) = plots.quadrant_shares(sweep).axes[:1]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["GRPO", "HAPO"]
    widths = [[patch.get_width() for patch in container] for container in ax.containers]
    expected = [[30.0, 50.0], [20.0, 10.0], [25.0, 30.0], [25.0, 10.0]]  # per quadrant: GRPO, HAPO
    assert widths == [pytest.approx(row) for row in expected]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [
        "A > 0, high entropy",
        "A > 0, low entropy",
        "A < 0, high entropy",
        "A < 0, low entropy",
    ]


def test_the_trl_adapter_logs_the_masses_and_train_row_turns_them_into_shares(tmp_path: Path) -> None:
    """HarnessGRPOTrainer._compute_loss -> TRL's metric lists -> one metrics.jsonl row."""
    trainer = tiny_trainer("hapo", tmp_path)
    batch = random_batch()
    trainer.model.train()
    trainer.current_gradient_accumulation_steps = 1
    trainer._compute_loss(trainer.model, batch).backward()
    logged = {k: sum(v) / len(v) for k, v in trainer._metrics["train"].items()}
    assert all(logged[f"method/{key}"] > 0 for key in MASS_KEYS)
    row = train_row({**logged, "loss": 0.0}, wall=1.0)
    assert sum(row[f"train/quadrant/{q}"] for q in QUADRANTS) == pytest.approx(1.0)
