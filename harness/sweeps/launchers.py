"""Sweep launchers: hydra-submitit-launcher's, plus a plan made before anything runs.

    python -m harness.train -m --config-dir sweeps --config-name lambda_ablation          # SLURM job arrays
    python -m harness.train -m --config-dir sweeps --config-name toy_main                 # this machine
    python -m harness.train -m --config-dir sweeps --config-name main_table hydra.launcher.dry_run=true

``hydra/launcher=slurm | local | sequential`` (conf/hydra/launcher/) select the launchers below. Each
one first composes and validates every job of the sweep, so a bad value fails the whole sweep before
any job starts; it resolves each job's run dir and what ``resume`` does with it
(``harness.run.identity.decide``): runs already finished with the same config are skipped, not
resubmitted; runs whose dir holds another config are refused, with the diff, and not submitted
(the sweep then fails once the others are done). Resources come from the job's own config
(``${model.resources.*}``), so one sweep can mix model sizes: jobs that need the same resources share
one submitit job array. ``dry_run=true`` prints that plan and launches nothing. ``local`` runs at most
``array_parallelism`` jobs at a time, with cores / (jobs x tasks) threads each unless ``cpus_per_task``
says otherwise. Float values with sweep noise (``range(0.9,1.0,0.05)`` gives ``0.9500000000000001``)
are written as ``0.95`` before anything is composed.

An ad-hoc sweep (``python -m harness.train -m method=grpo,gspo``) gets its own directory and W&B group,
``multirun/<config>-<swept keys>-<hash of the overrides>`` (:class:`AdhocSweepDir`); a sweep file sets
``hydra.sweep.dir`` itself.

The parts: the plan (``harness.sweeps.plan``), the console of a running sweep
(``harness.sweeps.progress``), submitit executors (``harness.sweeps.submit``) and the config schemas
(``harness.sweeps.schemas``); this module holds the Hydra plugins that put them together.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, configure_log, run_job, setup_globals
from hydra.experimental.callback import Callback
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, open_dict, read_write

from harness.plain import plain_dict
from harness.run import naming
from harness.sweeps.plan import Job, clean_overrides, launcher_params, plan, report, skipped
from harness.sweeps.progress import Progress
from harness.sweeps.submit import environ, executor
from hydra_plugins.hydra_submitit_launcher import submitit_launcher

__all__ = [  # launcher_params and executor: what tests check a job is given
    "AdhocSweepDir",
    "LocalLauncher",
    "PlannedSweeper",
    "SequentialLauncher",
    "SlurmLauncher",
    "executor",
    "launcher_params",
]


class PlannedSweeper(Sweeper):
    """Hydra's basic sweeper (the same grid syntax and batches) without its own check that every
    job composes: the harness launchers compose, validate and plan every job before anything runs
    (``plan``), with messages naming the job, so Hydra's check only doubled the start-up time of a
    sweep (about 0.2 s per job).

    It wraps a ``BasicSweeper`` rather than subclassing it: Hydra's plugin scan re-imports its core
    plugin modules, so a subclass made at import time breaks ``BasicSweeper``'s own ``super()`` call.
    """

    def __init__(self, max_batch_size: int | None = None, params: dict[str, str] | None = None) -> None:
        # Hydra has no public sweeper that expands a grid: its basic sweeper lives in hydra._internal
        # (the one internal import left in the harness).
        from hydra._internal.core_plugins import basic_sweeper  # as the plugin scan left it

        self.basic = basic_sweeper.BasicSweeper(max_batch_size=max_batch_size, params=params)

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.basic.setup(hydra_context=hydra_context, task_function=task_function, config=config)
        if isinstance(self.basic.launcher, _Planned | SequentialLauncher):  # another launcher: keep the check
            self.basic.validate_batch_is_legal = _validated_by_the_launcher  # type: ignore[method-assign]

    def sweep(self, arguments: list[str]) -> Any:
        return self.basic.sweep(arguments)


def _validated_by_the_launcher(batch: Sequence[Sequence[str]]) -> None:
    return None


class AdhocSweepDir(Callback):
    """Hydra callback (conf/train.yaml): an ad-hoc ``-m`` sweep, one whose ``hydra.sweep.dir`` is left at
    ``DEFAULT_SWEEP_DIR``, gets ``multirun/<naming.sweep_name>``; it is pinned as a Hydra override, so
    every job (in this process or a submitit one) sees the same directory."""

    DEFAULT_SWEEP_DIR = "multirun/${hydra.job.config_name}"

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        hc = config.hydra
        if plain_dict(hc.sweep, resolve=False).get("dir") != self.DEFAULT_SWEEP_DIR:
            return  # a sweep file or the command line chose it
        exclude = list(hc.job.config.override_dirname.exclude_keys)
        sweep_dir = "multirun/" + naming.sweep_name(hc.job.config_name, list(hc.overrides.task), exclude)
        with read_write(hc), open_dict(hc):
            hc.sweep.dir = sweep_dir
            hc.overrides.hydra.append(f"hydra.sweep.dir={sweep_dir}")


class _Planned:
    """Validate and plan the whole sweep, skip finished runs, then submit the rest (``submit``)."""

    config: DictConfig  # set by Hydra's ``setup``
    POLL_S: float

    def __init__(self, dry_run: bool = False, **params: Any) -> None:
        super().__init__(**params)
        self.dry_run = dry_run

    def submit(self, jobs: list[Job], progress: Progress) -> dict[int, Any]:
        """Submit ``jobs``; return the submitit job of each, by job index."""
        raise NotImplementedError

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        jobs = plan(self, clean_overrides(job_overrides), initial_job_idx)
        report(self.config, jobs, self.dry_run)
        todo = [j for j in jobs if j.runs]
        if self.dry_run or not todo:
            return [skipped(j) for j in jobs]
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        progress = Progress(todo, self.POLL_S)
        running = self.submit(todo, progress)
        progress.wait(running, lambda: all(sj.done() for sj in running.values()))
        for folder in {Path(str(j.params["submitit_folder"])) for j in todo}:  # made with "%j" unexpanded;
            if "%j" in folder.name and folder.is_dir() and not any(folder.iterdir()):  # jobs log in <id>/
                folder.rmdir()
        return [running[j.idx].results()[0] if j.idx in running else skipped(j) for j in jobs]

    def _call(self, job: Job) -> tuple:
        """The arguments of ``BaseSubmititLauncher.__call__`` (what each submitted job runs)."""
        return job.overrides, "hydra.sweep.dir", job.idx, f"job_id_for_{job.idx}", Singleton.get_state()


class SlurmLauncher(_Planned, submitit_launcher.SlurmLauncher):
    """SLURM: one job array per distinct resource request, at most ``array_parallelism`` running each."""

    POLL_S = 60.0  # squeue through submitit's watcher: gentle on the scheduler

    def submit(self, jobs: list[Job], progress: Progress) -> dict[int, Any]:
        groups: dict[str, list[Job]] = {}
        for job in jobs:
            groups.setdefault(json.dumps(job.params, sort_keys=True), []).append(job)
        running = {}
        for group in groups.values():
            submitted = executor("slurm", group[0].params).map_array(
                self, *zip(*map(self._call, group), strict=True)
            )
            for job, sj in zip(group, submitted, strict=True):
                running[job.idx] = sj
                progress.submitted(job.idx, sj)
        return running


class LocalLauncher(_Planned, submitit_launcher.LocalLauncher):
    """This machine: at most ``array_parallelism`` jobs at a time, each in its own processes."""

    POLL_S = 2.0

    def submit(self, jobs: list[Job], progress: Progress) -> dict[int, Any]:
        cap = self.params["array_parallelism"]
        running: dict[int, Any] = {}
        for job in jobs:
            progress.wait(running, lambda: sum(not sj.done() for sj in running.values()) < cap)
            params = {
                k: v
                for k, v in job.params.items()
                if k not in ("array_parallelism", "cpus_per_task", "mem_gb")
            }
            threads = job.params["cpus_per_task"] or max(
                1, (os.cpu_count() or 1) // (cap * params["tasks_per_node"])
            )
            with environ(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads)):  # the job inherits them
                running[job.idx] = executor("local", params).submit(self, *self._call(job))
            progress.submitted(job.idx, running[job.idx])
        return running


class SequentialLauncher(Launcher):
    """Jobs one after another in this process (what Hydra's basic launcher does, written with Hydra's
    public ``run_job``), planned and validated first."""

    def __init__(self, dry_run: bool = False) -> None:
        super().__init__()
        self.dry_run = dry_run
        self.config: DictConfig | None = None
        self.task_function: TaskFunction | None = None
        self.hydra_context: HydraContext | None = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.config, self.hydra_context, self.task_function = config, hydra_context, task_function

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        job_overrides = clean_overrides(job_overrides)
        jobs = plan(self, job_overrides, initial_job_idx)
        assert self.config is not None  # set by Hydra's ``setup``
        report(self.config, jobs, self.dry_run)
        if self.dry_run:
            return [skipped(j) for j in jobs]
        ran = iter(self._run([j.overrides for j in jobs if j.runs], initial_job_idx))
        return [next(ran) if j.runs else skipped(j) for j in jobs]

    def _run(self, job_overrides: list[list[str]], initial_job_idx: int) -> list[JobReturn]:
        assert self.config is not None
        assert self.hydra_context is not None
        assert self.task_function is not None
        setup_globals()
        hydra = self.config.hydra
        configure_log(hydra.hydra_logging, hydra.verbose)
        Path(str(hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        runs = []
        for idx, overrides in enumerate(job_overrides, start=initial_job_idx):
            cfg = self.hydra_context.config_loader.load_sweep_config(self.config, list(overrides))
            with open_dict(cfg):
                cfg.hydra.job.id = idx
                cfg.hydra.job.num = idx
            runs.append(
                run_job(
                    hydra_context=self.hydra_context,
                    task_function=self.task_function,
                    config=cfg,
                    job_dir_key="hydra.sweep.dir",
                    job_subdir_key="hydra.sweep.subdir",
                )
            )
            configure_log(hydra.hydra_logging, hydra.verbose)
        return runs
