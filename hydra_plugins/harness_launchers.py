"""The harness's Hydra launchers (logic: harness/sweeps/; configs: conf/hydra/launcher/).

Hydra instantiates launchers only from the ``hydra_plugins`` namespace package, and imports this
module itself when it discovers its plugins (before composing any config): the place where a
plugin registers its config schemas.
"""

from harness.sweeps import launchers, schemas

schemas.register_configs()


class SlurmLauncher(launchers.SlurmLauncher):
    """SLURM job arrays through submitit, each job sized by its own model."""


class LocalLauncher(launchers.LocalLauncher):
    """This machine through submitit, a capped number of jobs at a time."""


class SequentialLauncher(launchers.SequentialLauncher):
    """Hydra's basic launcher, with the sweep planned and validated first."""


class PlannedSweeper(launchers.PlannedSweeper):
    """Hydra's basic sweeper; every job is validated once, by the launcher's plan."""
