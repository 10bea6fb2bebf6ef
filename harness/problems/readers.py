"""The raw rows of a problem source's local file or hub dataset.

``.jsonl`` / ``.json`` / ``.parquet`` files are read here, so a malformed line is reported by number;
anything else local (globs, compressed files) and the hub go through ``datasets.load_dataset``. Every
failure is a ``DataError`` that starts with the config key (``task.path``, ``benchmark.aime24.hub``).
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.errors import DataError
from harness.problems.source import ProblemSource

LOCAL_SUFFIXES = (".jsonl", ".json", ".parquet")


def read_rows(src: ProblemSource) -> list[object]:
    """Every raw row of ``src``'s file or hub dataset (at least one), in order."""
    if src.path:  # a local file, or an offline copy of a hub dataset
        rows = _read_path(Path(src.path).expanduser(), f"{src.key}.path")
        empty = f"{src.key}.path={src.path}: no rows (the file is empty)"
    else:
        rows = _read_hub(src)
        empty = f"{src.key}.hub={src.hub}: no rows (split {src.split!r} is empty)"
    if not rows:
        raise DataError(empty)
    return rows


def _read_path(path: Path, key: str) -> list[object]:
    if path.suffix.lower() in LOCAL_SUFFIXES:
        return _read_file(path, key)
    from datasets import load_dataset

    builder = "parquet" if ".parquet" in (s.lower() for s in path.suffixes) else "json"
    try:
        return load_dataset(builder, data_files=str(path), split="train").to_list()
    except Exception as err:  # missing, unreadable: one message naming the key
        raise DataError(f"{key}={path}: cannot load ({type(err).__name__}: {_first_line(err)})") from None


def _read_file(path: Path, key: str) -> list[object]:
    """Rows of a ``.jsonl`` / ``.json`` (lines or one list) / ``.parquet`` file."""
    if not path.is_file():
        raise DataError(f"{key}: {path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    text = path.read_text(encoding="utf-8")
    if suffix == ".json" and text.lstrip().startswith("["):
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise DataError(f"{key}: {path}: invalid JSON ({err})") from None
    return _read_jsonl(text.split("\n"), path, key)  # not splitlines(): JSON text may hold U+2028


def _read_jsonl(lines: list[str], path: Path, key: str) -> list[object]:
    rows = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise DataError(f"{key}: {path}: line {i + 1}: invalid JSON ({err})") from None
    return rows


def _read_hub(src: ProblemSource) -> list[object]:
    """Rows of a hub dataset split (cached by ``datasets``)."""
    import datasets

    try:
        return datasets.load_dataset(src.hub, src.subset or None, split=src.split).to_list()
    except Exception as err:  # offline, missing, gated: all need the same advice
        raise DataError(
            f"{src.key}.hub={src.hub}: cannot load (subset={src.subset or None}, split={src.split}): "
            f"{type(err).__name__}: {_first_line(err)}. Offline? Save it as JSONL/parquet and set "
            f"{src.key}.path=<file>."
        ) from None


def _first_line(err: Exception) -> str:
    return (str(err).splitlines() or [""])[0]
