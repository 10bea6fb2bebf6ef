"""Run-dir names: short, readable, always valid, inside the output root (defect 8)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import hydra
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser

from harness import train
from harness.run import naming
from harness.run.naming import MAX_NAME, clean_float, overrides_name, sweep_name
from tests.train.runs import REPO

EXCLUDE = ["hydra.launcher", "logger", "resume", "cache_dir", "run_name"]
TWELVE = [
    "method=grpo_lambda",
    "method.lam=0.95",
    "method.style=both",
    "trainer.seed=3",
    "trainer.lr=0.0001",
    "trainer.group_size=16",
    "trainer.prompts_per_step=64",
    "trainer.max_completion_length=2048",
    "model=qwen3-4b",
    "task=math12k",
    "eval.n=32",
    "benchmark.arith_test.n_problems=500",
]
CONF = str(REPO / "conf")


def run_dir(*overrides: str) -> str:
    """``hydra.run.dir`` as Hydra resolves it for ``python -m harness.train <overrides>``."""
    with initialize_config_dir(CONF, version_base="1.3"):
        cfg = compose("train", overrides=list(overrides), return_hydra_config=True)
        HydraConfig.instance().set_config(cfg)
        return str(cfg.hydra.run.dir)


def test_examples() -> None:
    assert run_dir() == "outputs/arith-tiny-grpo/default"
    assert (
        run_dir("method=strace", "method.entropy_quantile=0.1", "trainer.seed=1", "logger=none")
        == "outputs/arith-tiny-strace/method-strace+method.entropy_quantile-0.1+trainer.seed-1"
    )
    assert run_dir("method.clip_low=-0.1", "resume=must") == "outputs/arith-tiny-grpo/method.clip_low--0.1"


def test_twelve_overrides_give_a_short_stable_name() -> None:
    """Defect 8: 12 overrides gave 'OSError: File name too long'."""
    name = overrides_name(TWELVE, EXCLUDE)
    assert len(name) == MAX_NAME
    assert re.fullmatch(r"[A-Za-z0-9_.+-]+-[0-9a-f]{8}", name)
    assert name.startswith("benchmark.arith_test.n_problems-500+eval.n-32+method-grpo_lambda")
    assert name == overrides_name(
        list(reversed(TWELVE)), EXCLUDE
    )  # order on the command line does not matter
    assert name != overrides_name([*TWELVE[:-1], "benchmark.arith_test.n_problems=501"], EXCLUDE)


def test_a_path_override_is_a_token_and_nothing_goes_outside_the_output_root() -> None:
    """Defect 8: task.path=../../../../x.jsonl wrote .hydra/ and train.log outside outputs/."""
    path = run_dir("task=jsonl", "task.path=../../../../x.jsonl", "task.name=../../up")
    prefix, name = path.split("/")[1:]
    assert path.startswith("outputs/")
    assert path.count("/") == 2
    assert ".." not in path.split("/")
    assert prefix == "jsonl-tiny-grpo"  # the group choices name it: task.name cannot steer the path
    assert re.fullmatch(r"task-jsonl\+task.name-up-[0-9a-f]{6}\+task.path-x\.jsonl-[0-9a-f]{6}", name)
    other = run_dir("task=jsonl", "task.path=../../../../y/x.jsonl", "task.name=../../up")
    assert other != path  # same basename, another file: another run


def test_float_sweep_noise_is_written_as_the_user_wrote_it() -> None:
    assert [clean_float(v) for v in ("0.9500000000000001", "0.30000000000000004", "1.0000000000000002")] == [
        "0.95",
        "0.3",
        "1.0",
    ]
    assert [clean_float(v) for v in ("1e-06", "0.95", "3", "abc", "0.123456789012")] == [
        "1e-06",
        "0.95",
        "3",
        "abc",
        "0.123456789012",
    ]
    assert overrides_name(["method.lam=0.9500000000000001"]) == "method.lam-0.95"


@pytest.mark.parametrize(
    "overrides",
    [
        [],
        ["method=strace", "trainer.seed=1"],
        TWELVE,
        ["eval.k=[1,2]"],
        ["task.path=/data/a b.jsonl", "model.path='/m/q,x'"],
    ],
    ids=["default", "two", "twelve", "list", "paths"],
)
def test_checkpoint_equals_a_run_dir_parses_unquoted(overrides: list[str]) -> None:
    """Defect 8: `harness.eval checkpoint=outputs/.../final` failed to parse for runs made with overrides."""
    path = f"outputs/arith-tiny-grpo/{overrides_name(overrides, EXCLUDE)}"
    for value in (path, path + "/final"):
        [parsed] = OverridesParser.create().parse_overrides([f"checkpoint={value}"])
        assert parsed.value() == value


def readme_commands(module: str) -> list[list[str]]:
    """The arguments of every README line that starts with ``python -m <module>``."""
    return [
        line.split()[3:]
        for line in (REPO / "README.md").read_text().splitlines()
        if line.startswith(f"python -m {module} ")
    ]


def test_the_readmes_run_dirs_are_what_the_commands_make() -> None:
    shown = [args for args in readme_commands("harness.train") if "->" in args]
    assert len(shown) == 3
    for args in shown:
        overrides, path = args[: args.index("->")], args[-1]
        assert re.fullmatch(re.escape(path).replace("<hash>", "[0-9a-f]{6}"), run_dir(*overrides)), args


def test_the_readme_eval_commands_parse_as_printed_and_name_real_run_dirs() -> None:
    """Defect 8: the README's `harness.eval checkpoint=outputs/.../final` failed to parse for runs with overrides."""
    made = {run_dir()} | {
        run_dir(*args)
        for args in readme_commands("harness.train")
        if args and "->" not in args and all("=" in a for a in args)
    }
    commands = readme_commands("harness.eval")
    assert len(commands) == 2
    for args in commands:
        parsed = {o.key_or_group: o.value() for o in OverridesParser.create().parse_overrides(args)}
        assert parsed["checkpoint"] in made, parsed["checkpoint"]


def test_an_adhoc_sweep_gets_its_own_dir_and_wandb_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, str]] = []

    def fake_main(cfg) -> None:
        seen.append((HydraConfig.get().runtime.output_dir, train._sweep_group()))

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        sys, "argv", ["harness.train", "-m", "method=grpo,gspo", "trainer.seed=0,1", "logger=none"]
    )
    hydra.main(config_path=CONF, config_name="train", version_base="1.3")(fake_main)()
    name = sweep_name("train", ["method=grpo,gspo", "trainer.seed=0,1", "logger=none"], EXCLUDE)
    assert re.fullmatch(r"train-method\+trainer.seed-[0-9a-f]{6}", name)
    assert seen == [
        (str(tmp_path / "multirun" / name / f"method-{m}+trainer.seed-{s}"), name)
        for m in ("grpo", "gspo")
        for s in (0, 1)
    ]
    assert name != sweep_name("train", ["method=grpo,gspo", "trainer.seed=0,1,2"], EXCLUDE)
    assert naming.token(name) == name


def test_a_float_range_sweep_writes_its_values_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, float]] = []

    def fake_main(cfg) -> None:
        seen.append((Path(HydraConfig.get().runtime.output_dir).name, cfg.method.lam))

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        sys, "argv", ["harness.train", "-m", "method=grpo_lambda", "method.lam=range(0.9,1.0,0.05)"]
    )
    hydra.main(config_path=CONF, config_name="train", version_base="1.3")(fake_main)()
    assert seen == [("method-grpo_lambda+method.lam-0.9", 0.9), ("method-grpo_lambda+method.lam-0.95", 0.95)]
