"""Sampling backends: ``generate(prompts, n, sampling) -> [[(text, n_tokens)] * n] * len(prompts)``.

* :class:`HFBackend`: batched ``model.generate`` (CPU or GPU), left padding, each
  prompt repeated ``n`` times and the flat list cut into ``batch_size`` sequences.
* :class:`VLLMBackend`: vLLM's offline ``LLM.generate`` with ``SamplingParams(n=...)``;
  vllm is imported lazily (GPU extra).

Prompts are already chat-templated strings (``harness.problems.prompt.render_prompt``); both
backends tokenize them without adding special tokens, as TRL does in training.
Token counts include the EOS token when one was generated (TRL's completion length).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from tqdm.auto import tqdm

Completion = tuple[str, int]


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.6
    top_p: float = 0.95
    max_new_tokens: int = 1024
    seed: int = 0


class Backend(Protocol):
    def generate(self, prompts: list[str], n: int, sampling: Sampling) -> list[list[Completion]]: ...


def _eos_ids(model: Any, tokenizer: Any) -> list[int]:
    ids: list[int] = []
    gen_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for value in (gen_eos, tokenizer.eos_token_id):
        if value is None:
            continue
        ids.extend(value if isinstance(value, (list, tuple)) else [value])
    return sorted({int(i) for i in ids})


class HFBackend:
    """``transformers`` generation; ``batch_size`` counts sequences (prompt x sample)."""

    def __init__(
        self, model: Any, tokenizer: Any, *, batch_size: int = 64, progress: bool = True, desc: str = "eval"
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.progress = progress
        self.desc = desc
        self.eos_ids = _eos_ids(model, tokenizer)
        pad = tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else self.eos_ids[0]

    def _gen_kwargs(self, s: Sampling) -> dict[str, Any]:
        kw: dict[str, Any] = {
            "max_new_tokens": s.max_new_tokens,
            "eos_token_id": self.eos_ids,
            "pad_token_id": self.pad_id,
            "use_cache": True,
            "repetition_penalty": 1.0,
            "num_beams": 1,
        }
        if s.temperature > 0:  # top_k=0: the protocol is temperature + top_p only
            kw.update(do_sample=True, temperature=s.temperature, top_p=s.top_p, top_k=0)
        else:
            kw.update(do_sample=False)
        return kw

    def _decode(self, row: Any) -> Completion:
        ids = row.tolist()
        n_tokens = len(ids)
        for j, tok in enumerate(ids):
            if tok in self.eos_ids:
                n_tokens = j + 1
                break
        text = self.tokenizer.decode(ids[:n_tokens], skip_special_tokens=True)
        return text, n_tokens

    def _generate_batch(self, texts: list[str], sampling: Sampling) -> list[Completion]:
        import torch

        enc = self.tokenizer(
            texts, return_tensors="pt", padding=True, padding_side="left", add_special_tokens=False
        )
        device = next(self.model.parameters()).device
        enc = {k: v.to(device) for k, v in enc.items()}
        with torch.inference_mode():
            out = self.model.generate(**enc, **self._gen_kwargs(sampling))
        new = out[:, enc["input_ids"].shape[1] :].cpu()
        return [self._decode(row) for row in new]

    def generate(self, prompts: list[str], n: int, sampling: Sampling) -> list[list[Completion]]:
        flat = [i for i in range(len(prompts)) for _ in range(n)]  # prompt-major
        results: list[list[Completion]] = [[] for _ in prompts]
        was_training = self.model.training
        self.model.eval()
        bar = tqdm(total=len(prompts), desc=self.desc, unit="problem", disable=not self.progress, leave=False)
        try:
            done = 0
            for start in range(0, len(flat), self.batch_size):
                idx = flat[start : start + self.batch_size]
                outs = self._generate_batch([prompts[i] for i in idx], sampling)
                for i, completion in zip(idx, outs, strict=True):
                    results[i].append(completion)
                finished = (start + len(idx)) // n
                bar.update(finished - done)
                done = finished
        finally:
            bar.close()
            self.model.train(was_training)
        return results


class VLLMBackend:
    """vLLM offline inference from a checkpoint directory or hub id (GPU)."""

    def __init__(
        self,
        model: str,
        *,
        seed: int = 0,
        dtype: str = "auto",
        gpu_memory_utilization: float = 0.85,
        tensor_parallel_size: int = 1,
        max_model_len: int | None = None,
        progress: bool = True,
    ) -> None:
        try:
            from vllm import LLM
        except ImportError as err:
            raise ImportError(
                "eval.backend=vllm needs vllm (pip install 'harness[gpu]'); use eval.backend=hf"
            ) from err
        self.llm = LLM(
            model=model,
            seed=seed,
            dtype=dtype,
            gpu_memory_utilization=gpu_memory_utilization,
            tensor_parallel_size=tensor_parallel_size,
            max_model_len=max_model_len,
        )
        self.tokenizer = self.llm.get_tokenizer()
        self.progress = progress

    def generate(self, prompts: list[str], n: int, sampling: Sampling) -> list[list[Completion]]:
        from vllm import SamplingParams

        params = SamplingParams(
            n=n,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            top_k=-1,  # disabled: the protocol is temperature + top_p (temperature 0 = greedy)
            max_tokens=sampling.max_new_tokens,
            seed=sampling.seed,
        )
        inputs = [
            {"prompt_token_ids": self.tokenizer(p, add_special_tokens=False)["input_ids"]} for p in prompts
        ]
        outputs = self.llm.generate(inputs, params, use_tqdm=self.progress)
        return [
            [(o.text, len(o.token_ids)) for o in sorted(out.outputs, key=lambda o: o.index)]
            for out in outputs
        ]
