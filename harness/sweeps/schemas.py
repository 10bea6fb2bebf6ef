"""The launcher and sweeper schemas behind conf/hydra/launcher/*.yaml and ``hydra/sweeper=planned``.

Hydra's own ``BasicLauncherConf`` / ``BasicSweeperConf`` live in ``hydra._internal``; the two small
dataclasses here hold the same fields, so nothing imports Hydra's internals for a schema.
"""

from __future__ import annotations

from dataclasses import dataclass

from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

from hydra_plugins.hydra_submitit_launcher.config import LocalQueueConf, SlurmQueueConf


@dataclass
class SlurmConf(SlurmQueueConf):
    _target_: str = "hydra_plugins.harness_launchers.SlurmLauncher"
    dry_run: bool = False


@dataclass
class LocalConf(LocalQueueConf):
    _target_: str = "hydra_plugins.harness_launchers.LocalLauncher"
    array_parallelism: int = 1
    dry_run: bool = False


@dataclass
class SequentialConf:
    _target_: str = "hydra_plugins.harness_launchers.SequentialLauncher"
    dry_run: bool = False


@dataclass
class PlannedSweeperConf:
    """The fields of Hydra's basic sweeper (``max_batch_size``, ``params``: the sweep file's grid)."""

    _target_: str = "hydra_plugins.harness_launchers.PlannedSweeper"
    max_batch_size: int | None = None
    params: dict[str, str] | None = None


def register_configs() -> None:
    """Launcher schemas for conf/hydra/launcher/*.yaml, and the resolvers they use (idempotent)."""
    cs = ConfigStore.instance()
    for name, node in (("slurm", SlurmConf), ("local", LocalConf), ("sequential", SequentialConf)):
        cs.store(group="hydra/launcher", name=f"harness_{name}_schema", node=node, provider="harness")
    cs.store(group="hydra/sweeper", name="planned", node=PlannedSweeperConf, provider="harness")
    # One task per GPU, at least one task; the node's CPUs shared among its tasks.
    OmegaConf.register_new_resolver("harness.tasks", lambda gpus: max(1, int(gpus)), replace=True)
    OmegaConf.register_new_resolver(
        "harness.per_task", lambda total, tasks: max(1, int(total) // int(tasks)), replace=True
    )
