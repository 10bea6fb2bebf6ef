"""A sweep's plan, made before anything runs: every job composed, validated and given its run dir
and what ``resume`` does with it (``harness.run.identity.decide``), printed as one line per job."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import JobReturn, JobStatus, filter_overrides
from omegaconf import DictConfig, open_dict

from harness.config.schema import accumulation_steps, validate
from harness.errors import ConfigError, HarnessError
from harness.plain import plain_dict
from harness.run import naming
from harness.run.identity import Decision, decide, semantic_config

SHOWN = ("nodes", "tasks_per_node", "gpus_per_node", "cpus_per_task", "mem_gb", "timeout_min", "partition")


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
