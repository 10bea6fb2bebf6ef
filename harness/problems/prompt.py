"""The prompt every model sees.

``render_prompt`` is the one place a problem becomes model input, shared by training and evaluation.
"""

from __future__ import annotations

from typing import Any

INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."


def prompt_messages(problem: str) -> list[dict[str, str]]:
    """The conversational prompt TRL and the evaluator feed to the chat template."""
    return [{"role": "user", "content": f"{problem}\n{INSTRUCTION}"}]


def render_prompt(tokenizer: Any, problem: str) -> str:
    """Apply the tokenizer's chat template to ``problem`` with a generation prompt."""
    return tokenizer.apply_chat_template(prompt_messages(problem), tokenize=False, add_generation_prompt=True)
