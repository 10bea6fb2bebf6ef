"""Bad input stops the CLI with one line naming the key, file and row, before any compute and
without touching what a run dir already holds (defects 3, 6, 7, 8; resume modes)."""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

import pytest

from harness import train
from harness.errors import DataError
from harness.eval import __main__ as eval_cli
from harness.run.locks import exclusive
from tests.train.runs import REPO


def app(module):
    """The module's console entry point (``harness-train`` / ``harness-eval``), run in this process."""
    return module.cli


def cli(module, argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> str:
    """Run ``python -m <module> <argv>`` in this process; return stderr, asserting exit status 1."""
    monkeypatch.setattr(sys, "argv", ["prog", *argv])
    with pytest.raises(SystemExit) as exc:
        app(module)()
    out, err = capsys.readouterr()
    assert exc.value.code == 1
    assert "Traceback" not in out + err
    return err


def train_error(tmp_path: Path, monkeypatch, capsys, *overrides: str) -> str:
    err = cli(
        train,
        [f"hydra.run.dir={tmp_path / 'run'}", f"cache_dir={tmp_path / 'cache'}", "logger=none", *overrides],
        monkeypatch,
        capsys,
    )
    assert not (tmp_path / "cache" / "warmstart").exists()  # no warm start was made
    assert not (tmp_path / "run" / "run.json").exists()
    return err


def test_an_empty_task_file_is_one_line_before_any_compute(tmp_path: Path, monkeypatch, capsys) -> None:
    """Defect 6: an empty JSONL gave a bare StopIteration after the warm start and the model load."""
    data = tmp_path / "empty.jsonl"
    data.write_text("")
    err = train_error(tmp_path, monkeypatch, capsys, "task=jsonl", f"task.path={data}")
    assert err == f"[harness] error: task.path={data}: no rows (the file is empty)\n"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ('{"problem": "2+2?"}', "{path}, row 2: missing column 'answer' (columns: ['problem'])"),
        ('{"problem": "2+2?", "answer": ', "task.path: {path}: line 3: invalid JSON"),
        ('["2+2?", "4"]', "{path}, row 2: expected an object, got list"),
    ],
    ids=["missing-column", "bad-json", "not-an-object"],
)
def test_a_malformed_row_names_the_file_and_row(
    tmp_path: Path, monkeypatch, capsys, bad: str, message: str
) -> None:
    """Defect 6: a malformed row gave three tracebacks with the row number buried in a log line."""
    data = tmp_path / "rows.jsonl"
    data.write_text('{"problem": "1+1?", "answer": "2"}\n{"problem": "1+2?", "answer": "3"}\n' + bad + "\n")
    err = train_error(tmp_path, monkeypatch, capsys, "task=jsonl", f"task.path={data}")
    assert err.startswith("[harness] error: " + message.format(path=data))
    assert err.count("\n") == 1


def test_a_missing_model_path_or_hub_model_is_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    """Defect 7: model.path=/nonexistent ended in 'Repo id must be in the form...' after 77-100 lines."""
    err = train_error(tmp_path, monkeypatch, capsys, "model=qwen3-1.7b", "model.path=/nonexistent")
    assert err == "[harness] error: model.path=/nonexistent: no such directory\n"
    err = train_error(
        tmp_path, monkeypatch, capsys, "model=qwen3-1.7b", "model.hub=no-such-org/no-such-model"
    )
    assert err.startswith(
        "[harness] error: model.hub=no-such-org/no-such-model: cannot load the model's config "
        "(HF_HUB_OFFLINE=1: is it in the local cache?)"
    )
    assert err.count("\n") == 1


def test_model_path_with_the_tiny_model_is_refused_not_ignored(tmp_path: Path, monkeypatch, capsys) -> None:
    """Defect 7: model.path= with the default tiny model was silently ignored."""
    err = train_error(tmp_path, monkeypatch, capsys, f"model.path={tmp_path}")
    assert err == (
        f"[harness] error: model.path: '{tmp_path}' with model.build='tiny': a built-in model is made from a "
        "config, not loaded; drop model.path, or load a checkpoint with model.build='' model.path=<dir>\n"
    )


def test_eval_of_a_missing_checkpoint_is_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    """Defect 7: harness.eval checkpoint=/nonexistent ended in 'Repo id must be in the form...'."""
    err = cli(eval_cli, ["checkpoint=/nonexistent", f"hydra.run.dir={tmp_path / 'e'}"], monkeypatch, capsys)
    assert err == "[harness] error: checkpoint=/nonexistent: no such directory\n"
    assert not (tmp_path / "e" / "run.json").exists()


def test_a_second_launch_of_a_running_run_exits_at_once_naming_the_holder(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """Defect 3: the same command started twice: both ran, every step twice in metrics.jsonl."""
    run_dir = tmp_path / "run"
    with exclusive(run_dir / "run.lock", wait=False, what="the first launch"):
        err = train_error(tmp_path, monkeypatch, capsys)
    assert err.startswith(
        f"[harness] error: run dir {run_dir} is in use by pid {os.getpid()} on {socket.gethostname()}"
    )


def test_resume_must_with_nothing_to_resume_and_never_with_a_used_dir(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    err = train_error(tmp_path, monkeypatch, capsys, "resume=must")
    assert err.startswith(f"[harness] error: resume=must: nothing to resume in {tmp_path / 'run'}")
    (tmp_path / "run" / "metrics.jsonl").write_text('{"step": 1, "train/loss": 1.0}\n')
    err = train_error(tmp_path, monkeypatch, capsys, "resume=never")
    assert err.startswith(
        f"[harness] error: resume=never: {tmp_path / 'run'} already holds a run (status unknown)"
    )
    assert (tmp_path / "run" / "metrics.jsonl").read_text() == '{"step": 1, "train/loss": 1.0}\n'  # untouched


def test_a_changed_config_is_refused_with_a_diff_and_nothing_overwritten(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from harness.run.identity import config_hash, semantic_config

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with initialize_config_dir(str(REPO / "conf"), version_base="1.3"):
        old = OmegaConf.to_yaml(compose("train"), resolve=True)  # a run made with the defaults
    (run_dir / "config.yaml").write_text(old)
    record = {"status": "finished", "config_hash": config_hash(semantic_config(OmegaConf.create(old)))}
    (run_dir / "run.json").write_text(json.dumps(record))
    err = cli(train, [f"hydra.run.dir={run_dir}", "trainer.seed=1", "logger=none"], monkeypatch, capsys)
    assert err == (
        f"[harness] error: {run_dir} holds a run (status finished) with a different config:\n"
        "  trainer.seed: 0 → 1\nresume=auto only resumes the same config: delete the run dir, or run "
        "elsewhere (e.g. hydra.run.dir=...)\n"
    )
    assert json.loads((run_dir / "run.json").read_text()) == record
    assert (run_dir / "config.yaml").read_text() == old


def test_a_path_override_writes_nothing_outside_the_output_root(tmp_path: Path, monkeypatch, capsys) -> None:
    """Defect 8: task.path=../../../../x.jsonl wrote .hydra/ and train.log outside outputs/."""
    cwd = tmp_path / "a" / "b" / "c"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)
    err = cli(train, ["task=jsonl", "task.path=../../../../x.jsonl", "logger=none"], monkeypatch, capsys)
    assert err.startswith("[harness] error: task.path: ../../../../x.jsonl: no such file")
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written
    assert all(p.startswith("a/b/c/outputs/jsonl-tiny-grpo/task-jsonl+task.path-x.jsonl-") for p in written)


def test_hydra_full_error_shows_the_exception(tmp_path: Path, monkeypatch) -> None:
    data = tmp_path / "empty.jsonl"
    data.write_text("")
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
    monkeypatch.setattr(
        sys, "argv", ["prog", f"hydra.run.dir={tmp_path / 'run'}", "task=jsonl", f"task.path={data}"]
    )
    with pytest.raises(DataError, match="no rows"):
        app(train)()
