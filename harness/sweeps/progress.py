"""The console of a running sweep: one line per job as it is submitted, starts and ends."""

from __future__ import annotations

import time
from typing import Any

from hydra.core.utils import filter_overrides

from harness import contract
from harness.sweeps.plan import Job


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
