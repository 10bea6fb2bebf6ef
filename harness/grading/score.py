"""Is this answer right? The one correctness check of training rewards and evaluation.

For one completion: extract the last ``\\boxed{...}`` (no answer → 0.0); decide by
normalised string equality or exact rational comparison when both sides are plain
numbers (microseconds, no sympy); otherwise ask math-verify under a hard deadline.
Inputs are capped (``MAX_ANSWER_CHARS``) before any parsing, so a 100 kB completion or
5000 nested braces costs a linear scan and scores 0.0. Verdicts are memoised per
(gold, prediction) pair: the n samples of one problem often repeat an answer.
"""

from __future__ import annotations

from harness.grading.extract import last_boxed
from harness.grading.normalize import as_number, clean_answer, fast_verdict, normalize_answer
from harness.grading.sandbox import equivalent, gold_parses

MAX_ANSWER_CHARS = 1000
"""Boxed answers (and gold answers) longer than this are never parsed (score 0.0
unless the stripped strings are identical)."""

_VERDICTS: dict[tuple[str, str], bool] = {}
_VERDICTS_MAX = 200_000


def answers_match(gold: str, pred: str, *, timeout_s: float = 5.0) -> bool:
    """Whether the extracted prediction ``pred`` is equivalent to ``gold``."""
    if len(pred) > MAX_ANSWER_CHARS or len(gold) > MAX_ANSWER_CHARS:
        return pred.strip() == gold.strip()  # too long to normalise or parse safely
    gold_key, pred_key = normalize_answer(gold), normalize_answer(pred)
    fast = fast_verdict(gold_key, pred_key)
    if fast is not None:
        return fast
    if not pred_key:
        return False
    cached = _VERDICTS.get((gold_key, pred_key))
    if cached is not None:
        return cached
    verdict = equivalent(clean_answer(gold), clean_answer(pred), timeout_s)
    if len(_VERDICTS) >= _VERDICTS_MAX:
        _VERDICTS.clear()
    _VERDICTS[(gold_key, pred_key)] = verdict
    return verdict


def clear_verdict_cache() -> None:
    """Forget memoised verdicts (benchmarks time verification from a cold cache)."""
    _VERDICTS.clear()


def math_reward(completion: str, answer: str, *, timeout_s: float = 5.0) -> float:
    """1.0 if the last boxed answer of ``completion`` equals ``answer``, else 0.0.

    Never raises and never takes (much) longer than ``timeout_s``.
    """
    pred = last_boxed(completion)
    if pred is None or answer is None:
        return 0.0
    return 1.0 if answers_match(str(answer), pred, timeout_s=timeout_s) else 0.0


def gold_is_parseable(answer: object, *, timeout_s: float = 5.0) -> bool:
    """Whether math-verify turns the gold answer into a sympy object (not just a string).

    Benchmarks use this to report answers the verifier could never match.
    """
    if answer is None:
        return False
    gold = clean_answer(str(answer))
    if not gold or len(gold) > MAX_ANSWER_CHARS:
        return False
    if as_number(normalize_answer(gold)) is not None:
        return True
    return gold_parses(gold, timeout_s)
