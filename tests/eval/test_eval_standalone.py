"""``python -m harness.eval`` on a training run: accepts the run dir, labels results with the
checkpoint's real step, and never writes a training run's own files (issue 12)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from harness.config.eval import EvaluateConfig
from harness.errors import ConfigError
from harness.eval import __main__ as eval_cli
from harness.eval.__main__ import output_dir, resolve_target

REPO = Path(__file__).resolve().parents[2]
RUN_FILES = ["config.yaml", "run.json", "metrics.jsonl", "eval/step-4/summary.json"]


@pytest.fixture
def training_run(tiny_checkpoint: Path, tmp_path: Path) -> Path:
    """A finished 4-step training run dir (as harness.train writes it), its model the tiny checkpoint."""
    run = tmp_path / "outputs" / "arith-tiny-grpo" / "trainer.seed-1"
    shutil.copytree(tiny_checkpoint, run / "final", ignore=shutil.ignore_patterns("trainer_state.json"))
    ckpt = run / "checkpoints" / "checkpoint-3"
    shutil.copytree(tiny_checkpoint, ckpt)
    (ckpt / "trainer_state.json").write_text(json.dumps({"global_step": 3}))
    (run / "config.yaml").write_text("trainer:\n  steps: 4\n")
    (run / "run.json").write_text(
        json.dumps({"kind": "train", "status": "finished", "steps": 4, "last_step": 4})
    )
    (run / "metrics.jsonl").write_text('{"step": 4, "eval/avg/pass@1": 0.5}\n')
    (run / "eval" / "step-4").mkdir(parents=True)
    (run / "eval" / "step-4" / "summary.json").write_text("{}")
    return run


def conf(out_dir: str = "") -> EvaluateConfig:
    cfg = EvaluateConfig(checkpoint="x", benchmark={"b": {}})
    cfg.eval.out_dir = out_dir
    return cfg


def test_a_run_dir_means_its_final_model_at_the_runs_last_step(training_run: Path) -> None:
    target = resolve_target(str(training_run))
    assert (target.model, target.step, target.run_dir, target.label) == (
        str(training_run / "final"),
        4,
        training_run,
        "final",
    )
    assert resolve_target(str(training_run / "final")) == target
    assert output_dir(conf(), target) == training_run / "eval" / "standalone" / "final"
    ckpt = resolve_target(str(training_run / "checkpoints" / "checkpoint-3"))
    assert (ckpt.step, ckpt.label) == (3, "checkpoint-3")
    assert output_dir(conf(), ckpt) == training_run / "eval" / "standalone" / "checkpoint-3"


def test_a_run_without_final_points_at_its_checkpoints(training_run: Path) -> None:
    shutil.rmtree(training_run / "final")
    with pytest.raises(
        ConfigError,
        match=rf"no final/ yet \(status finished\); evaluate a checkpoint instead, "
        rf"e.g. checkpoint={training_run}/checkpoints/checkpoint-3",
    ):
        resolve_target(str(training_run))


@pytest.mark.parametrize("inside", ["", "eval", "eval/standalone", "checkpoints"])
def test_out_dir_inside_a_training_run_is_refused(training_run: Path, inside: str) -> None:
    target = resolve_target(str(training_run))
    with pytest.raises(
        ConfigError, match=rf"eval.out_dir={training_run / inside}".rstrip("/") + ": inside the training run"
    ):
        output_dir(conf(str(training_run / inside)), target)
    assert (
        output_dir(conf(str(training_run / "eval/standalone/mine")), target)
        == training_run / "eval/standalone/mine"
    )


def test_eval_of_a_run_dir_writes_only_under_eval_standalone(
    training_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = {name: (training_run / name).read_bytes() for name in RUN_FILES}
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "prog",
            "checkpoint=outputs/arith-tiny-grpo/trainer.seed-1",
            "benchmark=[arith_test]",
            "eval.n=2",
            "eval.k=[1,2]",
            "eval.max_new_tokens=4",
            "eval.progress=false",
            "benchmark.arith_test.n_problems=3",
        ],
    )
    eval_cli.cli()  # harness-eval, in this process
    assert {name: (training_run / name).read_bytes() for name in RUN_FILES} == before
    out = training_run / "eval" / "standalone" / "final"
    record = json.loads((out / "run.json").read_text())
    assert (record["kind"], record["status"], record["steps"]) == ("eval", "finished", 4)
    assert [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()] == [4]
    assert (out / "eval" / "step-4" / "records.parquet").is_file()
    assert sorted(p.name for p in (training_run / "eval").iterdir()) == ["standalone", "step-4"]
