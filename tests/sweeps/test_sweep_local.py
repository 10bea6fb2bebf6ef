"""Real sweeps on this machine through submitit_local: a 2-job sweep and its relaunch, and one job of two
processes (DDP over gloo, torch.distributed from submitit's environment: the SLURM multi-task path)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

from tests.sweeps.runs import LEARNING, run_sweep, write_tiny_sweep
from tests.train.runs import train_rows


def _records(sweep_dir: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in sweep_dir.glob("*/run.json")}


@pytest.mark.slow
def test_local_sweep_runs_every_job_and_a_relaunch_skips_them(tmp_path: Path, sweep_cache: Path) -> None:
    sweep_dir = tmp_path / "multirun" / "tiny_pair"
    write_tiny_sweep(
        tmp_path / "sweeps",
        "tiny_pair",
        sweep_dir,
        sweep_cache,
        {"method": "grpo,gspo"},
        *LEARNING,
        "trainer.steps=1",
    )
    first = run_sweep(
        tmp_path / "sweeps", "tiny_pair", sweep_dir, "hydra.launcher.cpus_per_task=1"
    )  # 1 core of 2
    for idx, method in enumerate(
        ["grpo", "gspo"]
    ):  # one console line per job: submitted (with its log), done
        job_id = re.search(rf"job #{idx} submitted as (\d+): method={method}\n\s+log: (\S+)", first.stdout)
        assert job_id
        assert Path(job_id.group(2)) == sweep_dir / ".submitit" / job_id[1] / f"{job_id[1]}_0_log.out"
        assert re.search(rf"job #{idx} finished in [\d.]+ min: held-out pass@1 \d\.\d{{3}}", first.stdout)
    assert not (sweep_dir / ".submitit" / "%j").exists()  # no stray unexpanded folder
    records = _records(sweep_dir)
    assert set(records) == {"method-grpo", "method-gspo"}  # run dirs named by the job's overrides
    for name, record in records.items():
        method = name.split("-", 1)[1]
        assert record["status"] == "finished"
        assert record["group"] == "tiny_pair"
        assert {f"method:{method}", "model:tiny", "seed:0"} <= set(record["tags"])
        run_dir = sweep_dir / name
        assert [r["step"] for r in train_rows(run_dir)] == [1]
        assert (run_dir / "eval" / "step-1" / "records.parquet").exists()
        assert (run_dir / "final" / "config.json").exists()
    metrics = {name: (sweep_dir / name / "metrics.jsonl").read_text() for name in records}
    submitted = sorted(sweep_dir.glob(".submitit/*"))

    again = run_sweep(tmp_path / "sweeps", "tiny_pair", sweep_dir)
    assert "2 jobs, 2 already finished, 0 to run" in again.stdout
    assert sorted(sweep_dir.glob(".submitit/*")) == submitted  # nothing submitted again
    assert {name: (sweep_dir / name / "metrics.jsonl").read_text() for name in records} == metrics


@pytest.mark.slow
def test_two_process_job_keeps_every_rank_in_sync(tmp_path: Path, sweep_cache: Path) -> None:
    sweep_dir = tmp_path / "multirun" / "ddp"
    write_tiny_sweep(
        tmp_path / "sweeps", "ddp", sweep_dir, sweep_cache, {"method": "grpo"}, *LEARNING, "trainer.steps=2"
    )
    run_sweep(
        tmp_path / "sweeps",
        "ddp",
        sweep_dir,
        "hydra.launcher.tasks_per_node=2",
        env={"HARNESS_PARAM_CHECKSUMS": "1"},
    )
    run_dir = sweep_dir / "method-grpo"
    assert json.loads((run_dir / "run.json").read_text())["status"] == "finished"
    rows = train_rows(run_dir)
    assert [r["step"] for r in rows] == [1, 2]
    assert [r["train/prompts"] for r in rows] == [4, 8]  # 4 prompts a step in all, split over the 2 ranks
    assert all(r["train/grad_norm"] > 0 for r in rows)
    assert [
        r["step"]
        for r in map(json.loads, (run_dir / "metrics.jsonl").read_text().splitlines())
        if "eval/avg/pass@1" in r
    ] == [0, 2]
    assert (run_dir / "eval" / "step-2" / "records.parquet").exists()
    assert (run_dir / "final" / "config.json").exists()
    args = torch.load(run_dir / "checkpoints" / "checkpoint-2" / "training_args.bin", weights_only=False)
    assert args.world_size == 2
    assert args.gradient_accumulation_steps == 1

    ranks = [
        [json.loads(line) for line in (run_dir / "checksums" / f"rank-{r}.jsonl").read_text().splitlines()]
        for r in (0, 1)
    ]
    assert [row["step"] for row in ranks[0]] == [row["step"] for row in ranks[1]] == [1, 2]
    for zero, one in zip(*ranks, strict=True):
        assert zero["prompts_sha256"] != one["prompts_sha256"]  # each rank trained on its own prompts...
        assert zero["sha256"] == one["sha256"]  # ...yet after every step they hold the same parameters
    assert ranks[0][0]["sha256"] != ranks[0][1]["sha256"]  # and the steps did change them
