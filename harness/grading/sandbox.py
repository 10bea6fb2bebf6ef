"""math-verify under one hard deadline per check, on any thread.

math-verify's own timeouts use ``signal.alarm`` with integer seconds, apply per
sub-step (one parse and every gold × prediction pair can each take the full
timeout) and raise in threads other than the main one. We disable them and
impose one deadline on the whole check instead:

* main thread: ``signal.setitimer`` raising a ``BaseException`` subclass (so no
  ``except Exception`` inside sympy/math-verify can swallow it); CPython checks
  signals inside long-integer arithmetic too, so ``10^{10^{10}}`` is interrupted;
* any other thread: a persistent verifier subprocess (same code, its own main
  thread), killed and restarted if it ever overshoots the deadline.
"""

from __future__ import annotations

import json
import logging
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from types import FrameType, ModuleType
from typing import Any

log = logging.getLogger(__name__)


class _Deadline(BaseException):
    """Raised by SIGALRM; BaseException so library ``except Exception`` cannot eat it."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _Deadline()


def _can_use_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """Raise ``_Deadline`` in the main thread after ``seconds``; restores any outer timer."""
    old_handler = signal.signal(signal.SIGALRM, _on_alarm)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    t0 = time.monotonic()
    try:
        yield
    finally:
        while True:  # the alarm may fire inside this block; retry until disarmed
            try:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old_handler)
                if old_delay > 0:
                    left = max(old_delay - (time.monotonic() - t0), 1e-3)
                    signal.setitimer(signal.ITIMER_REAL, left, old_interval)
                break
            except _Deadline:
                continue


@lru_cache(maxsize=1)
def _mv() -> ModuleType:
    """Import math-verify once and disable its signal-based timeouts (we own the deadline)."""
    import math_verify
    import math_verify.grader
    import math_verify.parser

    math_verify.parser.TIMEOUT_WARNING_SHOWN = True
    math_verify.grader.TIMEOUT_WARNING_SHOWN = True
    for name in ("math_verify", "math_verify.parser", "math_verify.grader"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return math_verify


def _extraction_config() -> list[Any]:
    mv = _mv()
    return [mv.LatexExtractionConfig(boxed_match_priority=0), mv.ExprExtractionConfig()]


@lru_cache(maxsize=8192)
def _parse_gold(gold: str) -> tuple[Any, ...]:
    """Gold parsed as ``$gold$`` (plain ``3/4`` and ``\\frac{3}{4}`` both work), else boxed."""
    mv = _mv()
    for wrapped in (f"${gold}$", f"\\boxed{{{gold}}}"):
        parsed = mv.parse(wrapped, _extraction_config(), parsing_timeout=None)
        if parsed:
            return tuple(parsed)
    return ()


def _mv_equal(gold: str, pred: str) -> bool:
    """math-verify equivalence, no timeout of its own (callers impose the deadline)."""
    g = _parse_gold(gold)
    if not g:
        return False
    p = _mv().parse(f"\\boxed{{{pred}}}", _extraction_config(), parsing_timeout=None)
    return bool(p) and bool(_mv().verify(list(g), p, timeout_seconds=None))


def _verify_with_alarm(gold: str, pred: str, timeout_s: float) -> bool:
    try:
        with _alarm(timeout_s):
            return _mv_equal(gold, pred)
    except _Deadline:
        log.warning("math verification timed out after %.1fs (pred %.60r)", timeout_s, pred)
        return False
    except Exception:  # a parser bug must not kill a training run: the answer scores 0
        log.debug("math verification failed", exc_info=True)
        return False


def _gold_parses_with_alarm(gold: str, timeout_s: float) -> bool:
    try:
        with _alarm(timeout_s):
            parsed = _parse_gold(gold)
    except (_Deadline, Exception):  # unparsable within the limit: not a sympy object
        return False
    return any(not isinstance(x, str) for x in parsed)


class _VerifierProcess:
    """A persistent subprocess running ``worker_main``; used off the main thread."""

    STARTUP_TIMEOUT_S = 120.0
    GRACE_S = 1.0

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def _start(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self._proc = subprocess.Popen(
            [sys.executable, "-c", "from harness.grading.sandbox import worker_main; worker_main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            env=env,
        )
        if self._readline(self.STARTUP_TIMEOUT_S) != "ready":
            self._kill()
            raise RuntimeError("harness.grading verifier subprocess failed to start")

    def _readline(self, timeout_s: float) -> str | None:
        assert self._proc is not None
        assert self._proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self._proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout_s):
                return None
        line = self._proc.stdout.readline()
        return line.strip() if line else None

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def ask(self, op: str, gold: str, pred: str, timeout_s: float) -> bool:
        """Run ``op`` ("verify" or "parse_gold") in the subprocess; False on overrun."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._start()
            assert self._proc is not None
            assert self._proc.stdin is not None
            msg = json.dumps({"op": op, "gold": gold, "pred": pred, "timeout": timeout_s})
            self._proc.stdin.write(msg + "\n")
            self._proc.stdin.flush()
            line = self._readline(timeout_s + self.GRACE_S)
            if line is None:
                log.warning("verifier subprocess overran %.1fs; restarting it", timeout_s)
                self._kill()
                return False
            return bool(json.loads(line)["ok"])

    def warmup(self) -> None:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._start()


_WORKER = _VerifierProcess()
_WARM = False  # math-verify's first symbolic check is slow (parser/sympy set-up)


def worker_main() -> None:
    """Loop of the verifier subprocess: one JSON request per stdin line, one reply."""
    _mv()
    print("ready", flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        if req.get("op") == "parse_gold":
            ok = _gold_parses_with_alarm(req["gold"], float(req["timeout"]))
        else:
            ok = _verify_with_alarm(req["gold"], req["pred"], float(req["timeout"]))
        print(json.dumps({"ok": ok}), flush=True)


def warmup_verifier(timeout_s: float = 30.0) -> None:
    """Pay math-verify's one-time costs now (imports, ANTLR parser and sympy caches:
    ~0.5 s on the first symbolic answer), or start the subprocess verifier when called
    off the main thread. Evaluation calls this before timing verification."""
    _mv()
    if not _can_use_alarm():
        _WORKER.warmup()
        return
    global _WARM
    if not _WARM:
        for gold, pred in ((r"\frac{1}{2}", r"\sqrt{2}"), ("3", "x = 3"), ("(1,2)", "ab2")):
            _verify_with_alarm(gold, pred, timeout_s)
        _WARM = True


def equivalent(gold: str, pred: str, timeout_s: float) -> bool:
    """math-verify's verdict on cleaned answers, within ``timeout_s`` (False past it)."""
    if _can_use_alarm():
        return _verify_with_alarm(gold, pred, timeout_s)
    return _WORKER.ask("verify", gold, pred, timeout_s)


def gold_parses(gold: str, timeout_s: float) -> bool:
    """Whether math-verify turns ``gold`` into a sympy object within ``timeout_s``."""
    if _can_use_alarm():
        return _gold_parses_with_alarm(gold, timeout_s)
    return _WORKER.ask("parse_gold", gold, "", timeout_s)
