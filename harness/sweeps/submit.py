"""submitit executors as hydra-submitit-launcher would build them, and the environment a local job inherits."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from omegaconf import OmegaConf

from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf


@contextmanager
def environ(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k)
            else:
                os.environ[k] = v


def executor(cluster: str, params: dict[str, Any]) -> Any:
    """The ``submitit.AutoExecutor`` that hydra-submitit-launcher would build from these launcher parameters."""
    import submitit

    params = dict(params)
    init = {"folder": params.pop("submitit_folder")}
    if "max_num_timeout" in params:
        init[f"{cluster}_max_num_timeout"] = params.pop("max_num_timeout")
    ex = submitit.AutoExecutor(cluster=cluster, **init)
    generic = set(OmegaConf.structured(BaseQueueConf).keys())
    ex.update_parameters(**{k if k in generic else f"{cluster}_{k}": v for k, v in params.items()})
    return ex
