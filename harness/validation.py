"""The one way config dataclasses report a bad value: ``ValueError("<key>: <what is wrong>")``.

Plain Python (no Hydra, no torch), so the loss library's configs use it too.
"""

from __future__ import annotations


def check(ok: bool, key: str, msg: str) -> None:
    """Raise ``ValueError`` naming ``key`` unless ``ok``."""
    if not ok:
        raise ValueError(f"{key}: {msg}")


def check_choice(value: str, key: str, choices: tuple[str, ...]) -> None:
    """``value`` must be one of ``choices``."""
    check(value in choices, key, f"must be one of {', '.join(choices)}; got {value!r}")


def check_range(value: float, key: str, low: float, high: float, *, open_low: bool = False) -> None:
    """``low ≤ value ≤ high`` (``low < value`` when ``open_low``)."""
    ok = (low < value if open_low else low <= value) and value <= high
    check(ok, key, f"must be in {'(' if open_low else '['}{low}, {high}], got {value}")
