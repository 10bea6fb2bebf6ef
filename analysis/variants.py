"""Which config keys make a variant, which are bookkeeping, and which a sweep varies.

A run's config.yaml is flattened with ``pd.json_normalize`` into dotted columns
of ``Sweep.runs`` (``method.lam``, ``trainer.lr``, ...). Two runs are seeds of
the same *variant* (tables pool them) exactly when every flattened key agrees,
except the seed and the :data:`BOOKKEEPING` keys. Nothing here lists the keys
that matter, so a key added to the config separates variants without a code
change; only what is *not* part of a variant's identity is listed, in the
run-dir contract's one bookkeeping table (``harness.contract``), beside what
run-dir names and the resume identity leave out.

A variant's label names its model and method plus the keys that vary within
the sweep beyond what model and method already say (GSPO's own clip range is
not news; GRPO run at two clip ranges is), so labels stay short and still tell
every variant apart.

An ablation of a key shows only the variants run at two or more of its values
with everything else the same (:func:`ablated`): P-trace at its fixed λ is no
row of a GRPO-λ λ sweep. The same variant at the same seed twice is one
experiment (:func:`analysis.load.drop_duplicates` keeps one).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import pandas as pd

from harness import contract

MODEL = "model.name"
METHOD = "method.name"
SEED = "trainer.seed"
#: Row keys of every table: never an ablation axis.
HEAD = (MODEL, METHOD)
#: Shown for a key a run does not have (e.g. ``method.lam`` of GRPO).
MISSING = "—"

#: Config keys that never separate variants: the ``pooling`` column of the run-dir contract's one
#: bookkeeping table (``harness.contract.BOOKKEEPING``), which also says what run-dir names and
#: the resume identity leave out. A key covers everything under it; ``*`` matches one part.
BOOKKEEPING: tuple[str, ...] = contract.bookkeeping_keys("pooling")
#: Short names that are not the last part of their key.
ALIASES: dict[str, str] = {"quantile": "method.entropy_quantile", "seed": SEED}


class ConfigKeyError(KeyError):
    """A config key that these runs do not have, or a short name that fits several."""

    def __str__(self) -> str:
        return str(self.args[0])


class NotAnAxis(ValueError):
    """An ablation asked for a key the sweep does not vary (within any model and method)."""


def is_bookkeeping(key: str) -> bool:
    """Whether runs that differ in ``key`` (a dotted config key) are still seeds of one variant."""
    return contract.is_bookkeeping(key, "pooling")


def identity_keys(config_keys: Iterable[str]) -> list[str]:
    """The config keys that tell variants apart: all but the seed and bookkeeping."""
    return [k for k in config_keys if not is_bookkeeping(k)]


def resolve(name: str, config_keys: Sequence[str]) -> str:
    """The full dotted key for ``name``: itself, an alias, a group (``model`` -> ``model.name``)
    or the one key ending in ``.name`` (``clip_high`` -> ``method.clip_high``)."""
    keys = list(config_keys)
    name = ALIASES.get(name, name)
    for candidate in (name, f"{name}.name"):
        if candidate in keys:
            return candidate
    matches = [k for k in keys if k.endswith("." + name)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ConfigKeyError(f"config key {name!r} is ambiguous ({', '.join(matches)}): give the full key")
    by_last: dict[str, list[str]] = {}
    for k in keys:
        by_last.setdefault(k.rsplit(".", 1)[-1], []).append(k)
    close = [
        k for last in difflib.get_close_matches(name.rsplit(".", 1)[-1], by_last, n=4) for k in by_last[last]
    ]
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ConfigKeyError(f"no config key {name!r} in these runs{hint}")


def _spread(runs: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Distinct values (a missing key counts as one) of each key per (model, method)."""
    return runs.groupby(list(HEAD), dropna=False)[keys].nunique(dropna=False)


def varied(runs: pd.DataFrame, keys: Iterable[str]) -> list[str]:
    """The ``keys`` (besides model and method) that take two values within some (model, method)."""
    keys = [k for k in keys if k not in HEAD]
    if not len(runs) or not keys:
        return []
    spread = _spread(runs, keys)
    return [k for k in keys if (spread[k] > 1).any()]


def label_keys(runs: pd.DataFrame, keys: Iterable[str], exclude: Iterable[str] = ()) -> list[str]:
    """Model, method and the ``keys`` that vary beyond them: a table's row keys.

    Two variants (ignoring ``exclude``) always differ in one of these keys.
    """
    exclude = set(exclude)
    head = [k for k in HEAD if k not in exclude]
    return head + varied(runs, [k for k in keys if k not in exclude])


def axes(runs: pd.DataFrame, config_keys: Iterable[str]) -> list[str]:
    """Every identity key the sweep ablates: it varies within some model and method, and some
    variant was run at two of its values with nothing else changed (:func:`ablated`)."""
    keys = list(config_keys)
    return [k for k in varied(runs, identity_keys(keys)) if len(ablated(runs[runs[k].notna()], k, keys))]


def check_axis(runs: pd.DataFrame, key: str) -> None:
    """Raise :class:`NotAnAxis` unless ``key`` varies within some model and method."""
    if key in HEAD:
        raise NotAnAxis(f"{key} is a row of every table (see main_table), not an ablation axis")
    if not varied(runs, [key]):
        values = ", ".join(sorted({str(v) for v in runs[key].tolist()})) if len(runs) else "no runs"
        raise NotAnAxis(
            f"these runs do not vary {key} within any model and method ({values}): nothing to ablate"
        )


def ablated(runs: pd.DataFrame, key: str, config_keys: Iterable[str]) -> pd.DataFrame:
    """The ``runs`` that ablate ``key``: those whose variant apart from ``key`` (its *family*,
    model aside) was run at two or more values of ``key`` on some model.

    A family that only ever ran at one value (P-trace at its fixed λ in a GRPO-λ λ sweep) is
    no ablation of ``key`` and gets no row; runs that failed count, so a value that never
    finished still shows as a gap.
    """
    others = [k for k in identity_keys(config_keys) if k not in (key, MODEL)]
    families = row_tuples(runs, others)
    values: dict[tuple, dict[object, set]] = {}
    for family, model, value in zip(families, runs[MODEL], runs[key], strict=True):
        values.setdefault(family, {}).setdefault(model, set()).add(value)
    keep = {f for f, per_model in values.items() if any(len(v) > 1 for v in per_model.values())}
    return runs[[f in keep for f in families]]


def ablation_runs(runs: pd.DataFrame, key: str, config_keys: Iterable[str]) -> pd.DataFrame:
    """The runs an ablation of ``key`` shows: those that have the key, of the variants run at
    two or more of its values (:func:`ablated`). Raises :class:`NotAnAxis` if there are none."""
    runs = runs[runs[key].notna()]
    check_axis(runs, key)
    found = ablated(runs, key, config_keys)
    if not len(found):
        raise NotAnAxis(
            f"no variant of these runs was run at two values of {key} with everything else the same "
            "(the runs that differ in it also differ in other keys): nothing to ablate"
        )
    return found


def row_tuples(runs: pd.DataFrame, keys: list[str]) -> list[tuple]:
    """Each run's values of ``keys`` as a tuple, a missing value as :data:`MISSING`."""
    frame = runs[keys].astype(object)
    return list(frame.where(frame.notna(), MISSING).itertuples(index=False, name=None))
