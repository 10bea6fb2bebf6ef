"""W&B workspace specs built offline: panels, grouping keys and filters per named sweep."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis import dashboard

BENCHES = ("aime24", "aime25", "amc23", "math500", "minerva", "olympiadbench")
AGG = {"groupAgg": "mean", "groupArea": "stddev"}


def _strip(node: object) -> object:
    """The spec without what W&B generates per panel (random ids) or lays out (positions)."""
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k not in ("__id__", "layout")}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def _sections(plan: dashboard.SweepPlan, k: int = 16) -> dict[str, list[dict]]:
    spec = dashboard.spec(dashboard.build_workspace(plan, "E", "P", k))
    sections = spec["spec"]["section"]["panelBankConfig"]["sections"]
    return {
        s["name"]: [_strip({"viewType": p["viewType"], **p["config"]}) for p in s["panels"]] for s in sections
    }


def _runset(plan: dashboard.SweepPlan) -> dict:
    return dashboard.spec(dashboard.build_workspace(plan, "E", "P"))["spec"]["section"]["runSets"][0]


def _curve(title: str, metric: str) -> dict:
    return {
        "viewType": "Run History Line Plot",
        "chartTitle": title,
        "xAxis": "step",
        "metrics": [metric],
        "xAxisTitle": "step",
        **AGG,
    }


def _bar(title: str, metric: str) -> dict:
    return {
        "viewType": "Bar Chart",
        "chartTitle": title,
        "metrics": [metric],
        "vertical": True,
        **AGG,
    }


def test_named_sweeps_read_from_their_files() -> None:
    lam = dashboard.read_plan("lambda_ablation")
    assert lam == dashboard.SweepPlan(
        "lambda_ablation",
        "lambda_ablation",
        ("method.style", "method.lam"),
        ("method.lam",),
        BENCHES,
        (1, 4, 16),
    )
    assert dashboard.read_plan("entropy_quantile_ablation").axes == ("method.entropy_quantile",)
    main = dashboard.read_plan("main_table")
    assert (main.group, main.axes, main.numeric) == (
        "main_table",
        ("model.name", "method.name"),
        (),
    )


def test_plan_defaults_come_from_conf(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(
        "defaults: [train]\nhydra:\n  sweep: {dir: multirun/my_group}\n"
        "  sweeper:\n    params:\n      method: grpo,strace\n      trainer.lr: 1e-5,3e-4\n"
        "      trainer.seed: 0,1\n      model: tiny\n"
    )
    plan = dashboard.read_plan("mine", sweeps=tmp_path)
    assert plan == dashboard.SweepPlan(
        "mine",
        "my_group",
        ("method.name", "trainer.lr"),
        ("trainer.lr",),
        ("arith_test",),
        (1, 4, 16),
    )


def test_lambda_ablation_workspace() -> None:
    plan = dashboard.read_plan("lambda_ablation")
    runset = _runset(plan)
    assert runset["filters"] == {
        "filterFormat": "filterV2",
        "filters": [
            {
                "key": {"section": "run", "name": "group"},
                "op": "=",
                "value": "lambda_ablation",
                "disabled": False,
            }
        ],
    }
    assert runset["grouping"] == [
        {"section": "config", "name": "method.value.style"},
        {"section": "config", "name": "method.value.lam"},
    ]
    sections = _sections(plan)
    assert list(sections) == ["Final evaluation", "Training curves", "pass@k during training"]
    assert sections["Final evaluation"] == [
        _bar("Avg. pass@16", "eval/avg/pass@16"),
        {
            "viewType": "Scatter Plot",
            "chartTitle": "Avg. pass@16 vs λ",
            "xAxis": "config:method.value.lam",
            "yAxis": "summary:eval/avg/pass@16",
        },
        {
            "viewType": "Parallel Coordinates Plot",
            "chartTitle": "Avg. pass@16 by trace style, λ",
            "columns": [
                {"accessor": "config:method.value.style", "displayName": "trace style"},
                {"accessor": "config:method.value.lam", "displayName": "λ"},
                {"accessor": "summary:eval/avg/pass@16", "displayName": "Avg. pass@16"},
            ],
        },
    ]
    assert sections["Training curves"] == [
        _curve("training reward", "train/reward_mean"),  # the metrics.jsonl keys, mirrored to W&B
        _curve("training accuracy", "train/accuracy"),
        _curve("response length (tokens)", "train/response_length"),
        _curve("entropy", "train/entropy"),
        _curve("KL", "train/kl"),
        _curve("clipped fraction", "train/clip_frac"),
    ]
    assert [p["metrics"] for p in sections["pass@k during training"]] == [
        ["eval/avg/pass@1"],
        ["eval/avg/pass@4"],
        ["eval/avg/pass@16"],
        *([f"eval/{b}/pass@16"] for b in BENCHES),
    ]


def test_entropy_quantile_workspace() -> None:
    plan = dashboard.read_plan("entropy_quantile_ablation")
    assert _runset(plan)["grouping"] == [{"section": "config", "name": "method.value.entropy_quantile"}]
    scatter = _sections(plan)["Final evaluation"][1]
    assert scatter == {
        "viewType": "Scatter Plot",
        "chartTitle": "Avg. pass@16 vs entropy quantile",
        "xAxis": "config:method.value.entropy_quantile",
        "yAxis": "summary:eval/avg/pass@16",
    }


def test_main_table_workspace_groups_by_model_then_method() -> None:
    plan = dashboard.read_plan("main_table")
    workspace = dashboard.build_workspace(plan, "E", "P", k=4)
    assert (workspace.name, workspace.entity, workspace.project) == (
        "harness: main_table",
        "E",
        "P",
    )
    assert _runset(plan)["grouping"] == [
        {"section": "config", "name": "model.value.name"},
        {"section": "config", "name": "method.value.name"},
    ]
    names = {
        "aime24": "AIME24",
        "aime25": "AIME25",
        "amc23": "AMC23",
        "math500": "MATH-500",
        "minerva": "Minerva",
        "olympiadbench": "OlympiadBench",
    }
    assert _sections(plan, k=4)["Final evaluation"] == [
        _bar("Avg. pass@4", "eval/avg/pass@4"),
        *(_bar(f"{names[b]} pass@4", f"eval/{b}/pass@4") for b in BENCHES),
    ]


def test_unknown_sweep_or_k_is_a_clear_error() -> None:
    with pytest.raises(dashboard.DashboardError, match=r"^no sweep 'nope' in .*sweeps \(known: .*main_table"):
        dashboard.read_plan("nope")
    with pytest.raises(dashboard.DashboardError, match=r"logs pass@k for k in \[1, 4, 16\], not k=32"):
        dashboard.build_workspace(dashboard.read_plan("main_table"), "E", "P", k=32)


def test_dry_run_writes_the_spec_and_contacts_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        dashboard.main(["--sweep", "lambda_ablation", "main_table", "--dry-run", "--out", str(tmp_path)]) == 0
    )
    assert capsys.readouterr().out.split() == [
        str(tmp_path / "lambda_ablation.json"),
        str(tmp_path / "main_table.json"),
    ]
    written = json.loads((tmp_path / "lambda_ablation.json").read_text())
    built = dashboard.spec(
        dashboard.build_workspace(dashboard.read_plan("lambda_ablation"), "ENTITY", "rlvr-credit-assignment")
    )
    assert _strip(written) == _strip(built)
    assert written["displayName"] == "harness: lambda_ablation"


def test_saving_needs_an_entity(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        dashboard.main(["--sweep", "toy_main"])
    assert exit_info.value.code == 2
    assert "--entity is required to save a workspace (or use --dry-run)" in capsys.readouterr().err
