"""Grading math answers: extraction, normalisation, a time-limited math-verify, TRL rewards.

``math_reward`` is the single source of truth for correctness in training (through
``harness.grading.trl.MathAccuracy``) and evaluation (pass@k).

    extract.py    where the answer is (last ``\\boxed{}``) and the one-box format check
    normalize.py  answer strings made comparable; the exact-number fast path
    sandbox.py    math-verify under one hard deadline, on any thread
    score.py      answers_match / math_reward / gold_is_parseable (memoised verdicts)
    trl.py        the graders as TRL reward functions
"""

from harness.grading.extract import format_reward, last_boxed
from harness.grading.normalize import canonical_answer, clean_answer, normalize_answer
from harness.grading.sandbox import warmup_verifier
from harness.grading.score import (
    MAX_ANSWER_CHARS,
    answers_match,
    clear_verdict_cache,
    gold_is_parseable,
    math_reward,
)

__all__ = [
    "MAX_ANSWER_CHARS",
    "answers_match",
    "canonical_answer",
    "clean_answer",
    "clear_verdict_cache",
    "format_reward",
    "gold_is_parseable",
    "last_boxed",
    "math_reward",
    "normalize_answer",
    "warmup_verifier",
]
