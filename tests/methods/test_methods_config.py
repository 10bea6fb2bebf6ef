"""Method configs (the Hydra schemas) and the advantage estimator."""

from __future__ import annotations

import math
import re
from dataclasses import fields
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.config.schema import register_configs, validate
from harness.errors import ConfigError
from harness.methods import (
    METHODS,
    GRPOLambdaLossConfig,
    GRPOLossConfig,
    STraceLossConfig,
    compute_advantages,
    get_method_config,
)
from harness.train import run_name

register_configs()  # what the entry points do before composing

FAST = settings(max_examples=25, deadline=None, database=None)

EXPECTED_DEFAULTS = {
    "grpo": {
        "clip_low": 0.2,
        "clip_high": 0.2,
        "loss_agg": "seq-mean-token-mean",
        "beta": 0.0,
        "adv_clamp": -math.inf,
        "dual_clip": None,
    },
    "grpo_lambda": {  # the authors' released example (METHODS.md, "GRPO-λ as released")
        "form": "released",
        "placement": "ratio",
        "style": "both",
        "lam": 0.99,
        "gamma": 1.0,
        "trace_length": "max",
        "normalize": False,
        "adv_clamp": -0.1,
        "weight_norm": False,
        "clip_low": 0.2,
        "clip_high": 0.2,
        "loss_agg": "token-mean",
    },
    "gspo": {"clip_low": 3e-4, "clip_high": 4e-4, "loss_agg": "seq-mean-token-mean"},
    "ptrace": {
        "style": "recent",
        "normalize": True,
        "lam": 0.99,
        "clip_low": 0.2,
        "clip_high": 0.2,
        "loss_agg": "seq-mean-token-mean",
    },
    "strace": {
        "style": "recent",
        "normalize": True,
        "lam": 0.99,
        "entropy_quantile": 0.2,
        "entropy_scope": "batch",
        "loss_mask": False,
        "mask_norm": "all",
    },
    "hapo": {  # our reconstruction (METHODS.md § HAPO)
        "alpha": 1.0,
        "w_min": 0.1,
        "w_max": None,
        "polarity": "both",
        "clip_low": 0.2,
        "clip_high": 0.2,
        "loss_agg": "seq-mean-token-mean",
    },
    "cispo": {
        "clip_low": 1.0,
        "clip_high": 4.0,
        "loss_agg": "token-mean",
        "dual_clip": None,
    },  # TRL: ε_max = 5
    "gmpo": {"clip_low": 0.4, "clip_high": 0.4, "loss_agg": "seq-mean-token-mean"},  # verl's GMPO example
    "sapo": {"tau_pos": 1.0, "tau_neg": 1.05, "loss_agg": "seq-mean-token-mean"},  # TRL and verl
}


def test_the_nine_methods_are_registered():
    assert set(METHODS) == set(EXPECTED_DEFAULTS)


@pytest.mark.parametrize("name", sorted(EXPECTED_DEFAULTS))
def test_defaults_follow_the_spec(name):
    cfg = get_method_config(name)
    assert cfg.name == name
    for field, value in EXPECTED_DEFAULTS[name].items():
        assert getattr(cfg, field) == value, field


@pytest.mark.parametrize("name", sorted(EXPECTED_DEFAULTS))
def test_config_is_a_plain_structured_config_schema(name):
    config = METHODS[name].config
    for f in fields(config):
        assert f.type in ("str", "int", "float", "bool", "float | None"), f.name
    config()  # every field has a default
    omegaconf = pytest.importorskip("omegaconf")
    built = omegaconf.OmegaConf.to_object(omegaconf.OmegaConf.structured(config))
    assert built == config()


@pytest.mark.parametrize(
    ("name", "field", "value", "allowed"),
    [
        ("grpo_lambda", "lam", 1.5, "[0.0, 1.0]"),
        ("ptrace", "lam", -0.1, "[0.0, 1.0]"),
        ("ptrace", "gamma", 2.0, "[0.0, 1.0]"),
        ("strace", "entropy_quantile", 0.0, "(0.0, 1.0]"),
        ("strace", "entropy_quantile", 1.2, "(0.0, 1.0]"),
        ("grpo", "clip_low", -0.1, "[0.0, 1.0]"),
        ("gspo", "clip_high", -1e-4, "[0.0, inf]"),
        ("grpo", "beta", -1.0, "[0.0, inf]"),
        ("grpo", "adv_clamp", 0.5, "[-inf, 0.0]"),
        ("grpo_lambda", "style", "newest", "recent, both, early"),
        ("grpo_lambda", "placement", "logit", "ratio, weight"),
        ("grpo_lambda", "form", "paper", "released, lag"),
        ("grpo_lambda", "trace_length", "all", "max, sequence"),
        ("grpo", "dual_clip", 1.0, "(1.0, inf]"),
        ("gspo", "dual_clip", "3", "float or None"),
        ("strace", "mask_norm", "valid", "all, eligible"),
        ("ptrace", "loss_agg", "mean", "token-mean, seq-mean-token-mean"),
        ("strace", "entropy_scope", "token", "batch, sequence"),
        ("grpo", "name", "ppo", "must be 'grpo' for GRPOLossConfig"),
        ("grpo", "name", "gspo", "must be 'grpo' for GRPOLossConfig"),
        ("ptrace", "normalize", "yes", "bool"),
        ("ptrace", "lam", "0.5", "float"),
        ("hapo", "alpha", -0.5, "[0.0, inf]"),
        ("hapo", "w_min", 1.5, "[0.0, 1.0]"),
        ("hapo", "w_max", 0.5, "must be >= 1"),
        ("hapo", "polarity", "positive", "both, pos, neg"),
        ("sapo", "tau_pos", 0.0, "(0.0, inf]"),
        ("sapo", "tau_neg", -1.0, "(0.0, inf]"),
        (
            "sapo",
            "clip_high",
            0.28,
            "has no effect in sapo (its soft gate replaces the clip); leave it at 0.2",
        ),
        ("sapo", "dual_clip", 3.0, "has no effect in sapo"),
        ("cispo", "dual_clip", 3.0, "has no effect in cispo"),
        ("gmpo", "dual_clip", 3.0, "has no effect in gmpo"),
    ],
)
def test_invalid_values_fail_at_construction_naming_the_field(name, field, value, allowed):
    with pytest.raises(ValueError, match=field) as error:
        METHODS[name].config(**{field: value})
    assert allowed in str(error.value)


def test_omegaconf_build_runs_the_validation():
    omegaconf = pytest.importorskip("omegaconf")
    cfg = omegaconf.OmegaConf.structured(STraceLossConfig)
    cfg.entropy_quantile = 0.0
    with pytest.raises(ValueError, match="entropy_quantile"):
        omegaconf.OmegaConf.to_object(cfg)


def test_unknown_method_lists_the_known_ones():
    known = "known methods: cispo, gmpo, grpo, grpo_lambda, gspo, hapo, ptrace, sapo, strace"
    with pytest.raises(ValueError, match=f"unknown method 'ppo'; {known}"):
        get_method_config("ppo")


def test_unknown_parameter_names_it_and_the_allowed_ones():
    with pytest.raises(ValueError, match=r"unknown parameter.*lam.*allowed: clip_low"):
        get_method_config("grpo", lam=0.5)


def test_ints_are_accepted_for_floats():
    assert get_method_config("ptrace", lam=1).lam == 1.0
    assert isinstance(GRPOLossConfig(clip_low=0).clip_low, float)


@FAST
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_lambda_and_gamma_accepted_exactly_in_unit_interval(value):
    for field in ("lam", "gamma"):
        if 0.0 <= value <= 1.0:
            assert getattr(GRPOLambdaLossConfig(**{field: value}), field) == value
        else:
            with pytest.raises(ValueError, match=field):
                GRPOLambdaLossConfig(**{field: value})


@FAST
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_entropy_quantile_accepted_exactly_in_half_open_unit_interval(value):
    if 0.0 < value <= 1.0:
        assert STraceLossConfig(entropy_quantile=value).entropy_quantile == value
    else:
        with pytest.raises(ValueError, match="entropy_quantile"):
            STraceLossConfig(entropy_quantile=value)


@FAST
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_clip_high_accepts_exactly_non_negative(value):
    if value >= 0:
        GRPOLossConfig(clip_high=value)
    else:
        with pytest.raises(ValueError, match="clip_high"):
            GRPOLossConfig(clip_high=value)


# compute_advantages


def test_group_advantages_match_the_formula():
    rewards = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.5, 0.0])
    groups = rewards.view(2, 4)
    expected = (groups - groups.mean(1, keepdim=True)) / (groups.std(1, keepdim=True, correction=1) + 1e-6)
    torch.testing.assert_close(compute_advantages(rewards, 4), expected.flatten())
    first = torch.tensor([1.0, 0.0, 0.0, 1.0])
    torch.testing.assert_close(compute_advantages(rewards, 4)[:4], (first - 0.5) / (math.sqrt(1 / 3) + 1e-6))


def test_batch_and_none_scaling_and_clamp():
    rewards = torch.tensor([1.0, 0.0, 2.0, 2.0, 3.0, 1.0])
    centred = torch.tensor([0.5, -0.5, 0.0, 0.0, 1.0, -1.0])
    torch.testing.assert_close(compute_advantages(rewards, 2, scale="none"), centred)
    torch.testing.assert_close(
        compute_advantages(rewards, 2, scale="batch"), centred / (rewards.std() + 1e-6)
    )
    clamped = compute_advantages(rewards, 2, scale="none", adv_clamp=-0.1)
    torch.testing.assert_close(clamped, centred.clamp(min=-0.1))


def test_constant_group_gives_zero_advantage():
    assert (compute_advantages(torch.ones(8), 4) == 0).all()


@pytest.mark.parametrize(
    ("rewards", "group_size", "scale", "match"),
    [
        (torch.ones(4), 1, "group", "group_size must be >= 2"),
        (torch.ones(10), 4, "group", "len\\(rewards\\)=10 is not divisible by group_size=4"),
        (torch.ones(8), 4, "prompt", "scale must be one of group, batch, none"),
        (torch.ones(2, 4), 4, "group", "rewards must be 1-D"),
    ],
)
def test_advantage_errors_name_the_problem(rewards, group_size, scale, match):
    with pytest.raises(ValueError, match=match):
        compute_advantages(rewards, group_size, scale=scale)


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"form": "lag", "style": "early"}, "style", "'early' exists in the released form only"),
        ({"form": "released", "style": "uniform"}, "style", "recent, both, early"),
        ({"form": "released", "weight_norm": True}, "weight_norm", "lag form only"),
        ({"form": "released", "normalize": True}, "normalize", "no normaliser"),
        ({"form": "lag", "trace_length": "sequence"}, "trace_length", "released form only"),
    ],
)
def test_grpo_lambda_form_specific_fields_are_checked(params, field, message):
    with pytest.raises(ValueError, match=f"^{field}: .*{message}"):
        GRPOLambdaLossConfig(**params)


@pytest.mark.parametrize(
    ("overrides", "expected", "name"),
    [
        (
            ["method=hapo", "method.alpha=2", "method.polarity=pos"],
            {"alpha": 2.0, "w_min": 0.1},
            "hapo-alpha2.0-pos",
        ),
        (["method=cispo", "method.clip_high=0.2"], {"clip_low": 1.0, "clip_high": 0.2}, "cispo"),
        (["method=gmpo"], {"clip_low": 0.4, "clip_high": 0.4}, "gmpo"),
        (["method=sapo", "method.tau_neg=2"], {"tau_pos": 1.0, "tau_neg": 2.0}, "sapo-tau_neg2.0"),
    ],
)
def test_new_methods_are_hydra_groups_with_typed_knobs(overrides, expected, name):
    cfg = validate(_compose(*overrides))
    assert type(cfg.method) is METHODS[overrides[0].split("=")[1]].config
    assert {k: getattr(cfg.method, k) for k in expected} == expected
    assert run_name(cfg) == f"{name}-tiny-s0"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["method=sapo", "method.clip_high=0.3"], "method.clip_high: has no effect in sapo"),
        (["method=cispo", "method.dual_clip=3"], "method.dual_clip: has no effect in cispo"),
        (["method=hapo", "method.polarity=up"], "method.polarity: must be one of both, pos, neg"),
        (["method=hapo", "method.alpha=-1"], "method.alpha: must be in [0.0, inf]"),
    ],
)
def test_new_methods_bad_values_fail_naming_the_key(overrides, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        validate(_compose(*overrides))


def _compose(*overrides: str):
    with initialize_config_dir(str(Path(__file__).resolve().parents[2] / "conf"), version_base="1.3"):
        return compose("train", overrides=list(overrides))
