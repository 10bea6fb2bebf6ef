"""The one way config dataclasses report a bad value: ``ValueError("<key>: <what is wrong>")``."""

from __future__ import annotations


def check(ok: bool, key: str, msg: str) -> None:
    """Raise ``ValueError`` naming ``key`` unless ``ok``."""
    if not ok:
        raise ValueError(f"{key}: {msg}")


def check_choice(value: str, key: str, choices: tuple[str, ...]) -> None:
    check(value in choices, key, f"must be one of {list(choices)}, got {value!r}")
