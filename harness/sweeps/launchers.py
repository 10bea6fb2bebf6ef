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
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_launcher import BasicLauncher, BasicLauncherConf
from hydra._internal.core_plugins.basic_sweeper import BasicSweeperConf
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, filter_overrides
from hydra.experimental.callback import Callback
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from harness import contract
from harness.config.schema import accumulation_steps, validate
from harness.errors import ConfigError, HarnessError
from harness.plain import plain_dict
from harness.run import naming
from harness.run.identity import Decision, decide, semantic_config
from hydra_plugins.hydra_submitit_launcher import submitit_launcher
from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf, LocalQueueConf, SlurmQueueConf

SHOWN = ("nodes", "tasks_per_node", "gpus_per_node", "cpus_per_task", "mem_gb", "timeout_min", "partition")


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
class SequentialConf(BasicLauncherConf):
    _target_: str = "hydra_plugins.harness_launchers.SequentialLauncher"
    dry_run: bool = False


@dataclass
class PlannedSweeperConf(BasicSweeperConf):
    _target_: str = "hydra_plugins.harness_launchers.PlannedSweeper"


class PlannedSweeper(Sweeper):
    """Hydra's basic sweeper (the same grid syntax and batches) without its own check that every
    job composes: the harness launchers compose, validate and plan every job before anything runs
    (``plan``), with messages naming the job, so Hydra's check only doubled the start-up time of a
    sweep (about 0.2 s per job).

    It wraps a ``BasicSweeper`` rather than subclassing it: Hydra's plugin scan re-imports its core
    plugin modules, so a subclass made at import time breaks ``BasicSweeper``'s own ``super()`` call.
    """

    def __init__(self, max_batch_size: int | None = None, params: dict[str, str] | None = None) -> None:
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


@dataclass
class Job:
    """One job of a sweep, as planned before anything runs."""

    idx: int
    overrides: list[str]
    run_dir: Path
    params: dict[str, Any]  # the launcher's parameters, resolved in this job's config
    decision: Decision  # what resume=... does with the run dir: new, resume, skip or refuse

    @property
    def finished(self) -> bool:
        return self.decision.action == "skip"

    @property
    def runs(self) -> bool:
        return self.decision.action in ("new", "resume")

    def describe(self) -> str:
        res = " ".join(f"{k}={self.params[k]}" for k in SHOWN if self.params.get(k) is not None)
        line = f"  #{self.idx} {' '.join(filter_overrides(self.overrides))}" + (f"  [{res}]" if res else "")
        if self.decision.action == "skip":
            return line + f"  skip: {self.decision.reason}"
        if self.decision.action == "refuse":
            return line + "  REFUSE: " + self.decision.reason.replace("\n", "\n      ")
        if self.decision.action == "resume":
            return line + f"  resume: {self.decision.reason}"
        return line


def clean_overrides(job_overrides: Sequence[Sequence[str]]) -> list[list[str]]:
    """Every job's overrides with float sweep noise removed (``0.9500000000000001`` -> ``0.95``)."""
    return [[naming.clean_override(o) for o in overrides] for overrides in job_overrides]


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


def launcher_params(cfg: DictConfig) -> dict[str, Any]:
    """A composed config's ``hydra.launcher``, resolved in that config (its model's resources)."""
    params = plain_dict(cfg.hydra.launcher)
    return {k: v for k, v in params.items() if k not in ("_target_", "dry_run")}


def plan(launcher: Any, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> list[Job]:
    """Compose and validate every job; raise ``ConfigError`` naming the first bad job's overrides."""
    master: DictConfig = launcher.config
    jobs = []
    try:
        for i, overrides in enumerate(job_overrides):
            idx = initial_job_idx + i
            cfg = launcher.hydra_context.config_loader.load_sweep_config(master, list(overrides))
            HydraConfig.instance().set_config(cfg)  # ${hydra:job.override_dirname} is this job's
            params = launcher_params(cfg)
            task = copy.deepcopy(cfg)
            with open_dict(task):
                del task["hydra"]
            try:
                accumulation_steps(validate(task), params.get("nodes", 1) * params.get("tasks_per_node", 1))
            except ValueError as err:
                raise ConfigError(f"job #{idx} ({' '.join(overrides)}): {err}") from None
            run_dir = Path(str(cfg.hydra.sweep.dir)) / str(cfg.hydra.sweep.subdir)
            try:
                decision = decide(run_dir, semantic_config(task), task.resume)
            except HarnessError as err:  # e.g. a damaged run.json: refuse this job, plan the others
                decision = Decision("refuse", str(err))
            jobs.append(Job(idx, list(overrides), run_dir, params, decision))
    finally:
        HydraConfig.instance().set_config(master)
    return jobs


def report(master: DictConfig, jobs: list[Job], dry_run: bool) -> None:
    todo = sum(j.runs for j in jobs)
    refused = sum(j.decision.action == "refuse" for j in jobs)
    head = "dry run, nothing launched" if dry_run else "launching"
    print(
        f"[harness] sweep {master.hydra.job.config_name} -> {master.hydra.sweep.dir}: {len(jobs)} jobs, "
        f"{sum(j.finished for j in jobs)} already finished, {todo} to run"
        + (f", {refused} refused" if refused else "")
        + f" ({head})"
    )
    for job in jobs:
        print(job.describe())


def skipped(job: Job) -> JobReturn:
    """What a job not launched returns: completed if finished, failed (with the reason) if refused."""
    ret = JobReturn(overrides=job.overrides, working_dir=str(job.run_dir), status=JobStatus.COMPLETED)
    if job.decision.action == "refuse":
        ret.status = JobStatus.FAILED
        ret.return_value = ConfigError(f"job #{job.idx}: {job.decision.reason}")
    return ret


@contextmanager
def _environ(**values: str) -> Iterator[None]:
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


class Progress:
    """One console line per job as it is submitted, starts and ends (with its log file), so a sweep
    that runs for hours is not silent. Jobs are polled every ``every`` seconds."""

    def __init__(self, jobs: list[Job], every: float) -> None:
        self.jobs = {j.idx: j for j in jobs}
        self.every = every
        self.seen: dict[int, str] = {}
        self.started: dict[int, float] = {}

    def submitted(self, idx: int, sj: Any) -> None:
        job = self.jobs[idx]
        print(
            f"[harness] job #{idx} submitted as {sj.job_id}: {' '.join(filter_overrides(job.overrides))}\n"
            f"          log: {sj.paths.stdout}",
            flush=True,
        )

    def poll(self, running: dict[int, Any]) -> None:
        """Print the jobs whose state changed since the last poll."""
        for idx, sj in running.items():
            state = "DONE" if sj.done() else sj.state
            if self.seen.get(idx) == state:
                continue
            self.seen[idx] = state
            if state == "RUNNING":
                self.started[idx] = time.time()
                print(f"[harness] job #{idx} running ({self.jobs[idx].run_dir})", flush=True)
            elif state == "DONE":
                print(f"[harness] job #{idx} {self._outcome(sj, idx)}", flush=True)

    def _outcome(self, sj: Any, idx: int) -> str:
        took = f" in {(time.time() - self.started[idx]) / 60:.1f} min" if idx in self.started else ""
        try:
            value = sj.results()[0].return_value  # raises the job's own error if it failed
        except Exception as err:  # the job's error, or submitit's (killed, timed out)
            first = str(err).splitlines()[0] if str(err) else ""
            return f"FAILED{took}: {type(err).__name__}: {first}\n          log: {sj.paths.stdout}"
        pass1 = value.get(contract.AVG_PASS1) if isinstance(value, dict) else None
        return f"finished{took}" + (f": held-out pass@1 {pass1:.3f}" if pass1 is not None else "")

    def wait(self, running: dict[int, Any], until: Any) -> None:
        """Poll ``running`` until ``until()`` holds."""
        self.poll(running)
        while not until():
            time.sleep(self.every)
            self.poll(running)


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
            with _environ(
                OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads)
            ):  # the job inherits them
                running[job.idx] = executor("local", params).submit(self, *self._call(job))
            progress.submitted(job.idx, running[job.idx])
        return running


class SequentialLauncher(BasicLauncher):
    """Hydra's basic launcher (jobs one after another in this process), planned and validated first."""

    def __init__(self, dry_run: bool = False) -> None:
        super().__init__()
        self.dry_run = dry_run

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        job_overrides = clean_overrides(job_overrides)
        jobs = plan(self, job_overrides, initial_job_idx)
        assert self.config is not None  # set by Hydra's ``setup``
        report(self.config, jobs, self.dry_run)
        if self.dry_run:
            return [skipped(j) for j in jobs]
        ran = iter(super().launch([j.overrides for j in jobs if j.runs], initial_job_idx))
        return [next(ran) if j.runs else skipped(j) for j in jobs]
