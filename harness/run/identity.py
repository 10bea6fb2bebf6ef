"""Run identity: a run dir belongs to one semantic config, recorded as a hash in ``run.json``.

The *semantic* config is the resolved config without the keys that the contract's bookkeeping table
leaves out of the resume identity (``harness.contract.BOOKKEEPING``, column ``resume``: logging and
W&B, the resume mode, the cache location, the display name, resources, hardware layout, checkpoint
and evaluation cadence), so switching W&B off, relaunching on another launcher or with a longer
time limit resumes the same run, while any change to what is trained or measured does not.
``decide`` says what a launch does with a run dir under ``resume: auto | never | must``;
``harness.train`` and the sweep launchers (``harness.sweeps.launchers``) both use it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from harness.contract import CONFIG_FILE, bookkeeping_keys, without
from harness.errors import RunDirError
from harness.plain import plain_dict
from harness.run.run_dir import RunRecord, checkpoint_dirs, has_state

MAX_DIFF = 20


def semantic_config(cfg: DictConfig | dict[str, Any]) -> dict[str, Any]:
    """The resolved config as plain data, without the keys bookkeeping for ``resume``
    (``harness.contract.BOOKKEEPING``)."""
    data = plain_dict(cfg) if isinstance(cfg, DictConfig) else json.loads(json.dumps(cfg))
    return without(data, bookkeeping_keys("resume"))


def config_hash(semantic: dict[str, Any]) -> str:
    """16 hex digits of the sha256 of the semantic config (keys sorted)."""
    return hashlib.sha256(json.dumps(semantic, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict) and data:
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: data}


def config_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """``key: old → new`` for every leaf that differs (``(absent)`` where a side lacks it)."""
    a, b = _flatten(old), _flatten(new)
    absent = "(absent)"
    lines = [
        f"{k}: {json.dumps(a.get(k, absent))} → {json.dumps(b.get(k, absent))}"
        for k in sorted(set(a) | set(b))
        if a.get(k, absent) != b.get(k, absent)
    ]
    return lines[:MAX_DIFF] + ([f"... and {len(lines) - MAX_DIFF} more"] if len(lines) > MAX_DIFF else [])


def recorded_config(run_dir: Path) -> dict[str, Any] | None:
    """The semantic config of the run already in ``run_dir`` (from its config.yaml), if any."""
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        return None
    try:
        loaded = OmegaConf.load(path)
        if not isinstance(loaded, DictConfig):
            raise TypeError("not a mapping")
        return semantic_config(loaded)
    except Exception as err:
        raise RunDirError(f"{path}: cannot be read ({type(err).__name__}: {err}); fix or delete it") from None


@dataclass
class Decision:
    """What a launch does with its run dir: ``new``, ``resume``, ``skip`` (finished) or ``refuse``."""

    action: str
    reason: str

    def check(self) -> Decision:
        """Raise ``RunDirError`` with the reason if refused."""
        if self.action == "refuse":
            raise RunDirError(self.reason)
        return self


def decide(run_dir: Path, semantic: dict[str, Any], mode: str) -> Decision:
    """Apply ``resume=<mode>`` to ``run_dir`` for a launch of the config ``semantic``.

    auto: resume (or skip, if finished) only when the semantic configs match, else refuse with a
    diff; never: refuse a run dir that already holds a run; must: refuse if there is none. The
    configs match when the hash recorded in run.json does, or when the run's config.yaml, read
    under today's bookkeeping table, does: a run recorded before a key became bookkeeping resumes.
    """
    run_dir = Path(run_dir)
    if not has_state(run_dir):
        if mode == "must":
            return Decision(
                "refuse",
                f"resume=must: nothing to resume in {run_dir} (no run.json, metrics or "
                "checkpoints); use resume=auto to start it",
            )
        return Decision("new", "new run")
    record = RunRecord(run_dir)
    status = record.data.get("status", "unknown")
    if mode == "never":
        return Decision(
            "refuse",
            f"resume=never: {run_dir} already holds a run (status {status}); delete it, "
            "choose another run dir, or use resume=auto",
        )
    old = recorded_config(run_dir)
    new_hash = config_hash(semantic)
    same = record.data.get("config_hash") == new_hash or (old is not None and config_hash(old) == new_hash)
    if not same:
        diff = config_diff(old, semantic) if old is not None else ["(the old run recorded no config.yaml)"]
        return Decision(
            "refuse",
            f"{run_dir} holds a run (status {status}) with a different config:\n  "
            + "\n  ".join(diff)
            + "\nresume=auto only resumes the same config: delete the "
            "run dir, or run elsewhere (e.g. hydra.run.dir=...)",
        )
    if status == "finished":
        return Decision("skip", "finished, same config")
    ckpts = checkpoint_dirs(run_dir)
    where = f"from {ckpts[-1].name}" if ckpts else "from the start (no checkpoint yet)"
    return Decision("resume", f"status {status}, same config: resume {where}")
