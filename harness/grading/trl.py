"""The graders as TRL ``GRPOTrainer`` reward functions.

TRL calls a reward function with the completions and the dataset's columns as
keyword arguments, and logs its mean under ``rewards/<__name__>/mean``
(harness.training.callbacks maps ``rewards/math_reward/mean`` to ``train/accuracy``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from harness.grading.extract import format_reward
from harness.grading.score import math_reward

Completion = str | dict[str, object] | Sequence[dict[str, object]]


def completion_text(completion: object) -> str:
    """Text of a TRL completion: a string, or a conversational list of message dicts
    (the last assistant message; content may be a string or a list of text parts)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        completion = [completion]
    if isinstance(completion, Sequence):
        msgs = [m for m in completion if isinstance(m, dict)]
        assistant = [m for m in msgs if m.get("role", "assistant") == "assistant"]
        content = (assistant or msgs or [{}])[-1].get("content", "")
        if isinstance(content, list):
            return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
        return "" if content is None else str(content)
    return "" if completion is None else str(completion)


@dataclass(frozen=True)
class MathAccuracy:
    """1.0 per completion whose last boxed answer equals the row's ``answer``, else 0.0."""

    timeout_s: float = 5.0

    @property
    def __name__(self) -> str:  # TRL's log key: rewards/math_reward/mean
        return "math_reward"

    def __call__(self, completions: Iterable[object], answer: Iterable[object], **_: object) -> list[float]:
        return [
            math_reward(completion_text(c), "" if a is None else str(a), timeout_s=self.timeout_s)
            for c, a in zip(completions, answer, strict=True)
        ]


@dataclass(frozen=True)
class OneBoxFormat:
    """1.0 per completion with exactly one boxed answer, at the end."""

    @property
    def __name__(self) -> str:  # TRL's log key: rewards/format_reward/mean
        return "format_reward"

    def __call__(self, completions: Iterable[object], **_: object) -> list[float]:
        return [format_reward(completion_text(c)) for c in completions]
