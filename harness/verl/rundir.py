"""The run dir of a verl run (docs/run_dir.md), so ``analysis`` reads TRL and verl runs alike.

Before the run: config.yaml (the harness's resolved config), run.json, and verl/ (the data files
verl reads, the override list). After it, ``convert`` turns verl's own outputs into the harness's:

- verl's file logger (``VERL_FILE_LOGGER_PATH`` = verl/metrics.jsonl, one ``{"step", "data"}`` per
  rollout) → metrics.jsonl training rows (``TRAIN_KEYS``; ``actor/harness/<m>`` →
  ``train/method/<m>``), the step in optimizer steps (verl's step × mini_batches × ppo_epochs);
- verl's validation dumps (``trainer.validation_data_dir`` = verl/validation/<step>.jsonl: input,
  output, score per sample) → eval/step-N/records.parquet (n, c per problem) and an eval row with
  the unbiased pass@k (``harness.eval.passk``) per benchmark and averaged.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from omegaconf import DictConfig, OmegaConf

from harness.config.schema import TrainConfig
from harness.eval.passk import pass_at_k
from harness.problems.problems import Problem, load_problems
from harness.problems.prompt import prompt_messages
from harness.run.identity import config_hash, semantic_config
from harness.run.run_dir import CONFIG_FILE, METRICS_FILE, RunRecord, atomic_write

FILE_LOGGER = "verl/metrics.jsonl"
VALIDATION = "verl/validation"
TRAIN_KEYS = {  # verl metric → harness metric (docs/run_dir.md)
    "critic/score/mean": "train/reward_mean",
    "critic/score/std": "train/reward_std",
    "response_length/mean": "train/response_length",
    "actor/pg_clipfrac": "train/clip_frac",
    "actor/entropy": "train/entropy",
    "actor/kl_loss": "train/kl",
    "actor/pg_loss": "train/loss",
    "actor/grad_norm": "train/grad_norm",
    "actor/lr": "train/lr",
}


def _rows(problems: list[Problem], source: str) -> pd.DataFrame:
    """verl's RL dataset layout: chat prompt, data_source, reward_model.ground_truth, extra_info."""
    return pd.DataFrame(
        {
            "data_source": [source] * len(problems),
            "prompt": [prompt_messages(p.problem) for p in problems],
            "ability": ["math"] * len(problems),
            "reward_model": [{"style": "rule", "ground_truth": p.answer} for p in problems],
            "extra_info": [{"index": i, "id": p.id} for i, p in enumerate(problems)],
        }
    )


def prepare(run_dir: Path, cfg: DictConfig, conf: TrainConfig, cmd: list[str]) -> RunRecord:
    """Write config.yaml, run.json (running) and verl/ (data files, overrides) before verl starts."""
    from harness.train import run_name, run_tags

    data = run_dir / "verl" / "data"
    data.mkdir(parents=True, exist_ok=True)
    _rows(load_problems(conf.task), conf.task.name).to_parquet(data / "train.parquet")
    for name, bench in conf.benchmark.items():
        _rows(load_problems(bench), name).to_parquet(data / f"val-{name}.parquet")
    (run_dir / "verl" / "command.txt").write_text("\n".join(cmd) + "\n")
    atomic_write(run_dir / CONFIG_FILE, lambda tmp: tmp.write_text(OmegaConf.to_yaml(cfg, resolve=True)))
    record = RunRecord(run_dir)
    group = conf.logger.wandb.group
    record.start(
        run_name(conf),
        group,
        run_tags(conf),
        conf.trainer.steps,
        config_hash=config_hash(semantic_config(cfg)),
    )
    return record


def finish(record: RunRecord, code: int) -> None:
    if code == 0:
        record.finish(record.data.get("steps"))
    else:
        record.fail(f"verl exited with status {code}")


def _config(run_dir: Path) -> dict[str, Any]:
    return yaml.safe_load((run_dir / CONFIG_FILE).read_text())


def _scale(run_dir: Path) -> int:
    """Optimizer steps per verl step (rollout)."""
    t = _config(run_dir)["trainer"]
    return int(t["mini_batches"]) * int(t["ppo_epochs"])


def train_rows(run_dir: Path) -> list[dict[str, Any]]:
    """metrics.jsonl training rows from verl's file logger."""
    path, scale = run_dir / FILE_LOGGER, _scale(run_dir)
    rows = []
    for line in path.read_text().splitlines() if path.exists() else []:
        entry = json.loads(line)
        data = entry["data"]
        row: dict[str, Any] = {"step": int(entry["step"]) * scale}
        row |= {ours: data[theirs] for theirs, ours in TRAIN_KEYS.items() if theirs in data}
        row |= {
            f"train/method/{k.removeprefix('actor/harness/')}": v
            for k, v in data.items()
            if k.startswith("actor/harness/")
        }
        rows.append(row)
    return rows


def _benchmark_of(problems: dict[str, tuple[str, str]], prompt: str) -> tuple[str, str]:
    """(benchmark, problem id) of a rendered validation prompt: the problem whose text it holds."""
    for text, where in problems.items():
        if text in prompt:
            return where
    return ("val", prompt)


def eval_step(
    run_dir: Path, dump: Path, conf_k: list[int], problems: dict[str, tuple[str, str]]
) -> dict[str, Any]:
    """eval/step-N/records.parquet from one validation dump, and its metrics row (pass@k per benchmark)."""
    samples: dict[tuple[str, str], list[float]] = defaultdict(list)
    step = 0
    for line in dump.read_text().splitlines():
        s = json.loads(line)
        step = int(s["step"]) * _scale(run_dir)
        samples[_benchmark_of(problems, s["input"])].append(float(s["score"]))
    records = pd.DataFrame(
        [
            {"step": step, "benchmark": b, "problem_id": pid, "n": len(r), "c": sum(x > 0 for x in r)}
            for (b, pid), r in samples.items()
        ]
    )
    out = run_dir / "eval" / f"step-{step}"
    out.mkdir(parents=True, exist_ok=True)
    records.to_parquet(out / "records.parquet")
    row: dict[str, Any] = {"step": step}
    for k in conf_k:
        per_bench = {}
        for b, group in records.groupby("benchmark"):
            if int(group["n"].min()) >= k:
                per_bench[b] = float(pass_at_k(group["n"].to_numpy(), group["c"].to_numpy(), k).mean())
                row[f"eval/{b}/pass@{k}"] = per_bench[b]
        if per_bench:
            row[f"eval/avg/pass@{k}"] = sum(per_bench.values()) / len(per_bench)
    (out / "summary.json").write_text(json.dumps(row, indent=1))
    return row


def convert(run_dir: Path) -> list[dict[str, Any]]:
    """metrics.jsonl (and eval/step-N/) from verl's outputs; the rows written."""
    conf = _config(run_dir)
    problems = {}
    for name in conf.get("benchmark") or {}:
        frame = pd.read_parquet(run_dir / "verl" / "data" / f"val-{name}.parquet")
        for prompt, extra in zip(frame["prompt"], frame["extra_info"], strict=True):
            problems[prompt[0]["content"]] = (name, str(extra["id"]))
    rows = train_rows(run_dir)
    dumps = sorted((run_dir / VALIDATION).glob("*.jsonl"), key=lambda p: int(p.stem))
    rows += [eval_step(run_dir, d, list(conf["eval"]["k"]), problems) for d in dumps]
    text = "".join(json.dumps(r) + "\n" for r in rows)
    atomic_write(run_dir / METRICS_FILE, lambda tmp: tmp.write_text(text))
    return rows


SBATCH = """#!/bin/bash
#SBATCH --job-name={name}
#SBATCH --nodes={nodes}
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node={gpus}
#SBATCH --cpus-per-task={cpus}
#SBATCH --mem={mem}G
#SBATCH --time={minutes}
#SBATCH --output={run_dir}/verl/slurm-%j.out
# Ray on SLURM (verl's multinode recipe): one Ray head on the first node, one Ray worker on each
# other node, then the verl driver on the head. Written by harness-verl; submit with sbatch.
set -uo pipefail
nodes=($(scontrol show hostnames "$SLURM_JOB_NODELIST"))
head=${{nodes[0]}}
head_ip=$(srun --nodes=1 --ntasks=1 -w "$head" hostname --ip-address | awk '{{print $1}}')
port=6379
srun --nodes=1 --ntasks=1 -w "$head" ray start --head --node-ip-address="$head_ip" --port=$port \\
  --num-cpus=$SLURM_CPUS_PER_TASK --num-gpus={gpus} --block &
sleep 10
for node in "${{nodes[@]:1}}"; do
  srun --nodes=1 --ntasks=1 -w "$node" ray start --address="$head_ip:$port" \\
    --num-cpus=$SLURM_CPUS_PER_TASK --num-gpus={gpus} --block &
done
sleep 10
export RAY_ADDRESS="$head_ip:$port" VERL_FILE_LOGGER_PATH={run_dir}/{file_logger}
PYTHONUNBUFFERED=1 srun --overlap --nodes=1 --ntasks=1 -w "$head" {command} && status=0 || status=$?
{python} -m harness.verl.rundir {run_dir} $status
exit $status
"""


def write_sbatch(run_dir: Path, conf: TrainConfig, cmd: list[str]) -> Path:
    """<run dir>/verl/job.sbatch for this run, sized by the model's resources."""
    import shlex

    r = conf.model.resources
    script = run_dir / "verl" / "job.sbatch"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(
        SBATCH.format(
            name=run_dir.name,
            nodes=r.nodes,
            gpus=max(1, r.gpus_per_node),
            cpus=r.cpus_per_task,
            mem=r.mem_gb,
            minutes=r.timeout_min,
            run_dir=run_dir,
            file_logger=FILE_LOGGER,
            command=shlex.join(cmd),
            python=cmd[0],
        )
    )
    return script


if __name__ == "__main__":  # after a SLURM job: python -m harness.verl.rundir <run dir> <verl's exit status>
    import sys

    convert(Path(sys.argv[1]))
    finish(RunRecord(Path(sys.argv[1])), int(sys.argv[2]))
