"""The W&B loader's frames, from fake runs shaped like ``wandb.Api().runs(...)`` (no network)."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pytest

from analysis import load, plots, tables, wandb_runs


@dataclass
class FakeRun:
    id: str
    name: str
    state: str
    config: dict
    history: list[dict]
    group: str | None = "toy_main"
    tags: list[str] = field(default_factory=list)
    summary: Mapping[str, object] = field(default_factory=dict)

    @property
    def path(self) -> list[str]:
        return ["E", "P", self.id]

    def scan_history(self) -> Iterable[dict]:
        return iter(self.history)


def _history(reward0: float, passes: list[float]) -> list[dict]:
    """Two training rows as the metrics.jsonl mirror logs them, then an evaluation at step 2."""
    rows = [
        {
            "step": step,
            "_step": step - 1,
            "_runtime": 3.0 * step + 0.5,  # W&B's own clock: not the run's time/wall
            "train/loss": 0.1,
            "train/reward_mean": reward0 + 0.1 * step,
            "train/accuracy": reward0 / 2,
            "train/tokens": 100 * step,
            "train/prompts": 4 * step,
            "time/wall": 3.0 * step,
        }
        for step in (1, 2)
    ]
    rows.append(
        {
            "step": 2,
            "_step": 2,
            "eval/arith_test/pass@1": passes[0],
            "eval/avg/pass@1": passes[0],
            "eval/samples": {"_type": "table-file"},
        }
    )
    rows.append({"_step": 3, "system/cpu": 12.0})  # no step metric: not a metrics line
    return rows


def _config(method: str, seed: int) -> dict:
    return {
        "method": {"name": method, "clip_high": 0.2},
        "model": {"name": "tiny"},
        "trainer": {"seed": seed},
        "logger": {"wandb": {"mode": "online"}},
        "learning_rate": 3e-4,
        "model_type": "qwen3",
    }


@pytest.fixture
def sweep() -> load.Sweep:
    runs = [
        FakeRun("a", "grpo-tiny-s0", "finished", _config("grpo", 0), _history(0.2, [0.5])),
        FakeRun("b", "grpo-tiny-s1", "finished", _config("grpo", 1), _history(0.4, [0.7])),
        FakeRun("c", "strace-tiny-s0", "crashed", _config("strace", 0), _history(0.3, [0.9])),
    ]
    return wandb_runs.sweep_from_runs(runs, "E/P")


def test_runs_frame_keeps_the_harness_config_only(sweep: load.Sweep) -> None:
    assert sweep.config_keys == [
        "method.name",
        "method.clip_high",
        "model.name",
        "trainer.seed",
        "logger.wandb.mode",
    ]
    assert sweep.runs[["run", "name", "status", "group", "method.name"]].values.tolist() == [
        ["wandb:E/P/a", "grpo-tiny-s0", "finished", "toy_main", "grpo"],
        ["wandb:E/P/b", "grpo-tiny-s1", "finished", "toy_main", "grpo"],
        ["wandb:E/P/c", "strace-tiny-s0", "failed", "toy_main", "strace"],
    ]


def test_history_rows_are_metrics_jsonl_rows(sweep: load.Sweep) -> None:
    assert sorted(sweep.steps.columns) == [
        "run",
        "step",
        "time/wall",
        "train/accuracy",
        "train/loss",
        "train/prompts",
        "train/reward_mean",
        "train/tokens",
    ]
    first = sweep.steps[sweep.steps["run"] == "wandb:E/P/a"]
    assert first["train/reward_mean"].tolist() == pytest.approx([0.3, 0.4])
    assert first["train/tokens"].tolist() == [100, 200]
    assert first["time/wall"].tolist() == [
        3.0,
        6.0,
    ]
    assert sorted(sweep.evals.columns) == [
        "eval/arith_test/pass@1",
        "eval/avg/pass@1",
        "run",
        "step",
    ]
    assert sweep.problems.empty


def test_tables_and_plots_work_on_wandb_frames(sweep: load.Sweep) -> None:
    table = tables.main_table(sweep, k=1)
    assert list(table.mean.columns) == ["arith_test"]  # one benchmark: no "Avg." repeating it
    assert table.mean.at[("tiny", "grpo"), "arith_test"] == pytest.approx(statistics.mean([0.5, 0.7]))
    assert table.count.at[("tiny", "grpo"), "arith_test"] == 2
    assert table.text(("tiny", "strace"), "arith_test") == "—"  # crashed: listed, never averaged
    (ax,) = plots.training_curves(sweep, "train/reward_mean").axes
    handles, labels = ax.get_legend_handles_labels()
    assert labels == ["GRPO"]
    assert handles[0].get_ydata()[-1] == pytest.approx(statistics.mean([0.4, 0.6]))
