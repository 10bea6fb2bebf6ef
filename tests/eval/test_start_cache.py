"""The warm start's step-0 evaluation, kept once and copied into each run (harness.eval.start_cache)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from harness.config.eval import EvalConfig
from harness.eval.start_cache import keep, reuse, start_eval_dir

BENCH = {"arith_test": {"name": "arith_test", "source": "arith", "n_problems": 8}}


def _eval_dir(root: Path, metrics: dict[str, float]) -> Path:
    d = root / "eval" / "step-0"
    d.mkdir(parents=True)
    (d / "summary.json").write_text(json.dumps({"step": 0, "metrics": metrics}))
    (d / "records.parquet").write_bytes(b"rows")
    return d


def test_the_key_follows_what_changes_the_scores_only(tmp_path: Path) -> None:
    warm = tmp_path / "warmstart" / "tiny-abc"
    base = start_eval_dir(warm, EvalConfig(n=4, k=[1, 4]), BENCH)
    assert base.parent == warm.parent
    assert base.name.startswith("tiny-abc.eval0-")
    assert start_eval_dir(warm, EvalConfig(n=4, k=[1, 4], progress=False, interval=5), BENCH) == base
    assert start_eval_dir(warm, EvalConfig(n=8, k=[1, 4]), BENCH) != base
    assert start_eval_dir(warm, EvalConfig(n=4, k=[1, 4], temperature=1.0), BENCH) != base
    other = {"arith_test": {**BENCH["arith_test"], "n_problems": 9}}
    assert start_eval_dir(warm, EvalConfig(n=4, k=[1, 4]), other) != base
    assert start_eval_dir(warm.with_name("tiny-def"), EvalConfig(n=4, k=[1, 4]), BENCH) != base


def test_a_kept_evaluation_is_copied_whole_and_its_metrics_returned(tmp_path: Path) -> None:
    shared = tmp_path / "warmstart" / "tiny-abc.eval0-k"
    shared.parent.mkdir()
    dest = tmp_path / "run2" / "eval" / "step-0"
    assert reuse(shared, dest) is None
    assert not dest.exists()
    keep(_eval_dir(tmp_path / "run1", {"eval/arith_test/pass@1": 0.25}), shared)
    keep(_eval_dir(tmp_path / "run3", {"eval/arith_test/pass@1": 0.5}), shared)  # a racing run: first stays
    assert reuse(shared, dest) == {"eval/arith_test/pass@1": 0.25}
    assert (dest / "records.parquet").read_bytes() == b"rows"
    assert sorted(p.name for p in shared.parent.iterdir()) == ["tiny-abc.eval0-k"]  # no partial left


def test_a_run_from_a_kept_warm_start_copies_step_0_and_evaluates_later_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hydra import compose, initialize_config_dir

    from harness.config.schema import register_configs, validate
    from harness.eval import runner
    from harness.run.run_dir import MetricsLog
    from harness.training.execute import Evaluator

    sampled: list[tuple[str, int]] = []

    def fake_evaluate(model, tokenizer, benchmarks, eval_cfg, *, step: int, run_dir: Path, **_):
        sampled.append((Path(run_dir).name, step))
        metrics = {"eval/arith_test/pass@1": 0.25 + step}
        out = _eval_dir(Path(run_dir) / "tmp" / str(step), metrics)
        dest = runner.step_dir(run_dir, step)
        dest.parent.mkdir(parents=True, exist_ok=True)
        out.rename(dest)
        return runner.EvalResult(step, metrics, [], None, {}, dest)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "evaluate", fake_evaluate)
    register_configs()
    conf = str(Path(__file__).resolve().parents[2] / "conf")
    with initialize_config_dir(conf, version_base="1.3"):
        cfg = validate(compose("train", overrides=["method=grpo", "logger=none"]))
    warm = tmp_path / "warmstart" / "tiny-abc"
    model = torch.nn.Linear(1, 1)
    for name in ("run1", "run2"):
        run_dir = tmp_path / name
        run_dir.mkdir()
        evaluator = Evaluator(cfg, None, run_dir, MetricsLog(run_dir), None, warm)  # type: ignore[arg-type]
        assert evaluator(model, 0) == {"eval/arith_test/pass@1": 0.25}
        assert evaluator(model, 80) == {"eval/arith_test/pass@1": 80.25}
        assert (run_dir / "eval" / "step-0" / "records.parquet").read_bytes() == b"rows"
        assert evaluator.stored(0) == {"eval/arith_test/pass@1": 0.25}  # its metrics row was written
    assert sampled == [("run1", 0), ("run1", 80), ("run2", 80)]  # run2's step 0 is run1's, copied
