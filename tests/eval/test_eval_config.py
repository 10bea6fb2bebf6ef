"""EvalConfig / BenchmarkConfig validation and the Hydra config groups."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from harness.config.eval import BenchmarkConfig, EvalConfig, EvaluateConfig, benchmarks_from, eval_config_from

CONF = Path(__file__).resolve().parents[2] / "conf"
HUB = {
    "math500": ("HuggingFaceH4/MATH-500", "test", "problem", "answer", "unique_id"),
    "aime24": ("HuggingFaceH4/aime_2024", "train", "problem", "answer", "id"),
    "aime25": ("math-ai/aime25", "test", "problem", "answer", "id"),
    "amc23": ("math-ai/amc23", "test", "question", "answer", ""),
    "minerva": ("math-ai/minervamath", "test", "question", "answer", ""),
    "olympiadbench": ("math-ai/olympiadbench", "test", "question", "answer", ""),
}


def _compose(overrides: list[str]) -> EvaluateConfig:
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("evaluate", overrides=["checkpoint=ckpt", *overrides])
    return OmegaConf.to_object(cfg)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n": 0}, "eval.n"),
        ({"n": 8}, "eval.k"),  # default k has 16
        ({"k": []}, "eval.k"),
        ({"k": [0, 1]}, "eval.k"),
        ({"k": [1, 1]}, "eval.k"),
        ({"temperature": -0.1}, "eval.temperature"),
        ({"top_p": 0.0}, "eval.top_p"),
        ({"max_new_tokens": 0}, "eval.max_new_tokens"),
        ({"batch_size": 0}, "eval.batch_size"),
        ({"backend": "tpu"}, "eval.backend"),
        ({"interval": -1}, "eval.interval"),
    ],
)
def test_eval_config_errors_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field}:"):
        EvalConfig(**kwargs)


def test_eval_config_defaults_and_k_sorted() -> None:
    cfg = EvalConfig(n=8, k=[8, 1, 4])
    assert cfg.k == [1, 4, 8]
    d = EvalConfig()
    assert (d.n, d.k, d.temperature, d.top_p, d.backend) == (16, [1, 4, 16], 0.6, 0.95, "hf")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"source": "ftp"}, "source"),
        ({"source": "hub"}, "hub"),
        ({"source": "local"}, "path"),
        ({"source": "arith", "limit": -1}, "limit"),
        ({"source": "arith", "n_operations": 0}, "n_operations"),
        ({"source": "arith", "on_unparsable": "ignore"}, "on_unparsable"),
    ],
)
def test_benchmark_config_errors_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=rf"^benchmark\.b\.{field}:"):
        BenchmarkConfig(name="b", **kwargs)


def test_hydra_multiselect_builds_a_dict_of_benchmarks() -> None:
    conf = _compose(["benchmark=[math500,aime24]", "eval.n=4", "eval.k=[1,4]"])
    assert list(conf.benchmark) == ["math500", "aime24"]
    assert all(isinstance(b, BenchmarkConfig) for b in conf.benchmark.values())
    assert conf.eval.n == 4
    assert conf.eval.k == [1, 4]
    assert conf.checkpoint == "ckpt"
    assert conf.step == -1


def test_eval_default_is_the_dataclass_defaults() -> None:
    assert _compose([]).eval == EvalConfig()
    restated = OmegaConf.load(CONF / "eval" / "default.yaml")  # k only, for analysis/dashboard.py
    assert set(restated) == {"defaults", "k"}
    assert list(restated.k) == EvalConfig().k


def test_default_benchmarks_are_offline_arith_splits() -> None:
    conf = _compose([])
    assert {k: (b.source, b.n_operations) for k, b in conf.benchmark.items()} == {
        "arith_test": ("arith", 2),
        "arith_hard": ("arith", 4),
    }


def test_every_hub_benchmark_config_composes() -> None:
    conf = _compose([f"benchmark=[{','.join(HUB)}]"])
    for name, (hub, split, problem, answer, pid) in HUB.items():
        b = conf.benchmark[name]
        assert (b.name, b.source, b.hub, b.split) == (name, "hub", hub, split)
        assert (b.problem_key, b.answer_key, b.id_key) == (problem, answer, pid)


@pytest.mark.parametrize(
    "override",
    ["eval.nn=3", "benchmark.arith_test.stepz=3", "eval.n=abc"],
)
def test_typos_and_bad_types_fail_at_composition(override: str) -> None:
    with pytest.raises(ConfigCompositionException, match=r"eval\.nn|stepz|abc"):
        _compose([override])


@pytest.mark.parametrize(
    ("override", "field"),
    [("eval.n=2", "eval.k"), ("benchmark.arith_test.n_problems=0", "benchmark.arith_test.n_problems")],
)
def test_out_of_range_fails_when_built(override: str, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        _compose([override])


def test_builders_accept_dicts_and_reject_unknown_keys() -> None:
    assert eval_config_from({"n": 2, "k": [1, 2]}).n == 2
    with pytest.raises(ValueError, match="eval"):
        eval_config_from({"nn": 2})
    benches = benchmarks_from({"a": {"source": "arith"}, "b": {"source": "arith", "n_operations": 3}})
    assert [(b.name, b.n_operations) for b in benches.values()] == [("a", 2), ("b", 3)]
    assert list(benchmarks_from([BenchmarkConfig(name="x", source="arith")])) == ["x"]
    with pytest.raises(ValueError, match=r"benchmark\.a"):
        benchmarks_from({"a": {"source": "arith", "colour": 1}})
