"""Where the answer is: the last ``\\boxed{}`` of a completion, and the one-box format check."""

from __future__ import annotations

import re

BOX_COMMANDS = ("\\boxed", "\\fbox")


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


def boxed_spans(text: str) -> list[tuple[int, str, int]] | None:
    """All top-level boxed answers as (start, content, end), in order; None if one is
    unterminated (stopping there also keeps the scan linear)."""
    spans: list[tuple[int, str, int]] = []
    pos = 0
    while True:
        hits = [(i, c) for i, c in ((text.find(c, pos), c) for c in BOX_COMMANDS) if i >= 0]
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
    start = max(text.rfind(c) for c in BOX_COMMANDS)
    while start >= 0:
        cmd = next(c for c in BOX_COMMANDS if text.startswith(c, start))
        parsed = _boxed_at(text, start, cmd)
        if parsed is not None:
            return parsed[0]
        if start + len(cmd) < len(text) and text[start + len(cmd)] == "{":
            return None  # unterminated last box
        start = max(text.rfind(c, 0, start) for c in BOX_COMMANDS)
    return None


def format_reward(completion: str) -> float:
    """1.0 if the completion has exactly one boxed answer and nothing but closing
    punctuation/math delimiters after it, else 0.0."""
    if not isinstance(completion, str):
        return 0.0
    spans = boxed_spans(completion)
    if spans is None or len(spans) != 1:
        return 0.0
    tail = re.sub(r"\\\]|\\\)|\$|\.|\s", "", completion[spans[0][2] :])
    return 1.0 if tail == "" else 0.0
