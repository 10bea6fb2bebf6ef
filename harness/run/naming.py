"""Run-directory names: short, readable, always one valid path component (docs/run_dir.md).

A run dir is ``outputs/<task>-<model>-<method>/<overrides>``; ``<overrides>`` is built from the
command line's overrides (bookkeeping keys left out: ``conf/train.yaml``'s ``exclude_keys``, the
``dir_name`` column of ``harness.contract.BOOKKEEPING``), sorted by key, each ``key=value`` written
``key-value`` and joined with ``+``::

    method=strace method.entropy_quantile=0.1 trainer.seed=1
    -> method-strace+method.entropy_quantile-0.1+trainer.seed-1

* A value made only of ``[A-Za-z0-9_.-]`` is kept as written (a float with sweep noise such as
  ``0.9500000000000001`` is written ``0.95``).
* A path (``task.path=../../data/x.jsonl``) becomes its basename plus a hash of the full value
  (``x.jsonl-3f2a1c``), never a path: nothing is written outside the output root.
* Any other value (lists, spaces, quotes) becomes a sanitised form plus a hash of what was written.
* A name longer than ``MAX_NAME`` is cut and ends with a hash of all the overrides.
* No overrides: ``default``.

The names contain no ``=``, ``,`` or brackets, so ``checkpoint=<run dir>`` parses unquoted on a
Hydra command line. The full overrides stay in the run's ``config.yaml`` and ``.hydra/``.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence

from omegaconf import OmegaConf

from harness.contract import covers

MAX_NAME = 96
DEFAULT = "default"
_SAFE = re.compile(r"[A-Za-z0-9_.-]+")
_SAFE_NAME = re.compile(r"[A-Za-z0-9_.+-]+")  # a whole name: "+" joins its parts
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9_.-]+")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?")


def short_hash(text: str, n: int = 6) -> str:
    """A stable hex digest prefix of ``text`` (the same on every machine and Python run)."""
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def clean_float(text: str) -> str:
    """``0.9500000000000001`` -> ``0.95``: a float literal with more than 15 significant digits
    (what Hydra's ``range()`` of floats produces) written with 12; anything else unchanged."""
    if not _FLOAT.fullmatch(text):
        return text
    mantissa = re.split(r"[eE]", text)[0]
    if len(re.sub(r"\D", "", mantissa).strip("0")) <= 15:
        return text
    short = f"{float(text):.12g}"
    return short if re.search(r"[.eEn]", short) else short + ".0"


def clean_override(override: str) -> str:
    """``key=<noisy float>`` -> ``key=<clean float>``; other overrides unchanged."""
    key, sep, value = override.partition("=")
    return f"{key}{sep}{clean_float(value)}" if sep else override


def sanitize(text: str) -> str:
    """Only ``[A-Za-z0-9_.-]``, no ``..``, no leading dot or dash (never ``.``, ``..`` or a hidden file)."""
    text = re.sub(r"_+", "_", _UNSAFE_RUN.sub("_", text).replace("..", "_"))
    return text.strip("_").lstrip(".-") or "_"


def _is_path(value: str) -> bool:
    return "/" in value or "\\" in value or value.startswith(("~", "."))


def value_token(value: str) -> str:
    """One override value as a safe, readable token (see the module docstring)."""
    value = clean_float(value)
    bare = value.strip("'\"")
    if _is_path(bare):
        base = os.path.basename(bare.replace("\\", "/").rstrip("/")) or "root"
        return f"{sanitize(base)}-{short_hash(value)}"
    if _SAFE.fullmatch(value):  # never a whole path component: it follows ``key-``
        return value
    return f"{sanitize(value).strip('_') or 'x'}-{short_hash(value)}"


def token(text: str) -> str:
    """``text`` as one safe path component: unchanged when already safe, else sanitised + hash."""
    if _SAFE_NAME.fullmatch(text) and not text.startswith((".", "-", "+")) and ".." not in text:
        return text
    return f"{sanitize(text)}-{short_hash(text)}"


def excluded(key: str, exclude: Sequence[str]) -> bool:
    """Whether ``key`` is, or lies under, one of the ``exclude`` keys (``*`` matches one part)."""
    return any(covers(e, key) for e in exclude)


def _kept(overrides: Sequence[str], exclude: Sequence[str]) -> list[tuple[str, str, bool]]:
    kept = []
    for override in overrides:
        key, sep, value = override.partition("=")
        key = key.lstrip("+~")
        if not excluded(key, exclude):
            kept.append((key, value, bool(sep)))
    return sorted(kept)


def _shorten(name: str, overrides: Sequence[str]) -> str:
    if len(name) <= MAX_NAME:
        return name
    return name[: MAX_NAME - 9].rstrip("+-._") + "-" + short_hash("\n".join(sorted(overrides)), 8)


def overrides_name(overrides: Sequence[str], exclude: Sequence[str] = ()) -> str:
    """The run's subdirectory name from its command-line overrides (module docstring)."""
    kept = _kept(overrides, exclude)
    if not kept:
        return DEFAULT
    parts = [
        f"{sanitize(key)}-{value_token(value)}" if sep else f"{sanitize(key)}-deleted"
        for key, value, sep in kept
    ]
    return _shorten("+".join(parts), [f"{k}={v}" for k, v, _ in kept])


def sweep_name(config_name: str, overrides: Sequence[str], exclude: Sequence[str] = ()) -> str:
    """An ad-hoc ``-m`` sweep's directory: ``<config>-<swept keys joined by +>-<hash of all overrides>``.

    ``python -m harness.train -m method=grpo,gspo trainer.seed=0,1`` ->
    ``train-method+trainer.seed-<hash>``; the same command line gives the same name, so a
    relaunch finds its runs.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    kept = [
        o
        for o in OverridesParser.create().parse_overrides(list(overrides))
        if not excluded(o.key_or_group, exclude)
    ]
    if not kept:
        return token(config_name)
    swept = sorted({o.key_or_group for o in kept if o.is_sweep_override()})
    lines = [str(o.input_line) for o in kept]
    digest = short_hash("\n".join(sorted(lines)))
    name = "-".join(
        [sanitize(config_name), *(["+".join(sanitize(k) for k in swept)] if swept else []), digest]
    )
    return _shorten(name, lines)


def register_resolvers() -> None:
    """``${harness.token:...}`` and ``${harness.overrides:<overrides>,<exclude keys>}`` (conf/train.yaml)."""
    OmegaConf.register_new_resolver("harness.token", lambda text: token(str(text)), replace=True)
    OmegaConf.register_new_resolver(
        "harness.overrides",
        lambda overrides, exclude=(): overrides_name(list(overrides), list(exclude or ())),
        replace=True,
    )
