"""Read what an offline W&B run recorded: its ``run-*.wandb`` file (history rows and config).

The file is a LevelDB-style log (7-byte W&B header; 32 KiB blocks of records with a
crc32/length/type header) of ``wandb_internal_pb2.Record`` protobufs; offline runs write no
wandb-summary.json, and wandb ships no Python reader for it any more.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any


def records(path: Path) -> list[Any]:
    """Every protobuf record of the file, in order."""
    from wandb.proto import wandb_internal_pb2 as pb

    data, pos, buf, out = path.read_bytes(), 7, b"", []
    while pos + 7 <= len(data):
        left = 32768 - pos % 32768
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7]) if left >= 7 else (0, 0, 0)
        if left < 7 or (kind == 0 and length == 0):
            pos += left
            continue
        buf += data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):  # FULL or LAST fragment
            rec = pb.Record()
            rec.ParseFromString(buf)
            buf = b""
            out.append(rec)
    return out


def _key(item: Any) -> str:
    return item.key or "/".join(item.nested_key)


def history_rows(path: Path) -> list[dict[str, Any]]:
    """Each logged history row (``_step``, ``_runtime``, … included)."""
    return [
        {_key(i): json.loads(i.value_json) for i in rec.history.item}
        for rec in records(path)
        if rec.WhichOneof("record_type") == "history"
    ]


def wandb_history(path: Path) -> dict[str, Any]:
    """The history rows merged into one dict (later rows win)."""
    merged: dict[str, Any] = {}
    for row in history_rows(path):
        merged.update(row)
    return merged


def wandb_config(path: Path) -> dict[str, Any]:
    """The run's config (top-level keys to values): the run record's, then later config updates."""
    config: dict[str, Any] = {}
    for rec in records(path):
        kind = rec.WhichOneof("record_type")
        updates = rec.run.config.update if kind == "run" else rec.config.update if kind == "config" else []
        config.update({_key(item): json.loads(item.value_json) for item in updates})
    config.pop("_wandb", None)
    return config
