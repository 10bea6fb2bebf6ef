"""Supervised warm start for tiny models, made once and cached.

A tiny model trained from scratch solves nothing, so RL would only ever see
zero reward. Before RL, the default run fine-tunes it (TRL's ``SFTTrainer``,
completion-only loss) on worked solutions of the arithmetic task's ``warm``
split (disjoint from RL's ``train`` and evaluation's ``test``), saves the result
under ``cache_dir`` keyed by everything that shapes it, and later runs reuse it: every method of a
seed, and every seed too when ``model.warm_start.seed`` is set.

One process builds an entry (holding ``<entry>.lock``) into ``<entry>.partial`` and renames it
into place when complete; parallel jobs on a cold cache wait for that lock, then reuse the entry.
A ``.partial`` left by a killed builder is removed by the next one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from datasets import Dataset

from harness.config.schema import ModelConfig, TaskConfig
from harness.problems.arith import make_problems
from harness.problems.prompt import prompt_messages
from harness.run.locks import exclusive
from harness.training.models import build_tiny


def cache_key(model: ModelConfig, task: TaskConfig, seed: int) -> str:
    # "steps": task.n_operations's name before it was renamed; kept so existing caches stay valid
    spec = {
        "tiny": model.build,
        "warm_start": {k: v for k, v in vars(model.warm_start).items() if k != "seed"},  # "seed" below
        "steps": task.n_operations,
        "max_operand": task.max_operand,
        "seed": seed,
        "version": 2,
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def _sft_dataset(model: ModelConfig, task: TaskConfig, seed: int) -> Dataset:
    rows = make_problems(
        "warm",
        model.warm_start.n_problems,
        n_operations=task.n_operations,
        max_operand=task.max_operand,
        seed=seed,
    )
    return Dataset.from_dict(
        {
            "prompt": [prompt_messages(r["problem"]) for r in rows],
            "completion": [[{"role": "assistant", "content": r["solution"]}] for r in rows],
        }
    )


def _train(model_cfg: ModelConfig, task: TaskConfig, seed: int, out: Path) -> None:
    from trl import SFTConfig, SFTTrainer

    model, tokenizer = build_tiny(model_cfg.build, seed=seed)
    ws = model_cfg.warm_start
    with tempfile.TemporaryDirectory() as tmp:
        args = SFTConfig(
            output_dir=tmp,
            max_steps=ws.steps,
            per_device_train_batch_size=ws.batch_size,
            learning_rate=ws.lr,
            lr_scheduler_type="cosine",
            warmup_steps=ws.steps // 20,
            logging_steps=max(1, ws.steps // 5),
            save_strategy="no",
            report_to="none",
            use_cpu=True,
            seed=seed,
            data_seed=seed,
            dataloader_num_workers=0,
            disable_tqdm=True,
        )
        trainer = SFTTrainer(
            model=model,
            args=args,
            train_dataset=_sft_dataset(model_cfg, task, seed),
            processing_class=tokenizer,
        )
        trainer.train()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def warm_start(model: ModelConfig, task: TaskConfig, seed: int, cache_dir: str | Path) -> Path:
    """Path of the cached warm-start checkpoint, training it first if it is missing.

    ``seed`` is the run's; ``model.warm_start.seed``, when set, replaces it, so every seed of a
    study starts from one checkpoint (as RL from one pretrained model does) and seeds vary RL alone.
    """
    seed = seed if model.warm_start.seed is None else model.warm_start.seed
    out = Path(cache_dir) / "warmstart" / f"{model.build}-{cache_key(model, task, seed)}"
    if out.is_dir():  # it appears by a rename, complete
        return out
    with exclusive(out.with_name(out.name + ".lock"), wait=True, what=f"the warm start {out}"):
        if out.is_dir():  # built by the process we waited for
            return out
        tmp = out.with_name(out.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        print(
            f"[harness] warm start: {model.warm_start.steps} SFT steps on worked solutions -> {out}",
            flush=True,
        )
        _train(model, task, seed, tmp)
        os.replace(tmp, out)
    return out
