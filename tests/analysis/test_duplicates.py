"""One experiment found in two run dirs (the same variant and seed) is counted once, and said so."""

from __future__ import annotations

import json
import shutil
import statistics
from pathlib import Path

import pytest
from synthetic_runs import RunSpec, evaluated, run_scores, write_run

from analysis import cli, load, plots, tables

LAM = {"lam": 0.99, "style": "both"}


def _sweeps(root: Path) -> tuple[Path, Path, list[RunSpec]]:
    """``main``: GRPO-λ at seeds 0, 1, 2; ``lambda``: GRPO-λ at λ ∈ {0.9, 0.99}, seed 0, where
    λ=0.99 seed 0 is main's seed-0 run again (the same config.yaml, as in the toy study)."""
    main, lam = root / "toy_main", root / "toy_lambda"
    specs = [
        evaluated(RunSpec(f"s{seed}", "grpo_lambda", "tiny", seed, c_offset=seed, **LAM))
        for seed in (0, 1, 2)
    ]
    for spec in specs:
        write_run(main / spec.job, spec)
    write_run(lam / "lam0.9", evaluated(RunSpec("lam0.9", "grpo_lambda", "tiny", 0, lam=0.9, style="both")))
    shutil.copytree(main / "s0", lam / "lam0.99")  # the same run, run again in another sweep
    return main, lam, specs


def test_the_same_config_in_two_sweeps_is_one_seed(tmp_path: Path) -> None:
    main, lam, specs = _sweeps(tmp_path)
    sweep = load.load_sweeps([main, lam])
    assert len(sweep.runs) == 4  # 5 run dirs, one a duplicate
    (dup,) = sweep.duplicates
    # both finished with 10 steps: the first path in sorted order is kept (toy_lambda < toy_main)
    assert (dup.run, dup.kept, dup.differs) == (str(main / "s0"), str(lam / "lam0.99"), ())
    assert str(dup) == f"{main / 's0'} (same config as {lam / 'lam0.99'})"
    assert str(main / "s0") not in set(sweep.steps["run"]) | set(sweep.evals["run"]) | set(
        sweep.problems["run"]
    )

    table = tables.main_table(sweep, k=16)
    row = ("tiny", "grpo_lambda", 0.99)
    assert table.count.at[row, "avg"] == 3  # not 4
    want = [100 * run_scores(s, 16)["avg"] for s in specs]
    assert 100 * table.mean.at[row, "avg"] == pytest.approx(statistics.mean(want))
    assert 100 * table.std.at[row, "avg"] == pytest.approx(statistics.stdev(want))
    assert tables.ablation_table(sweep, "lam").count.at[("tiny", "grpo_lambda"), 0.99] == 3
    assert tables.efficiency_table(sweep, smooth=1).count.at[row, "AUC"] == 3
    (ax,) = plots.ablation_curve(sweep, "lam").axes
    (handle,), labels = ax.get_legend_handles_labels()  # one line, n = 3 at λ=0.99
    assert labels == ["GRPO-λ"]
    x, y = handle.lines[0].get_xdata(), handle.lines[0].get_ydata()
    assert (list(x), y[-1]) == ([0.9, 0.99], pytest.approx(statistics.mean(want)))


def test_the_report_index_names_the_ignored_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main, lam, _ = _sweeps(tmp_path / "runs")
    out = tmp_path / "report"
    assert cli.main([str(main), str(lam), "--out", str(out)]) == 0
    index = (out / "index.md").read_text()
    assert "4 runs: 4 finished." in index
    assert (
        f"1 duplicate run ignored: `{main / 's0'}` (same config as `{lam / 'lam0.99'}`). A run with "
        "the same variant and seed as another is the same experiment: one is kept (finished first, "
        "then the most logged steps, then the first path in sorted order) and counted once in "
        "every table and figure."
    ) in index
    assert f"note: ignored {main / 's0'} (same config as {lam / 'lam0.99'}) (see the index)" in (
        capsys.readouterr().err
    )
    csv = (out / "tables" / "main.csv").read_text().splitlines()
    header = csv[0].split(",")
    assert header[:3] == ["model.name", "method.name", "method.lam"]
    lam99 = next(line.split(",") for line in csv[1:] if line.split(",")[2] == "0.99")
    assert lam99[header.index("avg n")] == "3"


def test_the_finished_run_with_the_most_steps_is_kept(tmp_path: Path) -> None:
    """A failed attempt and a longer log beat the path order; bookkeeping differences are named."""
    for job, status, group in (
        ("a", "failed", "first"),
        ("b", "finished", "second"),
        ("c", "finished", "third"),
    ):
        write_run(tmp_path / job, evaluated(RunSpec(job, "grpo", "tiny", 0, status=status, group=group)))
    # c logged one step more than b (a resumed run that went on): c is kept
    metrics = tmp_path / "c" / "metrics.jsonl"
    metrics.write_text(metrics.read_text() + json.dumps({"step": 11, "train/reward_mean": 0.6}) + "\n")
    sweep = load.load_sweeps(tmp_path)
    assert sweep.runs["run"].tolist() == [str(tmp_path / "c")]
    assert [(d.run, d.kept) for d in sweep.duplicates] == [
        (str(tmp_path / "a"), str(tmp_path / "c")),
        (str(tmp_path / "b"), str(tmp_path / "c")),
    ]
    assert sweep.duplicates[0].differs == ("logger.wandb.group",)
    assert str(sweep.duplicates[0]) == (
        f"{tmp_path / 'a'} (same variant and seed as {tmp_path / 'c'}; the configs differ only in "
        "bookkeeping: logger.wandb.group)"
    )
    assert tables.status_table(sweep).empty  # the failed attempt is a duplicate, not a failed seed


def test_other_seeds_and_other_variants_are_never_dropped(tmp_path: Path) -> None:
    specs = [
        RunSpec("g0", "grpo", "tiny", 0),
        RunSpec("g1", "grpo", "tiny", 1),
        RunSpec("g0m", "grpo", "tiny-m", 0),
        RunSpec("g0lr", "grpo", "tiny", 0, extra={"trainer": {"lr": 1e-5}}),
    ]
    for spec in specs:
        write_run(tmp_path / spec.job, evaluated(spec))
    sweep = load.load_sweeps(tmp_path)
    assert len(sweep.runs) == 4
    assert sweep.duplicates == []


def test_a_kept_run_stands_in_for_its_copy_in_a_group_filter(tmp_path: Path) -> None:
    """The copy kept is in group main; filtering the λ ablation to group lambda still finds it."""
    main, lam = tmp_path / "a_main", tmp_path / "b_lambda"
    s0 = evaluated(RunSpec("s0", "grpo_lambda", "tiny", 0, **LAM))
    write_run(main / "s0", s0)
    write_run(main / "s1", evaluated(RunSpec("s1", "grpo_lambda", "tiny", 1, c_offset=1, **LAM)))
    write_run(
        lam / "lam0.9",
        evaluated(RunSpec("lam0.9", "grpo_lambda", "tiny", 0, lam=0.9, style="both", group="lambda")),
    )
    write_run(lam / "lam0.99", evaluated(RunSpec("lam0.99", "grpo_lambda", "tiny", 0, group="lambda", **LAM)))
    sweep = load.load_sweeps([main, lam])
    (dup,) = sweep.duplicates
    assert (dup.run, dup.kept, dup.group) == (str(lam / "lam0.99"), str(main / "s0"), "lambda")
    table = tables.ablation_table(sweep, "lam", groups=["lambda"])
    assert table.count.loc[("tiny", "grpo_lambda")].to_dict() == {0.9: 1, 0.99: 1}  # s0 stands in; s1 not
