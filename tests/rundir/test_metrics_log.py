"""metrics.jsonl: rows keyed by (kind, step), torn last lines dropped, resumes replay exactly once."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from harness.errors import RunDirError
from harness.run.run_dir import METRICS_FILE, MetricsLog, RunRecord, read_metrics

TRAIN = {"train/loss": 0.5}
EVAL = {"eval/avg/pass@1": 0.25}


def lines(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / METRICS_FILE).read_text().splitlines()]


def test_a_row_is_replaced_not_appended_per_kind_and_step(tmp_path: Path) -> None:
    log = MetricsLog(tmp_path)
    log.write(0, EVAL)
    log.write(1, TRAIN)
    log.write(0, {"eval/avg/pass@1": 0.5})  # the step-0 evaluation again (a re-run)
    log.write(1, {"train/loss": 0.25})
    log.write(1, {"eval/avg/pass@1": 0.75})  # another kind at the same step: its own row
    assert lines(tmp_path) == [
        {"step": 0, "eval/avg/pass@1": 0.5},
        {"step": 1, "train/loss": 0.25},
        {"step": 1, "eval/avg/pass@1": 0.75},
    ]
    assert MetricsLog(tmp_path).rows == lines(tmp_path)


def test_resume_forgets_rows_after_the_checkpoint_so_replayed_steps_appear_once(tmp_path: Path) -> None:
    log = MetricsLog(tmp_path)
    for step in (1, 2, 3):
        log.write(step, {"train/loss": float(step)})
    log.write(2, EVAL)
    resumed = MetricsLog(tmp_path, keep_upto=2)  # resumed from checkpoint-2
    resumed.write(3, {"train/loss": 30.0})
    assert lines(tmp_path) == [
        {"step": 1, "train/loss": 1.0},
        {"step": 2, "train/loss": 2.0},
        {"step": 2, **EVAL},
        {"step": 3, "train/loss": 30.0},
    ]


def test_torn_last_line_is_dropped_with_a_warning_naming_the_file(tmp_path: Path, caplog) -> None:
    """Defect 4 (training side): a kill during a write used to make every re-run fail."""
    good = json.dumps({"step": 1, **TRAIN}) + "\n"
    (tmp_path / METRICS_FILE).write_text(good + '{"step": 2, "train/lo')
    with caplog.at_level(logging.WARNING):
        rows, torn = read_metrics(tmp_path / METRICS_FILE)
    assert rows == [{"step": 1, **TRAIN}]
    assert torn
    assert f"{tmp_path / METRICS_FILE}: dropped a torn last line" in caplog.text
    log = MetricsLog(tmp_path)  # the writer repairs the file before appending to it
    log.write(2, TRAIN)
    assert (tmp_path / METRICS_FILE).read_text() == good + json.dumps({"step": 2, **TRAIN}) + "\n"


def test_a_damaged_line_before_the_last_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / METRICS_FILE).write_text('{"step": 1}\n{oops\n{"step": 2}\n')
    with pytest.raises(RunDirError, match=rf"{METRICS_FILE}: line 2 is damaged"):
        MetricsLog(tmp_path)


def test_non_finite_values_become_null_and_the_final_eval_is_the_highest_step(tmp_path: Path) -> None:
    log = MetricsLog(tmp_path)
    log.write(4, {"eval/avg/pass@1": 0.5, "eval/x/mean_length": float("nan")})
    log.write(0, {"eval/avg/pass@1": 0.1})
    assert log.final_eval() == {"eval/avg/pass@1": 0.5, "eval/x/mean_length": None}
    assert log.get("eval", 0) == {"step": 0, "eval/avg/pass@1": 0.1}
    assert log.get("train", 0) is None


def test_a_malformed_run_json_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text('{"status": "runn')
    with pytest.raises(RunDirError, match=r"run\.json: not valid JSON"):
        RunRecord(tmp_path)
