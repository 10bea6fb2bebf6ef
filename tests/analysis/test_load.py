"""Loading run dirs into tidy frames: every config key; a broken run never stops the rest."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from synthetic_runs import BENCHMARKS, RunSpec, SyntheticSweeps, evaluated, write_run

from analysis import load, tables


def test_finds_every_run_below_nested_roots(sweeps: SyntheticSweeps) -> None:
    runs = load.find_run_dirs([sweeps.root])
    assert len(runs) == len(sweeps.main_specs) + len(sweeps.ablation_specs)
    assert all(p.parent in (sweeps.main, sweeps.ablation) for p in runs)


def test_runs_frame_has_run_json_fields_and_every_flattened_config_key(
    sweeps: SyntheticSweeps,
) -> None:
    sweep = load.load_sweeps(sweeps.main)
    runs = sweep.runs.set_index("name")
    assert len(runs) == 10
    cols = [
        "method.name",
        "method.lam",
        "method.entropy_quantile",
        "model.name",
        "model.dtype",
        "task.name",
        "trainer.seed",
        "trainer.max_steps",
        "eval.k",
        "logger.wandb.group",
    ]
    assert runs.loc["strace-tiny-s0", cols].tolist() == [
        "strace",
        0.99,
        0.2,
        "tiny",
        "float32",
        "arith",
        0,
        10,
        (1, 4, 16),
        "main",
    ]
    assert set(cols) <= set(sweep.config_keys)
    assert "status" not in sweep.config_keys
    assert pd.isna(runs.loc["grpo-tiny-s0", "method.lam"])
    assert "method.style" not in sweep.config_keys
    assert runs["status"].value_counts().to_dict() == {"finished": 7, "failed": 2, "running": 1}
    assert runs.loc["gspo-tiny-s1", "error"] == "RuntimeError: CUDA out of memory"
    assert sweep.warnings == []


def test_steps_evals_and_problems(sweeps: SyntheticSweeps) -> None:
    sweep = load.load_sweeps([sweeps.main, sweeps.ablation])
    specs = {str(sweeps.main / s.job): s for s in sweeps.main_specs}
    specs |= {str(sweeps.ablation / s.job): s for s in sweeps.ablation_specs}
    assert len(sweep.steps) == sum(s.logged_steps for s in specs.values())
    row = sweep.steps[(sweep.steps["run"] == str(sweeps.main / "4")) & (sweep.steps["step"] == 3)].iloc[0]
    assert row["train/reward_mean"] == pytest.approx(0.05 * 3 + 0.2)
    assert row["train/tokens"] == 2400
    assert row["train/prompts"] == 24
    assert not any(c.startswith("eval/") for c in sweep.steps.columns)

    assert len(sweep.evals) == sum(len(s.c) for s in specs.values())
    assert set(sweep.evals.columns) == {"run", "step", *(f"eval/{b}/pass@1" for b in BENCHMARKS)}

    expected_rows = sum(len(cs) for s in specs.values() for per in s.c.values() for cs in per.values())
    assert len(sweep.problems) == expected_rows
    assert "completions" not in sweep.problems.columns
    one = sweep.problems[(sweep.problems["run"] == str(sweeps.main / "1")) & (sweep.problems["step"] == 10)]
    assert one.groupby("benchmark")["c"].apply(list).to_dict() == specs[str(sweeps.main / "1")].c[10]


def test_empty_directory_loads_empty_frames(tmp_path: Path) -> None:
    sweep = load.load_sweeps(tmp_path)
    assert sweep.runs.empty
    assert sweep.steps.empty
    assert sweep.evals.empty
    assert sweep.problems.empty
    assert sweep.config_keys == ["model.name", "method.name"]


def test_run_without_run_json_is_listed_as_unknown(tmp_path: Path) -> None:
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "config.yaml").write_text("method: {name: grpo}\nmodel: {name: tiny}\n")
    sweep = load.load_sweeps(tmp_path)
    assert sweep.runs[["name", "status", "error", "method.name"]].values.tolist() == [
        ["job", "unknown", f"{tmp_path / 'job' / 'run.json'}: missing", "grpo"]
    ]
    assert sweep.finished.empty
    assert len(sweep.incomplete) == 1


# --- one bad run never stops the rest (issue 10) ---


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    """Four GRPO seeds on tiny; tests damage some of them."""
    for seed in range(4):
        write_run(tmp_path / f"s{seed}", evaluated(RunSpec(f"s{seed}", "grpo", "tiny", seed)))
    return tmp_path


def _status(sweep: load.Sweep, job: str) -> tuple[str, str | None]:
    row = sweep.runs.set_index("name").loc[f"grpo-tiny-s{job[1:]}"]
    return row["status"], row["error"]


def _tabulated_seeds(sweep: load.Sweep) -> int:
    return int(tables.main_table(sweep).count.at[("tiny", "grpo"), "avg"])


def test_malformed_run_json_is_broken_and_the_rest_tabulated(damaged: Path) -> None:
    (damaged / "s1" / "run.json").write_text('{"name": "grpo-tiny-s1", "status": "fin')
    sweep = load.load_sweeps(damaged)
    row = sweep.runs.set_index("run").loc[str(damaged / "s1")]
    assert row["status"] == load.BROKEN
    assert row["error"] == f"{damaged / 's1' / 'run.json'}:1: invalid JSON (Unterminated string starting at)"
    assert set(sweep.steps["run"]) == {str(damaged / s) for s in ("s0", "s2", "s3")}
    assert _tabulated_seeds(sweep) == 3
    assert tables.status_table(sweep)["status"].tolist() == ["broken"]


def test_run_json_that_is_not_an_object_is_broken(damaged: Path) -> None:
    (damaged / "s2" / "run.json").write_text("[1, 2]")
    row = load.load_sweeps(damaged).runs.set_index("run").loc[str(damaged / "s2")]
    assert (row["status"], row["error"]) == (
        "broken",
        f"{damaged / 's2' / 'run.json'}: expected a JSON object, got list",
    )


def test_torn_last_metrics_line_is_dropped_with_a_warning(damaged: Path) -> None:
    path = damaged / "s0" / "metrics.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines) + '\n{"step": 11, "train/rew')
    with pytest.warns(load.AnalysisWarning, match=f"^{path}:{len(lines) + 1}: invalid JSON .*torn last line"):
        sweep = load.load_sweeps(damaged)
    assert _status(sweep, "s0") == ("finished", None)
    assert sweep.steps[sweep.steps["run"] == str(damaged / "s0")]["step"].tolist() == list(range(1, 11))
    assert sweep.warnings == [
        f"{path}:{len(lines) + 1}: invalid JSON (Unterminated string starting at): "
        "dropped as a torn last line"
    ]
    assert _tabulated_seeds(sweep) == 4


def test_garbage_in_the_middle_of_metrics_breaks_that_run_only(damaged: Path) -> None:
    path = damaged / "s3" / "metrics.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines[:2], "garbage", *lines[2:]]) + "\n")
    sweep = load.load_sweeps(damaged)
    assert _status(sweep, "s3") == ("broken", f"{path}:3: invalid JSON (Expecting value)")
    assert str(damaged / "s3") not in set(sweep.steps["run"]) | set(sweep.problems["run"])
    assert _tabulated_seeds(sweep) == 3


def test_a_metrics_line_without_an_integer_step_breaks_the_run(damaged: Path) -> None:
    path = damaged / "s1" / "metrics.jsonl"
    path.write_text('{"step": "one", "train/reward_mean": 0.1}\n' + path.read_text())
    assert _status(load.load_sweeps(damaged), "s1") == (
        "broken",
        f"{path}:1: not a metrics line (a JSON object with an integer step)",
    )


def test_missing_config_yaml_is_broken(damaged: Path) -> None:
    (damaged / "s2" / "config.yaml").unlink()
    sweep = load.load_sweeps(damaged)
    assert _status(sweep, "s2") == (
        "broken",
        f"{damaged / 's2' / 'config.yaml'}: missing (the run's config is unknown)",
    )
    assert _tabulated_seeds(sweep) == 3
    assert list(tables.main_table(sweep).mean.index) == [("tiny", "grpo")]  # no row for the unknown config


def test_invalid_config_yaml_is_broken_with_its_line(damaged: Path) -> None:
    (damaged / "s2" / "config.yaml").write_text("method:\n  name: grpo\n  lam: [0.9\n")
    error = _status(load.load_sweeps(damaged), "s2")[1]
    assert error.startswith(f"{damaged / 's2' / 'config.yaml'}:4: invalid YAML (")


def test_unreadable_records_break_the_run(damaged: Path) -> None:
    path = damaged / "s1" / "eval" / "step-10" / "records.parquet"
    path.write_bytes(b"not parquet")
    status, error = _status(load.load_sweeps(damaged), "s1")
    assert status == "broken"
    assert error.startswith(f"{path}: unreadable records (")


def test_cli_lists_broken_runs_and_reports_torn_lines_on_stderr(
    damaged: Path, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    from analysis import cli

    (damaged / "s1" / "run.json").write_text("{")
    metrics = damaged / "s0" / "metrics.jsonl"
    metrics.write_text(metrics.read_text() + '{"step": 11')
    out = tmp_path_factory.mktemp("report")
    assert cli.main([str(damaged), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"warning: {metrics}:" in err
    assert "torn last line" in err
    assert "Traceback" not in err
    index = (out / "index.md").read_text()
    assert f"| s1 | broken | {damaged / 's1' / 'run.json'}:1: invalid JSON" in index
    assert "| Tiny Qwen3 (toy) | GRPO | 1 |" in index  # a broken run.json: the config still places the run
    assert "## Skipped while loading" in index
    assert "4 runs: 3 finished, 1 broken." in index


def test_a_broken_seed_is_named_in_its_cell_footnote(damaged: Path) -> None:
    (damaged / "s3" / "metrics.jsonl").write_text("oops\n{}\n")
    table = tables.main_table(load.load_sweeps(damaged))
    marks, notes = table.footnotes()
    assert notes[marks[(("tiny", "grpo"), "avg")] - 1] == (
        f"Tiny Qwen3 (toy) / GRPO: excludes not finished: grpo-tiny-s3 (broken; {damaged / 's3'})"
    )


CONFIG = """# comment
method:
  name: grpo_lambda
  lam: 0.99
  adv_clamp: -.inf
model:
  name: tiny
  note: |
    two
    lines
eval:
  'n': 16
  k:
  - 1
  - 4
benchmark: {a: {name: a}}
run_name: ''
"""


@pytest.mark.parametrize("text", [CONFIG, "---\n" + CONFIG, "- 1\n- 2\n", "a: [1\nb: 2\n", ""])
def test_config_parsing_per_group_equals_a_whole_parse(text: str) -> None:
    try:
        whole, error = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)), None
    except yaml.YAMLError as err:
        whole, error = None, str(err)
    if error is None:
        assert load.parse_yaml(text) == whole
        return
    with pytest.raises(yaml.YAMLError) as caught:
        load.parse_yaml(text)
    assert str(caught.value) == error  # the error (and its line) of the whole file
