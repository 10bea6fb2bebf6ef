"""Answer strings made comparable: cleanup, canonical keys, and the exact-number fast path."""

from __future__ import annotations

import re
from fractions import Fraction

_THOUSANDS = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")
_SCI_E = re.compile(r"(-?\d+(?:\.\d+)?)[eE]([+-]?\d{1,3})")
_TEXT_WRAP = re.compile(r"^\\(?:text|textbf|mathrm|mathbf)\{([^{}]*)\}$")
_INT = re.compile(r"[-+]?\d+")
_DEC = re.compile(r"[-+]?(\d+\.\d*|\.\d+)")
_SLASH = re.compile(r"([-+]?\d+)/(\d+)")
_FRAC = re.compile(r"(-?)\\frac\{(-?\d+)\}\{(\d+)\}")
_ASSIGN = re.compile(r"[a-zA-Z]=.+")
_SCI = re.compile(r"([-+]?\d+(?:\.\d+)?)(?:\\times|\\cdot)10\^\{?([-+]?\d{1,3})\}?")
MAX_NUMBER_KEY = 40
"""Keys longer than this are not tried as plain numbers."""


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


def as_number(key: str) -> tuple[Fraction, bool] | None:
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


def fast_verdict(gold_key: str, pred_key: str) -> bool | None:
    """True/False when decidable without sympy, else None."""
    if gold_key == pred_key:
        return bool(gold_key)
    if len(gold_key) > MAX_NUMBER_KEY or len(pred_key) > MAX_NUMBER_KEY:
        return None
    g, p = as_number(gold_key), as_number(pred_key)
    if g is not None and p is None and _ASSIGN.fullmatch(pred_key):  # "x=3" (math-verify agrees)
        p = as_number(pred_key[2:])
    if g is None or p is None:
        return None
    if g[0] == p[0]:
        return True
    return False if (g[1] and p[1]) else None


def canonical_answer(s: str) -> str:
    """Grouping key for majority voting: the normalised string, numbers as reduced
    fractions (so ``0.5``, ``1/2`` and ``\\frac{1}{2}`` vote together)."""
    key = normalize_answer(s)
    num = as_number(key) if len(key) <= MAX_NUMBER_KEY else None
    return str(num[0]) if num else key
