"""Fixtures for the evaluator tests: offline env, a tiny checkpoint, a scripted backend."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "WANDB_MODE": "offline",
    "TOKENIZERS_PARALLELISM": "false",
    "WANDB_SILENT": "true",
}.items():
    os.environ.setdefault(_key, _value)

CHECKPOINT_STEP = 7


@pytest.fixture(scope="session")
def tiny_model():
    """A random-init tiny Qwen3 and its tokenizer (harness.training.models.build_tiny)."""
    from harness.training.models import build_tiny

    return build_tiny("tiny", seed=0)


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_model, tmp_path_factory) -> Path:
    """The tiny model saved like a TRL checkpoint (with trainer_state.json, global_step 7)."""
    model, tokenizer = tiny_model
    path = tmp_path_factory.mktemp("ckpt") / f"checkpoint-{CHECKPOINT_STEP}"
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    (path / "trainer_state.json").write_text(json.dumps({"global_step": CHECKPOINT_STEP}))
    return path


class ScriptedBackend:
    """Backend whose completions are scripted per prompt: ``script(prompt_index, sample_index)``."""

    def __init__(self, script) -> None:
        self.script = script
        self.calls = 0

    def generate(self, prompts, n, sampling):
        self.calls += 1
        return [[(self.script(i, j), 5 + j) for j in range(n)] for i in range(len(prompts))]


class EchoTokenizer:
    """Stands in for a chat tokenizer: render_prompt only needs apply_chat_template."""

    def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=True):
        return "Q: " + messages[-1]["content"] + "\nA: "


@pytest.fixture
def scripted():
    return ScriptedBackend


@pytest.fixture
def echo_tokenizer():
    return EchoTokenizer()
