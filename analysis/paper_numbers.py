"""Numbers the papers state (abstracts and summary pages), with their sources.

These are shown *beside* our measurements as cited references (the main
table's "paper Δ" column and the reference table) and are never averaged into
or compared as if they were our runs: the papers trained other models, on other
data, for longer. Every value is a difference in points (percentage points) of
the method over its baseline unless its text says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

STRACE = (
    "arXiv:2605.05965 (Mou et al. 2026, Beyond Uniform Credit Assignment: "
    "Selective Eligibility Traces for RLVR)"
)
GRPO_LAMBDA = "arXiv:2510.00194 (GRPO-λ: Credit Assignment improves LLM Reasoning)"
STRACE_BASELINE_NOTE = (
    'The abstract says S-trace "outperforms GRPO"; the paper\'s summary page says "GRPO(λ)": '
    "which baseline the gains are measured against is ambiguous."
)
GRPO_LAMBDA_BENCHMARKS = ("AIME24", "MATH500", "OlympiadMath", "MinervaMath", "AMC")


@dataclass(frozen=True)
class PaperClaim:
    """One number a paper states: ``method`` beats ``baseline`` by ``text``."""

    method: str  # our method.name
    baseline: str  # our method.name of the paper's baseline
    paper_model: str  # the model as the paper names it
    text: str  # as the paper states it, e.g. "+3.16" or "> +3"
    metric: str  # what the number measures
    source: str
    model: str | None = None  # our model.name for the same model; None: not one of our configs
    k: int | None = None  # the k of pass@k, where the number is a pass@k difference
    value: float | None = None  # the number, in points, where it is one number
    note: str = ""


CLAIMS: tuple[PaperClaim, ...] = (
    *(
        PaperClaim(
            "strace",
            "grpo",
            name,
            f"+{points:.2f}",
            "average pass@16 gain (points)",
            f"{STRACE}, abstract",
            model=model,
            k=16,
            value=points,
            note=STRACE_BASELINE_NOTE,
        )
        for name, model, points in (
            ("Qwen3-1.7B", "qwen3-1.7b", 0.49),
            ("Qwen3-4B", "qwen3-4b", 3.16),
            ("Qwen3-8B", "qwen3-8b", 2.98),
        )
    ),
    PaperClaim(
        "grpo_lambda",
        "grpo",
        "1.5B–7B models (Qwen2.5, LLaMA-3.1)",
        "> +3",
        f"average over {', '.join(GRPO_LAMBDA_BENCHMARKS)} (points)",
        f"{GRPO_LAMBDA}, abstract",
    ),
    PaperClaim(
        "grpo_lambda",
        "grpo",
        "the 7B model",
        "+4.5",
        f"average over {', '.join(GRPO_LAMBDA_BENCHMARKS)} (points)",
        f"{GRPO_LAMBDA}, abstract",
        value=4.5,
    ),
    PaperClaim(
        "grpo_lambda",
        "grpo",
        "LLaMA-3.1 and Qwen-2.5",
        "30–40% (relative)",
        "improved performance during RL training (training curves)",
        f"{GRPO_LAMBDA}, abstract",
    ),
)


def claims_for(method: str, model: str, k: int) -> list[PaperClaim]:
    """The claims measured on our ``model`` for ``method`` at pass@``k``."""
    return [c for c in CLAIMS if c.method == method and c.model == model and c.k == k]
