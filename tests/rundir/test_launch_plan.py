"""``make sweep`` says, before launching, which jobs it skips (finished, same config) and which it
refuses (config changed), and launches neither (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from harness.run.identity import config_hash, semantic_config
from tests.sweeps.runs import multirun_in_process
from tests.train.runs import REPO


def write_run(run_dir: Path, status: str, *overrides: str) -> None:
    """A run dir as harness.train leaves it for the config of ``overrides``."""
    with initialize_config_dir(str(REPO / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=list(overrides))
    run_dir.mkdir(parents=True)
    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    (run_dir / "run.json").write_text(
        json.dumps({"status": status, "config_hash": config_hash(semantic_config(cfg))})
    )
    if status == "running":
        (run_dir / "checkpoints" / "checkpoint-20").mkdir(parents=True)


def test_the_plan_names_skipped_resumed_and_refused_jobs(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    write_run(tmp_path / "trainer.seed-0", "finished", "trainer.seed=0")
    write_run(
        tmp_path / "trainer.seed-1", "finished", "trainer.seed=1", "trainer.steps=30"
    )  # made with another config
    write_run(tmp_path / "trainer.seed-2", "running", "trainer.seed=2")
    with pytest.raises(SystemExit):  # a refused job fails the sweep (after the others, here: none)
        multirun_in_process(
            "trainer.seed=0,1,2,3",
            "logger=none",
            "hydra.launcher.dry_run=true",
            f"hydra.sweep.dir={tmp_path}",
        )
    out, err = capsys.readouterr()
    assert out.splitlines()[:7] == [
        f"[harness] sweep train -> {tmp_path}: 4 jobs, 1 already finished, 2 to run, 1 refused (dry run, nothing launched)",
        "  #0 trainer.seed=0 logger=none  skip: finished, same config",
        f"  #1 trainer.seed=1 logger=none  REFUSE: {tmp_path / 'trainer.seed-1'} holds a run (status finished) with a "
        "different config:",
        "        trainer.steps: 30 → 200",
        "      resume=auto only resumes the same config: delete the run dir, or run elsewhere (e.g. hydra.run.dir=...)",
        "  #2 trainer.seed=2 logger=none  resume: status running, same config: resume from checkpoint-20",
        "  #3 trainer.seed=3 logger=none",
    ]
    assert "job #1: " in err
    assert "trainer.steps: 30 → 200" in err
    assert not (tmp_path / "trainer.seed-3").exists()  # a dry run launches nothing
