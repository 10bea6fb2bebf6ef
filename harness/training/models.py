"""Models and tokenizers: hub/local checkpoints, and tiny Qwen3 models built offline.

Real sizes load with ``AutoModelForCausalLM.from_pretrained`` from a hub name or
a local directory. The ``tiny`` sizes are ``Qwen3ForCausalLM`` built from a config
(random init) with a byte-level BPE tokenizer trained here on the arithmetic
task's text, so nothing is downloaded.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    PreTrainedTokenizerFast,
    Qwen3Config,
    Qwen3ForCausalLM,
)

from harness.errors import ConfigError

_HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?")

EOS = "<|endoftext|>"
TINY_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}Q: {{ message['content'] }}\n"
    "{% else %}A: {{ message['content'] }}{{ eos_token }}\n{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}A: {% endif %}"
)


@dataclass(frozen=True)
class TinyArch:
    """Shape of a from-scratch Qwen3 model."""

    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    intermediate_size: int
    max_position_embeddings: int = 512


TINY_ARCHS = {
    "tiny": TinyArch(64, 2, 4, 2, 256),
    "tiny-m": TinyArch(128, 4, 4, 2, 512),
}


def train_tiny_tokenizer(vocab_size: int = 384) -> PreTrainedTokenizerFast:
    """Byte-level BPE (digits split one by one) trained on the arithmetic task's text."""
    from harness.problems.arith import tokenizer_corpus

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(tokenizer_corpus(), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token=EOS,
        pad_token=EOS,
        chat_template=TINY_CHAT_TEMPLATE,
        model_max_length=TINY_ARCHS["tiny"].max_position_embeddings,
    )


def build_tiny(size: str = "tiny", seed: int = 0) -> tuple[PreTrainedModel, PreTrainedTokenizerFast]:
    """A randomly initialised ``Qwen3ForCausalLM`` of ``size`` and its local tokenizer."""
    if size not in TINY_ARCHS:
        raise ValueError(f"model size must be one of {sorted(TINY_ARCHS)}, got {size!r}")
    arch = TINY_ARCHS[size]
    tokenizer = train_tiny_tokenizer()
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        head_dim=arch.hidden_size // arch.num_attention_heads,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.eos_token_id,
        **vars(arch),
    )
    torch.manual_seed(seed)
    model = Qwen3ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def load_pretrained(path: str, dtype: str = "float32") -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Model and tokenizer from a hub name or local directory (``from_pretrained``)."""
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model: PreTrainedModel = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype))
    return model, tokenizer


def is_hub_id(source: str) -> bool:
    """``org/name`` or ``name`` that is not a local path (``/x``, ``./x``, ``~/x``, ``a/b/c``)."""
    return bool(_HUB_ID.fullmatch(source)) and not Path(source).expanduser().exists()


def check_source(source: str, key: str) -> str:
    """Check, before anything is loaded, that ``source`` (the value of config key ``key``) is a
    ``from_pretrained`` directory or a hub model whose config can be fetched (or is cached,
    offline); return it. Raise ``ConfigError`` naming the key otherwise."""
    if not is_hub_id(source):
        path = Path(source).expanduser()
        if not path.is_dir():
            raise ConfigError(f"{key}={source}: no such directory")
        if not (path / "config.json").is_file():
            raise ConfigError(f"{key}={source}: not a model directory (no config.json)")
        return source
    from transformers import AutoConfig

    try:
        AutoConfig.from_pretrained(source)
    except Exception as err:
        offline = (
            " (HF_HUB_OFFLINE=1: is it in the local cache?)"
            if os.environ.get("HF_HUB_OFFLINE") == "1"
            else ""
        )
        raise ConfigError(
            f"{key}={source}: cannot load the model's config{offline}: {type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''}"
        ) from None
    return source
