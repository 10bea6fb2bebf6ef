"""One writer per run dir and per warm-start cache entry (defect 3)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from harness.config.schema import ModelConfig, TaskConfig, WarmStartConfig
from harness.run import locks
from harness.run.locks import LockedError, exclusive
from harness.training import warmstart
from tests.train.runs import REPO

HOLD = (
    "import sys, time; from harness.run.locks import exclusive\n"
    "with exclusive(sys.argv[1], wait=False, what='run dir x'):\n    print('locked', flush=True); time.sleep(120)\n"
)


def test_a_second_holder_is_refused_naming_the_first(tmp_path: Path) -> None:
    lock = tmp_path / "run.lock"
    with (
        exclusive(lock, wait=False, what=f"run dir {tmp_path}"),
        pytest.raises(LockedError) as err,
        exclusive(lock, wait=False, what=f"run dir {tmp_path}"),
    ):
        pass
    assert str(err.value).startswith(
        f"run dir {tmp_path} is in use by pid {os.getpid()} on {socket.gethostname()}"
    )
    with exclusive(lock, wait=False, what="run dir"):  # released on exit from the block
        pass


def test_a_lock_held_by_a_killed_process_is_free_at_once(tmp_path: Path) -> None:
    lock = tmp_path / "run.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lock)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with (
            pytest.raises(LockedError, match=f"in use by pid {holder.pid} on "),
            exclusive(lock, wait=False, what="run dir x"),
        ):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with exclusive(lock, wait=False, what="run dir x"):  # no stale lock to clean up
        assert lock.read_text().startswith(f'{{"pid": {os.getpid()}')


def test_concurrent_warm_starts_on_a_cold_cache_build_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: list[Path] = []
    waiting: list[str] = []
    both_waiting = threading.Event()

    def say(message: str, **kwargs) -> None:
        waiting.append(message)
        if len(waiting) == 2:
            both_waiting.set()

    def fake_train(model, task, seed, out: Path) -> None:
        builds.append(out)
        out.mkdir()
        assert both_waiting.wait(60)  # the other two jobs are blocked on the lock meanwhile
        (out / "config.json").write_text("{}")

    monkeypatch.setattr(warmstart, "_train", fake_train)
    monkeypatch.setattr(locks, "print", say, raising=False)
    model = ModelConfig(build="tiny", warm_start=WarmStartConfig(steps=5))
    stale = tmp_path / "warmstart" / f"tiny-{warmstart.cache_key(model, TaskConfig(), 0)}.partial"
    stale.mkdir(parents=True)  # left by a builder that was killed
    (stale / "junk").write_text("x")
    results: list[Path] = []
    go = threading.Barrier(3)

    def job() -> None:
        go.wait()
        results.append(warmstart.warm_start(model, TaskConfig(), 0, tmp_path))

    threads = [threading.Thread(target=job) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out = stale.with_name(stale.name.removesuffix(".partial"))
    assert builds == [stale]
    assert results == [out, out, out]
    assert sorted(p.name for p in out.iterdir()) == ["config.json"]  # the stale partial's junk is gone
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name, out.name + ".lock"]
    assert (
        waiting
        == [
            f"[harness] waiting for the warm start {out}, held by pid {os.getpid()} on "
            f"{socket.gethostname()} (since {waiting[0].rsplit('(since ', 1)[1]}"
        ]
        * 2
    )
