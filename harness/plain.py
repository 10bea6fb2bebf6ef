"""OmegaConf nodes as typed Python values: the two conversions every entry point makes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from omegaconf import DictConfig, ListConfig, OmegaConf

T = TypeVar("T")


def plain_dict(cfg: DictConfig | Mapping[str, Any], resolve: bool = True) -> dict[str, Any]:
    """A config node as a plain dict (what W&B, hashing and submitit take); interpolations resolved."""
    if not isinstance(cfg, DictConfig):
        return dict(cfg)
    out = OmegaConf.to_container(cfg, resolve=resolve)
    if not isinstance(out, dict):
        raise TypeError(f"expected a mapping node, got {type(out).__name__}")
    return {str(k): v for k, v in out.items()}


def to_schema(cfg: DictConfig | ListConfig, schema: type[T]) -> T:
    """The dataclass instance of a structured config (its ``__post_init__`` checks run)."""
    out = OmegaConf.to_object(cfg)
    if not isinstance(out, schema):
        raise TypeError(f"expected a {schema.__name__} node, got {type(out).__name__}")
    return out
