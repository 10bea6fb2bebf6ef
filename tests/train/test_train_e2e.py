"""Real tiny training runs through the CLI: every method, kill-and-resume, determinism."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
import yaml

from tests.conftest import METHODS
from tests.train.runs import read_metrics, run_train, train_rows
from tests.wandb_files import history_rows, wandb_config

pytestmark = pytest.mark.slow  # real tiny training runs through the CLI
TRAIN_KEYS = {
    "train/reward_mean",
    "train/reward_std",
    "train/accuracy",
    "train/response_length",
    "train/clip_frac",
    "train/entropy",
    "train/tokens",
    "train/prompts",
    "time/wall",
}


@pytest.mark.parametrize("method", METHODS)
def test_every_method_trains_end_to_end(method: str, method_runs: dict[str, Path]) -> None:
    run_dir = method_runs[method]
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "finished"
    assert record["name"].startswith(method)
    assert f"method:{method}" in record["tags"]
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert config["method"]["name"] == method
    rows = train_rows(run_dir)
    assert [r["step"] for r in rows] == [1, 2]
    assert set(rows[0]) >= TRAIN_KEYS
    # 4 prompts x 4 samples per step: cumulative prompts count exactly.
    assert [r["train/prompts"] for r in rows] == [4, 8]
    assert 0 <= rows[-1]["train/accuracy"] <= 1
    evals = [r for r in read_metrics(run_dir) if "eval/avg/pass@1" in r]
    assert [r["step"] for r in evals] == [0, 2]
    assert (run_dir / "eval" / "step-2" / "records.parquet").exists()
    assert (run_dir / "final" / "config.json").exists()


def test_wandb_mirrors_metrics_jsonl_and_holds_our_config_only(method_runs: dict[str, Path]) -> None:
    """W&B gets exactly the metrics.jsonl rows (same keys, same step) and the harness config, no TRL keys."""
    run_dir = method_runs["strace"]
    (wandb_file,) = run_dir.glob("wandb/offline-run-*/run-*.wandb")
    logged = [
        {k: v for k, v in row.items() if not k.startswith("_") and not k.startswith("eval/samples")}
        for row in history_rows(wandb_file)
    ]
    logged = [row for row in logged if set(row) != {"step"}]  # a samples-table row's step
    assert logged == read_metrics(run_dir)
    config = wandb_config(wandb_file)
    assert {"method", "model", "task", "trainer", "eval"} <= set(config)
    assert not {"loss_type", "top_entropy_quantile", "importance_sampling_level", "learning_rate"} & set(
        config
    )
    assert config["method"]["entropy_quantile"] == 0.2


def test_killed_run_resumes_without_duplicated_or_missing_steps(tmp_path: Path, warm_cache: Path) -> None:
    """Kill -9 inside step 3 (a fault point), after the step-2 checkpoint; the same command finishes the run, equal to an uninterrupted one."""
    steps = ["trainer.steps=4", "trainer.save_steps=2", "method=ptrace"]
    killed = tmp_path / "killed"
    run = run_train(killed, warm_cache, *steps, check=False, kill_at="step:3")  # checkpoint-2 is written
    assert run.returncode == -signal.SIGKILL, run.stderr[-3000:]
    assert sorted(p.name for p in (killed / "checkpoints").glob("checkpoint-*")) == ["checkpoint-2"]
    first_id = json.loads((killed / "run.json").read_text())["wandb_id"]
    assert json.loads((killed / "run.json").read_text())["status"] == "running"

    resumed = run_train(killed, warm_cache, *steps)
    assert "resuming from" in resumed.stdout + resumed.stderr
    record = json.loads((killed / "run.json").read_text())
    assert record["status"] == "finished"
    assert record["wandb_id"] == first_id
    rows = train_rows(killed)
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert [r["step"] for r in read_metrics(killed) if "eval/avg/pass@1" in r] == [0, 4]

    straight = tmp_path / "straight"
    run_train(straight, warm_cache, *steps)
    drop = {"time/wall"}
    for a, b in zip(train_rows(straight), rows, strict=True):
        assert {k: v for k, v in a.items() if k not in drop} == pytest.approx(
            {k: v for k, v in b.items() if k not in drop}, rel=1e-4, abs=1e-6
        )


def test_finished_run_is_skipped(tmp_path: Path, warm_cache: Path) -> None:
    run_dir = tmp_path / "run"
    run_train(run_dir, warm_cache, "trainer.steps=1")
    before = (run_dir / "metrics.jsonl").read_text()
    again = run_train(run_dir, warm_cache, "trainer.steps=1")
    assert "already finished" in again.stdout
    assert (run_dir / "metrics.jsonl").read_text() == before


def test_mini_batches_make_the_clipped_ratio_engage(
    tmp_path: Path, warm_cache: Path, method_runs: dict[str, Path]
) -> None:
    """One update per rollout: ratio 1, nothing clipped. Two mini-batches: the second update's
    ratios have moved, so clipping engages (the papers' protocol, trainer=paper)."""
    assert all(r["train/clip_frac"] == 0 for r in train_rows(method_runs["grpo"]))
    run_dir = tmp_path / "mini"
    learns = [
        "model.warm_start.steps=50",
        "model.warm_start.batch_size=16",
        "model.warm_start.lr=0.01",
        "trainer.max_completion_length=40",
        "eval.max_new_tokens=40",
        "trainer.format_reward_weight=0.5",
    ]  # rewards that vary within a group: non-zero updates
    run_train(
        run_dir,
        warm_cache,
        "method=grpo",
        "trainer.steps=4",
        "trainer.mini_batches=2",
        "trainer.lr=3e-3",
        "method.clip_low=0.05",
        "method.clip_high=0.05",
        *learns,
    )
    rows = train_rows(run_dir)
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert [r["train/prompts"] for r in rows] == [4, 4, 8, 8]  # 2 rollouts of 4 prompts, 2 updates each
    assert max(r["train/clip_frac"] for r in rows) > 0
