"""W&B workspaces, one per named sweep, built with ``wandb-workspaces``.

    python -m analysis.dashboard --sweep lambda_ablation --entity E --project P
    python -m analysis.dashboard --sweep main_table entropy_quantile_ablation --dry-run

A sweep file (``sweeps/<name>.yaml``) says which W&B group its runs share (the
name of its ``hydra.sweep.dir``, as harness.train sets it), which config keys it
varies (``hydra.sweeper.params``; a group choice such as ``method`` is the key
``method.name``) and which benchmarks it evaluates. Its workspace shows only
that group's runs, grouped by the varied keys (model and method first, numeric
axes such as λ last), so every line and bar is a mean over seeds ± std:

* *Final evaluation*: average pass@k per group; pass@k against each numeric axis
  (λ, entropy quantile); all axes side by side; pass@k per benchmark where the
  sweep compares methods or models (the main table).
* *Training curves*: reward, accuracy, response length, entropy, KL, clipped fraction.
* *pass@k during training*: the average for each k, and each benchmark's.

Metric keys are the ones W&B holds (:mod:`analysis.wandb_runs`); values are the
logged fractions, not %. Saving creates the workspace, or updates the one saved
for the same entity, project and sweep. ``--dry-run`` writes each workspace's
spec as JSON and contacts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import wandb_workspaces.reports.v2 as wr
import wandb_workspaces.workspaces as ws
import yaml
from wandb_workspaces.reports.v2.interface import PanelTypes

from analysis import names
from analysis.variants import HEAD, SEED
from analysis.wandb_runs import STEP

REPO = Path(__file__).resolve().parents[1]
SWEEPS = REPO / "sweeps"
CONF = REPO / "conf"
TRAINING = (
    "train/reward_mean",
    "train/accuracy",
    "train/response_length",
    "train/entropy",
    "train/kl",
    "train/clip_frac",
)
AVG = "avg"


class DashboardError(Exception):
    """A sweep or an option the dashboard cannot use; the message says which and why."""


@dataclass(frozen=True)
class SweepPlan:
    """What a workspace needs to know about a sweep."""

    name: str
    group: str  # the W&B group of its runs
    axes: tuple[str, ...]  # the config keys it varies: model, method, categorical, numeric
    numeric: tuple[str, ...]  # the axes whose values are numbers
    benchmarks: tuple[str, ...]
    ks: tuple[int, ...]


def _values(spec: str | float | list) -> list[str]:
    """The values of one sweeper param: ``0,0.9,1`` or a YAML list."""
    if isinstance(spec, list):
        return [str(v) for v in spec]
    return [v.strip() for v in str(spec).split(",") if v.strip()]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _config_key(param: str) -> str:
    """``method`` (a group choice) -> ``method.name``; ``method.lam`` stays."""
    return param if "." in param else f"{param}.name"


def _benchmarks(defaults: list) -> list[str] | None:
    for entry in defaults:
        if isinstance(entry, dict):
            for key, value in entry.items():
                if key.removeprefix("override ").strip() == "benchmark":
                    return [value] if isinstance(value, str) else list(value)
    return None


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text()) or {}


def read_plan(name: str, sweeps: Path = SWEEPS, conf: Path = CONF) -> SweepPlan:
    """The :class:`SweepPlan` of ``sweeps/<name>.yaml`` (benchmarks and k default to conf/)."""
    path = sweeps / f"{name}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in sweeps.glob("*.yaml")))
        raise DashboardError(f"no sweep {name!r} in {sweeps} (known: {known})")
    data = _yaml(path)
    hydra = data.get("hydra") or {}
    params = (hydra.get("sweeper") or {}).get("params") or {}
    varied = {_config_key(p): _values(v) for p, v in params.items() if len(_values(v)) > 1}
    varied.pop(SEED, None)
    numeric = [k for k, vals in varied.items() if k not in HEAD and all(map(_is_number, vals))]
    rest = [k for k in varied if k not in HEAD and k not in numeric]
    sweep_dir = str((hydra.get("sweep") or {}).get("dir", ""))
    group = Path(sweep_dir).name if sweep_dir and "${" not in sweep_dir else name
    benches = _benchmarks(data.get("defaults") or []) or _benchmarks(_yaml(conf / "train.yaml")["defaults"])
    ks = (data.get("eval") or {}).get("k") or _yaml(conf / "eval" / "default.yaml")["k"]
    return SweepPlan(
        name,
        group,
        (*[k for k in HEAD if k in varied], *rest, *numeric),
        tuple(numeric),
        tuple(benches or ()),
        tuple(int(k) for k in ks),
    )


def _title(metric: str) -> str:
    """A panel title: display names, without the % our own tables use (W&B holds fractions)."""
    return names.metric(metric).replace(" (%)", "")


def _curve(metrics: list[str], title: str) -> wr.LinePlot:
    return wr.LinePlot(
        title=title,
        x=STEP,
        y=list(metrics),
        title_x="step",
        groupby_aggfunc="mean",
        groupby_rangefunc="stddev",
    )


def _final_panels(plan: SweepPlan, k: int) -> list[PanelTypes]:
    final = f"eval/{AVG}/pass@{k}"
    panels: list[PanelTypes] = [
        wr.BarPlot(
            title=_title(final),
            metrics=[final],
            orientation="v",
            groupby_aggfunc="mean",
            groupby_rangefunc="stddev",
        )
    ]
    panels += [
        wr.ScatterPlot(
            title=f"{_title(final)} vs {names.key(axis)}",
            x=wr.Config(axis),
            y=wr.SummaryMetric(final),
        )
        for axis in plan.numeric
    ]
    others = [a for a in plan.axes if a not in HEAD]
    if others:
        columns = [
            wr.ParallelCoordinatesPlotColumn(metric=wr.Config(a), display_name=names.key(a)) for a in others
        ]
        columns.append(
            wr.ParallelCoordinatesPlotColumn(metric=wr.SummaryMetric(final), display_name=_title(final))
        )
        panels.append(
            wr.ParallelCoordinatesPlot(
                title=f"{_title(final)} by {', '.join(map(names.key, others))}", columns=columns
            )
        )
    if set(plan.axes) & set(HEAD):
        panels += [
            wr.BarPlot(
                title=_title(f"eval/{b}/pass@{k}"),
                metrics=[f"eval/{b}/pass@{k}"],
                orientation="v",
                groupby_aggfunc="mean",
                groupby_rangefunc="stddev",
            )
            for b in plan.benchmarks
        ]
    return panels


def build_workspace(plan: SweepPlan, entity: str, project: str, k: int = 16) -> ws.Workspace:
    """The workspace of one sweep (nothing is contacted)."""
    if k not in plan.ks:
        raise DashboardError(f"sweep {plan.name} logs pass@k for k in {list(plan.ks)}, not k={k}")
    sections = [
        ws.Section(name="Final evaluation", panels=_final_panels(plan, k), is_open=True),
        ws.Section(name="Training curves", panels=[_curve([m], _title(m)) for m in TRAINING], is_open=True),
        ws.Section(
            name="pass@k during training",
            is_open=True,
            panels=[
                *(_curve([f"eval/{AVG}/pass@{j}"], _title(f"eval/{AVG}/pass@{j}")) for j in plan.ks),
                *(_curve([f"eval/{b}/pass@{k}"], _title(f"eval/{b}/pass@{k}")) for b in plan.benchmarks),
            ],
        ),
    ]
    runset = ws.RunsetSettings(
        filters=[ws.Metric("Group") == plan.group], groupby=[ws.Config(a) for a in plan.axes]
    )
    return ws.Workspace(
        name=f"harness: {plan.name}",
        entity=entity,
        project=project,
        sections=sections,
        runset_settings=runset,
        settings=ws.WorkspaceSettings(x_axis=STEP),
    )


def spec(workspace: ws.Workspace) -> dict:
    """The workspace exactly as it would be sent to W&B (a JSON-able dict)."""
    return json.loads(workspace._to_model().model_dump_json(by_alias=True, exclude_none=True))


def view_name(sweep: str) -> str:
    """The workspace's fixed internal name, so saving again updates it."""
    return f"nw-harness-{sweep.replace('_', '-')}-v"


def save(workspace: ws.Workspace, sweep: str) -> str:
    """Create the sweep's workspace, or update the one saved before; returns its URL."""
    from wandb_workspaces.workspaces import internal

    name = view_name(sweep)
    try:
        workspace._internal_id = internal.View.from_name(workspace.entity, workspace.project, name).id
    except ValueError:  # not saved yet: created under the fixed name
        workspace._internal_id = ""
    workspace._internal_name = name
    return workspace.save().url


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis.dashboard", description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", nargs="+", required=True, help="sweep names (files in sweeps/)")
    parser.add_argument("--entity", help="W&B entity (required unless --dry-run)")
    parser.add_argument("--project", default=None, help="W&B project (default: logger.wandb.project)")
    parser.add_argument("--k", type=int, default=16, help="k of the final pass@k panels (default 16)")
    parser.add_argument("--dry-run", action="store_true", help="write the specs as JSON; contact nothing")
    parser.add_argument("--out", default="dashboards", help="where --dry-run writes <sweep>.json")
    return parser


def _default_project() -> str:
    from harness.config.schema import WandbConfig

    return WandbConfig().project


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.dry_run and not args.entity:
        parser.error("--entity is required to save a workspace (or use --dry-run)")
    project = args.project or _default_project()
    try:
        built = {
            s: build_workspace(read_plan(s), args.entity or "ENTITY", project, args.k) for s in args.sweep
        }
    except DashboardError as err:
        parser.error(str(err))
    if args.dry_run:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for sweep, workspace in built.items():
            path = out / f"{sweep}.json"
            path.write_text(json.dumps(spec(workspace), indent=1, ensure_ascii=False) + "\n")
            print(path)
        return 0
    import wandb

    for sweep, workspace in built.items():
        try:
            print(f"{sweep}: {save(workspace, sweep)}")
        except (wandb.errors.Error, OSError, ValueError) as err:
            print(
                f"{sweep}: could not save the workspace to W&B ({type(err).__name__}: {err}); "
                "check the login, entity and project, or use --dry-run",
                file=sys.stderr,
            )
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
