"""Verifiable math rewards: last ``\\boxed{}`` answer checked against the gold answer.

``math_reward`` is the single source of truth for correctness in training (TRL reward
function) and evaluation (pass@k).  Pipeline for one completion:

1. extract the last ``\\boxed{...}`` / ``\\fbox{...}`` / ``\\boxed 5`` (no answer -> 0.0);
2. fast path: normalised string equality, then exact rational comparison when both
   sides are plain numbers (ints, decimals, ``a/b``, ``\\frac{a}{b}``).  This settles the
   common case (integer answers, right or wrong) in microseconds, without sympy;
3. otherwise math-verify (``parse`` + ``verify``) under a hard deadline.

Deadline mechanism.  math-verify's own timeouts use ``signal.alarm`` with integer
seconds, apply per sub-step (one parse and every gold x prediction pair can each take
the full timeout) and raise in threads other than the main one.  We disable them and
impose one deadline on the whole check instead:

* main thread: ``signal.setitimer`` raising a ``BaseException`` subclass (so no
  ``except Exception`` inside sympy/math-verify can swallow it); CPython checks signals
  inside long-integer arithmetic too, so ``10^{10^{10}}`` is interrupted;
* any other thread: a persistent verifier subprocess (same code, its own main thread),
  killed and restarted if it ever overshoots the deadline.

Inputs are capped (``MAX_ANSWER_CHARS``) before any parsing, so a 100 kB completion or
5000 nested braces costs a linear scan and scores 0.0.  Verdicts are memoised per
(gold, prediction) pair: the n samples of one problem often repeat an answer.
"""

from __future__ import annotations

import json
import logging
import os
import re
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from fractions import Fraction
from functools import lru_cache
from typing import Any, Iterator

log = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 1000
"""Boxed answers (and gold answers) longer than this are never parsed (score 0.0
unless the normalised strings are identical)."""

_BOX_COMMANDS = ("\\boxed", "\\fbox")
_VERDICT_CACHE: dict[tuple[str, str], bool] = {}
_VERDICT_CACHE_MAX = 200_000
_WARM = False  # math-verify's first symbolic check is slow (parser/sympy set-up)


# --------------------------------------------------------------------------- extraction


def _match_braces(text: str, open_idx: int) -> int | None:
    """Index of the ``}`` closing the ``{`` at ``open_idx`` (``\\{`` escapes skipped)."""
    depth = 0
    i, n = open_idx, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _boxed_at(text: str, start: int, cmd: str) -> tuple[str, int] | None:
    """Parse ``\\boxed{...}`` or ``\\boxed 5`` at ``start``; returns (content, end index)."""
    i = start + len(cmd)
    if i < len(text) and text[i].isalpha():  # e.g. \boxedfoo: another command
        return None
    j = i
    while j < len(text) and text[j] in " \t":
        j += 1
    if j < len(text) and text[j] == "{":
        close = _match_braces(text, j)
        return None if close is None else (text[j + 1 : close], close + 1)
    if j > i:  # "\boxed 5": the argument runs to the next whitespace or $
        m = re.match(r"[^\s$]+", text[j:])
        if m:
            return m.group(0), j + m.end()
    return None


def _boxed_spans(text: str) -> list[tuple[int, str, int]] | None:
    """All top-level boxed answers as (start, content, end), in order; None if one is
    unterminated (stopping there also keeps the scan linear)."""
    spans: list[tuple[int, str, int]] = []
    pos = 0
    while True:
        hits = [(text.find(c, pos), c) for c in _BOX_COMMANDS]
        hits = [(i, c) for i, c in hits if i >= 0]
        if not hits:
            return spans
        start, cmd = min(hits)
        parsed = _boxed_at(text, start, cmd)
        if parsed is None:
            if text.startswith("{", start + len(cmd)):
                return None
            pos = start + len(cmd)
            continue
        content, end = parsed
        spans.append((start, content, end))
        pos = end


def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` (nested braces ok) or ``\\boxed x``; None if absent.

    An unterminated final ``\\boxed{`` (truncated generation) yields None, not an earlier
    box: the model did not finish its answer.
    """
    if not isinstance(text, str):
        return None
    starts = [text.rfind(c) for c in _BOX_COMMANDS]
    start = max(starts)
    while start >= 0:
        cmd = next(c for c in _BOX_COMMANDS if text.startswith(c, start))
        parsed = _boxed_at(text, start, cmd)
        if parsed is not None:
            return parsed[0]
        if start + len(cmd) < len(text) and text[start + len(cmd)] == "{":
            return None  # unterminated last box
        starts = [text.rfind(c, 0, start) for c in _BOX_COMMANDS]
        start = max(starts)
    return None


# ------------------------------------------------------------------------ normalisation

_THOUSANDS = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")
_SCI_E = re.compile(r"(-?\d+(?:\.\d+)?)[eE]([+-]?\d{1,3})")
_TEXT_WRAP = re.compile(r"^\\(?:text|textbf|mathrm|mathbf)\{([^{}]*)\}$")


def clean_answer(s: str) -> str:
    """Light, meaning-preserving cleanup (safe to hand to math-verify)."""
    s = s.strip().strip("$").strip()
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = re.sub(r"\\[,;:! ]", " ", s).replace("~", " ")
    s = re.sub(r"\^\s*\{?\s*\\circ\s*\}?", "", s)
    s = s.replace("\\%", "").replace("%", "")
    s = re.sub(r"\\(?:left|right)(?![a-zA-Z])", "", s)
    s = s.strip()
    while s.endswith(".") and not s.endswith("..."):  # trailing period (also "\.")
        s = s[:-2] if s.endswith("\\.") else s[:-1]
        s = s.rstrip()
    if _THOUSANDS.fullmatch(s):
        s = s.replace(",", "")
    m = _SCI_E.fullmatch(s)
    if m:  # 4.5e33: math-verify would read "e" as Euler's number
        s = f"{m.group(1)}\\times 10^{{{int(m.group(2))}}}"
    return s


def normalize_answer(s: str) -> str:
    """Canonical string key for the exact-match fast path (whitespace-insensitive)."""
    s = clean_answer(s)
    m = _TEXT_WRAP.match(s)
    if m:
        s = m.group(1).strip()
    s = re.sub(r"(\\[a-zA-Z]+)\s+(?=[a-zA-Z])", r"\1{}", s)  # keep "\pi r" != "\pir"
    return re.sub(r"\s+", "", s)


_INT = re.compile(r"[-+]?\d+")
_DEC = re.compile(r"[-+]?(\d+\.\d*|\.\d+)")
_SLASH = re.compile(r"([-+]?\d+)/(\d+)")
_FRAC = re.compile(r"(-?)\\frac\{(-?\d+)\}\{(\d+)\}")
_ASSIGN = re.compile(r"[a-zA-Z]=.+")
_SCI = re.compile(r"([-+]?\d+(?:\.\d+)?)(?:\\times|\\cdot)10\^\{?([-+]?\d{1,3})\}?")


def _as_number(key: str) -> tuple[Fraction, bool] | None:
    """Parse a normalised key as a rational; returns (value, is_exact) or None.

    ``is_exact`` is False for decimals (math-verify compares those with rounding).
    """
    if _INT.fullmatch(key):
        return Fraction(int(key)), True
    if _DEC.fullmatch(key):
        return Fraction(key), False
    m = _SLASH.fullmatch(key)
    if m and int(m.group(2)) != 0:
        return Fraction(int(m.group(1)), int(m.group(2))), True
    m = _FRAC.fullmatch(key)
    if m and int(m.group(3)) != 0:
        sign = -1 if m.group(1) else 1
        return sign * Fraction(int(m.group(2)), int(m.group(3))), True
    m = _SCI.fullmatch(key)
    if m:
        return Fraction(m.group(1)) * Fraction(10) ** int(m.group(2)), False
    return None


def _fast_verdict(gold_key: str, pred_key: str) -> bool | None:
    """True/False when decidable without sympy, else None."""
    if gold_key == pred_key:
        return bool(gold_key)
    if len(gold_key) > 40 or len(pred_key) > 40:
        return None
    g, p = _as_number(gold_key), _as_number(pred_key)
    if g is not None and p is None and _ASSIGN.fullmatch(pred_key):  # "x=3" (math-verify agrees)
        p = _as_number(pred_key[2:])
    if g is None or p is None:
        return None
    if g[0] == p[0]:
        return True
    return False if (g[1] and p[1]) else None


# ---------------------------------------------------------------------------- deadlines


class _Deadline(BaseException):
    """Raised by SIGALRM; BaseException so library ``except Exception`` cannot eat it."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Deadline()


def _can_use_alarm() -> bool:
    return (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )


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


# -------------------------------------------------------------------------- math-verify


@lru_cache(maxsize=1)
def _mv() -> Any:
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


def _parse_pred(pred: str) -> list[Any]:
    return _mv().parse(f"\\boxed{{{pred}}}", _extraction_config(), parsing_timeout=None)


def _mv_equal(gold: str, pred: str) -> bool:
    """math-verify equivalence, no timeout of its own (callers impose the deadline)."""
    g = _parse_gold(gold)
    if not g:
        return False
    p = _parse_pred(pred)
    if not p:
        return False
    return bool(_mv().verify(list(g), p, timeout_seconds=None))


def _verify_with_alarm(gold: str, pred: str, timeout_s: float) -> bool:
    try:
        with _alarm(timeout_s):
            return _mv_equal(gold, pred)
    except _Deadline:
        log.warning("math verification timed out after %.1fs (pred %.60r)", timeout_s, pred)
        return False
    except Exception:  # noqa: BLE001 - a parser bug must not kill a training run
        log.debug("math verification failed", exc_info=True)
        return False


class _VerifierProcess:
    """A persistent subprocess running ``_worker_main``; used off the main thread."""

    STARTUP_TIMEOUT_S = 120.0
    GRACE_S = 1.0

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def _start(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self._proc = subprocess.Popen(
            [sys.executable, "-c", "from harness.rewards import _worker_main; _worker_main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            env=env,
        )
        if self._readline(self.STARTUP_TIMEOUT_S) != "ready":
            self._kill()
            raise RuntimeError("harness.rewards verifier subprocess failed to start")

    def _readline(self, timeout_s: float) -> str | None:
        assert self._proc is not None and self._proc.stdout is not None
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

    def verify(self, gold: str, pred: str, timeout_s: float, op: str = "verify") -> bool:
        """Run ``op`` ("verify" or "parse_gold") in the subprocess; False on overrun."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._start()
            assert self._proc is not None and self._proc.stdin is not None
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


def _worker_main() -> None:
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
    off the main thread.  Evaluation calls this before timing verification."""
    _mv()
    if not _can_use_alarm():
        _WORKER.warmup()
        return
    global _WARM
    if not _WARM:
        for gold, pred in ((r"\frac{1}{2}", r"\sqrt{2}"), ("3", "x = 3"), ("(1,2)", "ab2")):
            _verify_with_alarm(gold, pred, timeout_s)
        _WARM = True


def _verify_guarded(gold: str, pred: str, timeout_s: float) -> bool:
    if _can_use_alarm():
        return _verify_with_alarm(gold, pred, timeout_s)
    return _WORKER.verify(gold, pred, timeout_s)


def canonical_answer(s: str) -> str:
    """Grouping key for majority voting: the normalised string, numbers as reduced
    fractions (so ``0.5``, ``1/2`` and ``\\frac{1}{2}`` vote together)."""
    key = normalize_answer(s)
    num = _as_number(key) if len(key) <= 40 else None
    return str(num[0]) if num else key


# ------------------------------------------------------------------------------ rewards


def answers_match(gold: str, pred: str, *, timeout_s: float = 5.0) -> bool:
    """Whether the extracted prediction ``pred`` is equivalent to ``gold``."""
    if len(pred) > MAX_ANSWER_CHARS or len(gold) > MAX_ANSWER_CHARS:
        return pred.strip() == gold.strip()  # too long to normalise or parse safely
    gold_key, pred_key = normalize_answer(gold), normalize_answer(pred)
    fast = _fast_verdict(gold_key, pred_key)
    if fast is not None:
        return fast
    if not pred_key:
        return False
    cached = _VERDICT_CACHE.get((gold_key, pred_key))
    if cached is not None:
        return cached
    verdict = _verify_guarded(clean_answer(gold), clean_answer(pred), timeout_s)
    if len(_VERDICT_CACHE) >= _VERDICT_CACHE_MAX:
        _VERDICT_CACHE.clear()
    _VERDICT_CACHE[(gold_key, pred_key)] = verdict
    return verdict


def math_reward(completion: str, answer: str, *, timeout_s: float = 5.0) -> float:
    """1.0 if the last boxed answer of ``completion`` equals ``answer``, else 0.0.

    Never raises and never takes (much) longer than ``timeout_s``.
    """
    pred = last_boxed(completion)
    if pred is None or answer is None:
        return 0.0
    return 1.0 if answers_match(str(answer), pred, timeout_s=timeout_s) else 0.0


def format_reward(completion: str) -> float:
    """1.0 if the completion has exactly one boxed answer and nothing but closing
    punctuation/math delimiters after it, else 0.0."""
    if not isinstance(completion, str):
        return 0.0
    spans = _boxed_spans(completion)
    if spans is None or len(spans) != 1:
        return 0.0
    tail = completion[spans[0][2] :]
    tail = re.sub(r"\\\]|\\\)|\$|\.|\s", "", tail)
    return 1.0 if tail == "" else 0.0


def gold_is_parseable(answer: Any, *, timeout_s: float = 5.0) -> bool:
    """Whether math-verify turns the gold answer into a sympy object (not just a string).

    Benchmarks use this to report answers the verifier could never match.
    """
    if answer is None:
        return False
    gold = clean_answer(str(answer))
    if not gold or len(gold) > MAX_ANSWER_CHARS:
        return False
    if _as_number(normalize_answer(gold)) is not None:
        return True
    if not _can_use_alarm():
        return _WORKER.verify(gold, "", timeout_s, op="parse_gold")
    return _gold_parses_with_alarm(gold, timeout_s)


def _gold_parses_with_alarm(gold: str, timeout_s: float) -> bool:
    try:
        with _alarm(timeout_s):
            parsed = _parse_gold(gold)
    except _Deadline:
        return False
    except Exception:  # noqa: BLE001
        return False
    return any(not isinstance(x, str) for x in parsed)


# ------------------------------------------------------------------------- TRL wrappers


def completion_text(completion: Any) -> str:
    """Text of a TRL completion: a string, or a conversational list of message dicts
    (the last assistant message; content may be a string or a list of text parts)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        completion = [completion]
    if isinstance(completion, Sequence):
        msgs = [m for m in completion if isinstance(m, dict)]
        assistant = [m for m in msgs if m.get("role", "assistant") == "assistant"]
        msg = (assistant or msgs or [{}])[-1]
        content = msg.get("content", "")
        if isinstance(content, list):
            return "".join(
                p.get("text", "") if isinstance(p, dict) else str(p) for p in content
            )
        return "" if content is None else str(content)
    return "" if completion is None else str(completion)


def math_reward_func(completions: Iterable[Any], answer: Iterable[Any], **kwargs: Any) -> list[float]:
    """TRL GRPOTrainer reward function: accuracy of each completion vs the ``answer`` column."""
    timeout_s = float(kwargs.get("reward_timeout_s", 5.0))
    return [
        math_reward(completion_text(c), "" if a is None else str(a), timeout_s=timeout_s)
        for c, a in zip(completions, answer, strict=True)
    ]


def format_reward_func(completions: Iterable[Any], **kwargs: Any) -> list[float]:
    """TRL GRPOTrainer reward function: exactly one boxed answer, at the end."""
    return [format_reward(completion_text(c)) for c in completions]


def make_math_reward_func(timeout_s: float = 5.0) -> Any:
    """``math_reward_func`` with a per-completion time limit (e.g. ``trainer.reward_timeout_s``);
    keeps the ``__name__`` TRL logs it under."""

    def math_reward(completions: Iterable[Any], answer: Iterable[Any], **kwargs: Any) -> list[float]:
        return math_reward_func(completions, answer, **{**kwargs, "reward_timeout_s": timeout_s})

    return math_reward


# TRL logs each reward as ``rewards/<__name__>/mean`` (harness.callbacks maps
# ``rewards/math_reward/mean`` to ``train/accuracy``).
math_reward_func.__name__ = "math_reward"
format_reward_func.__name__ = "format_reward"

REWARD_FUNCS = {"math_reward": math_reward_func, "format_reward": format_reward_func}

__all__ = [
    "MAX_ANSWER_CHARS",
    "REWARD_FUNCS",
    "answers_match",
    "canonical_answer",
    "clean_answer",
    "completion_text",
    "format_reward",
    "format_reward_func",
    "gold_is_parseable",
    "last_boxed",
    "make_math_reward_func",
    "math_reward",
    "math_reward_func",
    "normalize_answer",
    "warmup_verifier",
]
