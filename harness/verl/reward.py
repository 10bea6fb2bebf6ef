"""verl's custom reward function: the harness's math grader (``harness.grading.math_reward``).

``reward.custom_reward_function.path=<this file>`` (harness-verl sets it) makes verl's reward
manager call ``compute_score(data_source, solution_str, ground_truth, extra_info)`` per sample.
"""

from __future__ import annotations

from typing import Any

from harness.grading.score import math_reward

TIMEOUT_S = 5.0


def compute_score(data_source: str, solution_str: str, ground_truth: str, extra_info: Any = None) -> float:
    """1.0 when the completion's last boxed answer equals ``ground_truth`` (math-verify), else 0.0."""
    return math_reward(solution_str, str(ground_truth), timeout_s=TIMEOUT_S)
