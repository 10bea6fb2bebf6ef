"""Exclusive OS file locks (``fcntl.flock``) for run directories and the warm-start cache.

The kernel releases a ``flock`` when its holder exits for any reason (kill -9 included), so a lock
left behind by a dead process is free again at once: no stale-lock cleanup is needed. The lock file
itself is kept (deleting it would let two processes lock two different files); it holds the
holder's pid, host and start time while it is held, for the message the next process prints.
On NFS, Linux emulates ``flock`` with POSIX byte-range locks, which work across clients; Lustre
needs the ``flock`` mount option.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.errors import RunDirError


class LockedError(RunDirError):
    """Another live process holds the lock."""


def _holder(fd: int) -> str:
    """Who holds the lock, from the file; re-read briefly if the holder is still writing it."""
    for _ in range(50):
        try:
            info = json.loads(os.pread(fd, 4096, 0))
            return f"pid {info['pid']} on {info['host']} (since {info['since']})"
        except (ValueError, KeyError, TypeError):
            time.sleep(0.01)
    return "another process"


def _claim(fd: int) -> None:
    info = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": dt.datetime.now().isoformat(timespec="seconds"),
    }
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(info).encode(), 0)


@contextmanager
def exclusive(path: Path, *, wait: bool, what: str) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` for the ``with`` block.

    ``wait=False``: raise :class:`LockedError` at once, naming ``what`` and the holder, if another
    process holds it. ``wait=True``: say who holds it, then wait for it.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise RunDirError(
            f"{path.parent}: cannot create the lock file {path.name} ({err.strerror})"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            if not wait:
                raise LockedError(
                    f"{what} is in use by {_holder(fd)}; not starting a second writer (lock: {path})"
                ) from None
            print(f"[harness] waiting for {what}, held by {_holder(fd)}", flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        _claim(fd)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock
