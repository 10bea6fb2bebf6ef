"""``harness-verl``: the harness's Hydra choices as one verl run (``python -m verl.trainer.main_ppo``).

    harness-verl method=strace method.lam=0.99 model=qwen3-4b task=math12k trainer=paper --dry-run
    harness-verl method=gspo model=qwen3-1.7b task=math12k trainer=paper             # this machine
    harness-verl method=gspo model=qwen3-8b task=math12k trainer=paper --slurm       # sbatch: Ray on SLURM
    harness-verl method=grpo ... -- trainer.val_before_train=true                    # raw verl overrides

The groups compose and validate exactly as for ``harness-train`` (conf/); the composed config is
mapped by ``harness.verl.overrides``. The run dir (``outputs/verl/<run name>`` or ``--run-dir``)
holds what docs/run_dir.md asks for: config.yaml, run.json, metrics.jsonl and eval/step-N/ records
(converted from verl's file logger and validation dumps by ``harness.verl.rundir``), plus verl/
(its data files, raw metrics, validation samples, the sbatch script and the override list).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shlex
import subprocess
import sys
from pathlib import Path

from omegaconf import DictConfig

from harness.config.schema import TrainConfig, register_configs, validate
from harness.errors import one_line_errors
from harness.run.run_dir import RunRecord

ENTRY = [sys.executable, "-m", "verl.trainer.main_ppo"]


def compose(overrides: list[str]) -> tuple[DictConfig, TrainConfig]:
    """conf/train.yaml with `overrides`, validated (errors name the key)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from harness.train import CONF_DIR

    register_configs()
    with initialize_config_dir(CONF_DIR, version_base="1.3"):
        cfg = hydra_compose("train", overrides=overrides)
    return cfg, validate(cfg)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="harness-verl", description=__doc__.split("\n\n")[0])
    p.add_argument("overrides", nargs="*", help="harness Hydra overrides (method=..., model=..., ...)")
    p.add_argument(
        "--dry-run", action="store_true", help="print the verl command line; write and run nothing"
    )
    p.add_argument(
        "--slurm", action="store_true", help="write <run dir>/verl/job.sbatch (Ray on SLURM) and sbatch it"
    )
    p.add_argument("--run-dir", type=Path, default=None, help="default: outputs/verl/<run name>")
    argv = sys.argv[1:] if argv is None else argv
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = p.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    args.verl_extra = extra
    return args


def command(conf: TrainConfig, run_dir: Path, extra: list[str]) -> list[str]:
    """The verl command line of this run."""
    from harness.train import run_name
    from harness.verl.overrides import verl_overrides

    return [*ENTRY, *verl_overrides(conf, run_dir, run_name(conf)), *extra]


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    cfg, conf = compose(args.overrides)
    from harness.train import run_name

    run_dir = (args.run_dir or Path("outputs") / "verl" / run_name(conf)).resolve()
    cmd = command(conf, run_dir, args.verl_extra)
    if args.dry_run:
        print(shlex.join(cmd))
        return 0
    from harness.verl.rundir import prepare, write_sbatch

    record = prepare(run_dir, cfg, conf, cmd)
    if args.slurm:
        script = write_sbatch(run_dir, conf, cmd)
        subprocess.run(["sbatch", str(script)], check=True)
        print(f"[harness-verl] submitted {script}")
        return 0
    return run_local(run_dir, cmd, record)


def run_local(run_dir: Path, cmd: list[str], record: RunRecord) -> int:
    """verl on this machine (it starts its own Ray), then its metrics into the run dir."""
    from harness.verl.rundir import FILE_LOGGER, convert, finish

    env = {**os.environ, "VERL_FILE_LOGGER_PATH": str(run_dir / FILE_LOGGER)}
    print(f"[harness-verl] {run_dir}: {shlex.join(cmd[:3])} ... ({len(cmd) - 3} overrides)", flush=True)
    code = subprocess.run(cmd, env=env).returncode
    convert(run_dir)
    finish(record, code)
    return code


def cli() -> None:
    """``harness-verl``: a config error is one line (``[harness] error: ...``) and exit status 1."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if importlib.util.find_spec("verl") is None:
        print(
            "[harness] error: verl is not installed in this venv; `make install-verl`, then run "
            ".venv-verl/bin/harness-verl",
            file=sys.stderr,
        )
        sys.exit(1)
    sys.exit(one_line_errors(main))


if __name__ == "__main__":
    cli()
