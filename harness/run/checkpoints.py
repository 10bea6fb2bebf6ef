"""Checkpoints: written atomically, validated before a resume, damaged ones set aside.

TRL/transformers write the checkpoint files (model, optimizer, scheduler, RNG, trainer state);
:class:`AtomicCheckpoints` only makes each one appear whole: it is written under
``checkpoints/.staging/`` and renamed to ``checkpoints/checkpoint-N`` once every process has
written its part. Before a resume, :func:`resumable_checkpoint` checks the newest checkpoint
(every file present and loadable) and, if one is damaged (a disk error, a copy cut short),
names the file, moves the checkpoint to ``checkpoints/set-aside/`` (never deletes it) and
tries the previous one.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, rotate_checkpoints

from harness.run import faults
from harness.run.run_dir import CHECKPOINTS, checkpoint_dirs, checkpoint_step, publish_dir

log = logging.getLogger(__name__)

STAGING = ".staging"
SET_ASIDE = "set-aside"
TRAINER_STATE = "trainer_state.json"
FULL_ZIP_CHECK_BYTES = 256 * 2**20  # CRC-check smaller torch files entirely; larger: their zip directory


def _check_safetensors(path: Path) -> None:
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:  # parses the header; fails unless the data covers it
        f.keys()


def _check_torch_zip(path: Path) -> None:
    """``torch.save`` files are zip archives: a cut-off file loses its central directory."""
    with zipfile.ZipFile(path) as archive:
        size = path.stat().st_size
        for info in archive.infolist():
            if info.header_offset + info.compress_size > size:
                raise ValueError(f"member {info.filename} runs past the end of the file")
        if size <= FULL_ZIP_CHECK_BYTES and (bad := archive.testzip()) is not None:
            raise ValueError(f"member {bad} fails its CRC check")


def _check_json(path: Path) -> None:
    json.loads(path.read_text())


CHECKS: dict[str, Callable[[Path], None]] = {
    ".safetensors": _check_safetensors,
    ".pt": _check_torch_zip,
    ".pth": _check_torch_zip,
    ".bin": _check_torch_zip,
    ".json": _check_json,
}


def _required(ckpt: Path) -> list[str]:
    files = [TRAINER_STATE, "config.json"]
    index = ckpt / "model.safetensors.index.json"
    if index.is_file():
        files += sorted(set(json.loads(index.read_text())["weight_map"].values()))
    else:
        files.append("model.safetensors")
    if not (ckpt / "latest").is_file():  # DeepSpeed keeps optimizer states in global_step*/ instead
        files += ["optimizer.pt", "scheduler.pt"]
    return files


def damage(ckpt: Path) -> str | None:
    """What is wrong with ``checkpoint-N``, naming the file; None if every file is present and loadable."""
    ckpt = Path(ckpt)
    try:
        missing = [name for name in _required(ckpt) if not (ckpt / name).is_file()]
    except (OSError, ValueError, KeyError) as err:
        return f"model.safetensors.index.json cannot be read ({type(err).__name__}: {err})"
    if not any(ckpt.glob("rng_state*.pth")):
        missing.append("rng_state.pth")
    if missing:
        return f"{missing[0]} is missing"
    for path in sorted(p for p in ckpt.rglob("*") if p.is_file() and p.suffix in CHECKS):
        try:
            CHECKS[path.suffix](path)
        except Exception as err:
            return f"{path.relative_to(ckpt)} cannot be loaded ({type(err).__name__}: {err})"
    step = json.loads((ckpt / TRAINER_STATE).read_text()).get("global_step")
    if step != checkpoint_step(ckpt):
        return f"{TRAINER_STATE} says global_step {step}, not {checkpoint_step(ckpt)}"
    return None


def set_aside(ckpt: Path, reason: str) -> Path:
    """Move ``ckpt`` to ``checkpoints/set-aside/`` (with a ``REASON.txt``); return where it went."""
    root = ckpt.parent / SET_ASIDE
    root.mkdir(exist_ok=True)
    dest, i = root / ckpt.name, 1
    while dest.exists():
        dest, i = root / f"{ckpt.name}.{i}", i + 1
    os.replace(ckpt, dest)
    (dest / "REASON.txt").write_text(reason + "\n")
    return dest


def resumable_checkpoint(run_dir: Path, max_step: int) -> Path | None:
    """The newest intact ``checkpoint-N`` with N <= ``max_step``, setting aside newer damaged ones.

    Also removes ``checkpoints/.staging`` (a save that a kill cut short; never a checkpoint).
    Call it holding the run dir's lock, on one process.
    """
    shutil.rmtree(Path(run_dir) / CHECKPOINTS / STAGING, ignore_errors=True)
    for ckpt in reversed(checkpoint_dirs(run_dir)):
        reason: str | None
        if checkpoint_step(ckpt) > max_step:
            reason = f"beyond trainer.steps={max_step}"
        elif (reason := damage(ckpt)) is None:
            return ckpt
        moved = set_aside(ckpt, reason)
        log.warning("checkpoint %s not used: %s; moved to %s", ckpt, reason, moved)
    return None


if TYPE_CHECKING:
    from transformers import Trainer as _Trainer
else:
    _Trainer = object


class AtomicCheckpoints(_Trainer):
    """``Trainer`` mixin: a checkpoint appears under its real name only once it is complete."""

    _staging: str | None = None

    def _get_output_dir(self, trial: Any) -> str:
        return self._staging or super()._get_output_dir(trial)

    def _save_checkpoint(self, model: Any, trial: Any) -> None:
        root = Path(super()._get_output_dir(trial))
        name = f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}"
        self._staging = str(root / STAGING)
        try:
            super()._save_checkpoint(model, trial)  # every file, into .staging/checkpoint-N
        finally:
            self._staging = None
        faults.point("checkpoint")
        self.accelerator.wait_for_everyone()  # every process has written its part (RNG states, shards)
        if self.args.should_save:
            publish_dir(root / STAGING / name, root / name)
            (root / STAGING).rmdir()
            rotate_checkpoints(
                str(root), self.args.save_total_limit, self.state.best_model_checkpoint, use_mtime=True
            )
        self.accelerator.wait_for_everyone()
