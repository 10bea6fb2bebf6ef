"""harness.grading: boxed extraction, equivalence, time limits, TRL reward functions."""

from __future__ import annotations

import threading
import time

import pytest

from harness.grading import (
    clear_verdict_cache,
    format_reward,
    gold_is_parseable,
    last_boxed,
    math_reward,
    score,
    warmup_verifier,
)
from harness.grading.trl import MathAccuracy, OneBoxFormat

EQUIVALENT = [
    (r"\boxed{0.5}", r"\frac{1}{2}"),
    (r"\boxed{1/2}", r"\frac{1}{2}"),
    (r"\boxed{\dfrac{1}{2}}", "1/2"),
    (r"\boxed{\tfrac12}", "0.5"),
    (r"\boxed{2\sqrt{2}}", r"\sqrt{8}"),
    (r"\boxed{x=3}", "3"),
    (r"\boxed{1,000}", "1000"),
    (r"\boxed{5.}", "5"),
    (r"The answer is $\boxed{5}$.", "5"),
    (r"\boxed{3.0}", "3"),
    (r"\boxed{-7}", "-7"),
    (r"\boxed{\frac{\sqrt{3}}{2}}", r"\frac{\sqrt{3}}{2}"),
    (r"\boxed{\frac{\sqrt3}{2}}", r"\frac{\sqrt{3}}{2}"),
    (r"\boxed{(1,2)}", "(1, 2)"),
    (r"\boxed{\left( 1, 2 \right)}", "(1,2)"),
    (r"\boxed{[1,2)}", "[1, 2)"),
    (r"\boxed{\{2,1\}}", r"\{1,2\}"),
    (r"\boxed{x^2+1}", "1+x^2"),
    (r"\boxed{90^\circ}", "90"),
    (r"\boxed{6\%}", "6"),
    (r"\boxed{\text{(A)}}", "A"),
    (r"\boxed{4.5 \times 10^{33}}", "4.5e33"),
    (r"\boxed 5", "5"),
    (r"\fbox{7}", "7"),
    (r"\boxed{\boxed{7}}", "7"),
    (r"first \boxed{1}, finally \boxed{2}", "2"),
]

WRONG = [
    (r"\boxed{4}", "3"),
    (r"\boxed{(1,2]}", "[1,2)"),
    (r"\boxed{x^2-1}", "1+x^2"),
    (r"\boxed{2\pi}", r"\pi"),
    (r"\boxed{\frac{1}{3}}", "0.5"),
    (r"\boxed{4.6 \times 10^{33}}", "4.5e33"),
    (r"first \boxed{2}, finally \boxed{1}", "2"),
    (r"\boxed{3} then \boxed{", "3"),  # truncated last box: no final answer
    (r"\boxed{}", "0"),
    ("no box here, the answer is 3", "3"),
    (r"\boxed{3}", ""),
]


@pytest.mark.parametrize(("completion", "gold"), EQUIVALENT)
def test_equivalent_answers_score_one(completion: str, gold: str) -> None:
    assert math_reward(completion, gold) == 1.0


@pytest.mark.parametrize(("completion", "gold"), WRONG)
def test_wrong_or_missing_answers_score_zero(completion: str, gold: str) -> None:
    assert math_reward(completion, gold) == 0.0


def test_last_boxed_extraction() -> None:
    assert last_boxed(r"a \boxed{\frac{\sqrt{3}}{2}} b") == r"\frac{\sqrt{3}}{2}"
    assert last_boxed(r"\boxed{1} and \boxed{ {2} }") == " {2} "
    assert last_boxed(r"$\boxed 42$.") == "42"
    assert last_boxed(r"\boxed{\{1\}}") == r"\{1\}"
    assert last_boxed(r"\boxed{1} \boxed{2") is None
    assert last_boxed("nothing") is None


def _no_math_verify(*a: object, **k: object) -> bool:
    raise AssertionError("math-verify should not be called")


def test_integer_fast_path_skips_math_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(score, "equivalent", _no_math_verify)
    assert math_reward(r"\boxed{12}", "12") == 1.0
    assert math_reward(r"\boxed{13}", "12") == 0.0
    assert math_reward(r"\boxed{1,200}", "1200") == 1.0
    assert math_reward(r"\boxed{\frac{2}{4}}", "1/2") == 1.0


TIMEOUT = 1.0
PATHOLOGICAL = [
    r"\boxed{10^10^10^10}",
    r"\boxed{10^{10^{10^{10}}}}",
    r"\boxed{2^{2^{40}}}",
    r"\boxed{100000000!}",
    r"\boxed{" + "{" * 5000 + "1" + "}" * 5000 + "}",
    "x" * 100_000,
    r"\boxed{" * 14_000,
    r"\boxed{" + "1+" * 50_000 + "1}",
]


@pytest.mark.parametrize("completion", PATHOLOGICAL, ids=lambda s: s[:20])
def test_pathological_inputs_are_bounded(completion: str) -> None:
    t0 = time.monotonic()
    assert math_reward(completion, "5", timeout_s=TIMEOUT) == 0.0
    assert time.monotonic() - t0 < TIMEOUT + 1.0


def test_huge_completion_with_answer_at_end_is_decided_without_math_verify(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A linear scan finds the box; the fast path decides (its speed: python -m bench.grading)."""
    monkeypatch.setattr(score, "equivalent", _no_math_verify)
    assert math_reward("y" * 100_000 + r" \boxed{5}", "5", timeout_s=TIMEOUT) == 1.0


def test_time_limit_holds_off_the_main_thread() -> None:
    """signal-based limits only work in the main thread; the subprocess path must hold."""
    out: dict[str, tuple[float, float]] = {}

    def work() -> None:
        warmup_verifier()  # process start-up is not part of the limit
        for name, text, gold in [
            ("tower", r"\boxed{10^{10^{10^{10}}}}", "5"),
            ("sqrt", r"\boxed{2\sqrt{2}}", r"\sqrt{8}"),
        ]:
            clear_verdict_cache()
            t0 = time.monotonic()
            r = math_reward(text, gold, timeout_s=TIMEOUT)
            out[name] = (r, time.monotonic() - t0)

    t = threading.Thread(target=work)
    t.start()
    t.join(60)
    assert out["tower"][0] == 0.0
    assert out["tower"][1] < TIMEOUT + 1.0
    assert out["sqrt"][0] == 1.0


def test_format_reward() -> None:
    assert format_reward(r"so the answer is \boxed{3}.") == 1.0
    assert format_reward(r"$$\boxed{3}$$") == 1.0
    assert format_reward(r"\boxed{3} and then more text") == 0.0
    assert format_reward(r"\boxed{1} \boxed{2}") == 0.0
    assert format_reward("no answer") == 0.0
    assert format_reward(r"\boxed{3") == 0.0


def test_trl_wrappers_accept_strings_and_conversations() -> None:
    completions = [
        [{"role": "assistant", "content": r"so \boxed{3}"}],
        r"\boxed{4}",
        [{"role": "assistant", "content": [{"type": "text", "text": r"\boxed{1/2}"}]}],
        "nothing",
    ]
    accuracy, one_box = MathAccuracy(timeout_s=0.5), OneBoxFormat()
    got = accuracy(
        prompts=["p"] * 4,
        completions=completions,
        completion_ids=[[1]] * 4,
        answer=["3", 5, "0.5", "1"],
        trainer_state=None,
    )
    assert got == [1.0, 0.0, 1.0, 0.0]
    assert one_box(completions=completions, answer=["3"] * 4) == [1.0, 1.0, 1.0, 0.0]
    assert accuracy.__name__ == "math_reward"  # TRL logs rewards/math_reward/mean
    assert one_box.__name__ == "format_reward"
    with pytest.raises(ValueError, match="zip"):  # a column shorter than the completions
        accuracy(completions=completions, answer=["3"])


def test_gold_parseability() -> None:
    assert gold_is_parseable("3")
    assert gold_is_parseable(r"\frac{3}{4}")
    assert gold_is_parseable(r"(1, 2]")
    assert gold_is_parseable(r"\text{Monday}")
    assert not gold_is_parseable(r"\frac{")
    assert not gold_is_parseable("???")
    assert not gold_is_parseable("")
    assert not gold_is_parseable(None)


def test_many_integer_completions_never_reach_math_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    """Integer answers are settled by the fast path (its speed: python -m bench.grading)."""
    monkeypatch.setattr(score, "equivalent", _no_math_verify)
    texts = [f"work ... so \\boxed{{{i % 50}}}" for i in range(5000)]
    assert sum(math_reward(t, "7") for t in texts) == 100
