"""The harness's Hydra launchers (logic: harness/launch.py; configs: conf/hydra/launcher/).

Hydra instantiates launchers only from the ``hydra_plugins`` namespace package, so they are named here.
"""

from harness import launch


class SlurmLauncher(launch.SlurmLauncher):
    """SLURM job arrays through submitit, each job sized by its own model."""


class LocalLauncher(launch.LocalLauncher):
    """This machine through submitit, a capped number of jobs at a time."""


class SequentialLauncher(launch.SequentialLauncher):
    """Hydra's basic launcher, with the sweep planned and validated first."""
