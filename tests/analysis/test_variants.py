"""Variants are the full flattened config minus seed and bookkeeping: never pooled if differing."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
from synthetic_runs import RunSpec, SyntheticSweeps, evaluated, run_scores, write_run

from analysis import load, tables, variants

BOOKKEEPING_NOISE = [  # differs between the seeds of one variant, so must not split it
    {
        "logger": {"wandb": {"group": "a", "mode": "offline"}},
        "run_name": "first",
        "eval": {"out_dir": "x"},
        "model": {"resources": {"gpus_per_node": 1}, "micro_batch_size": 8},
    },
    {
        "logger": {"wandb": {"group": "b", "mode": "online"}},
        "run_name": "second",
        "eval": {"out_dir": "y"},
        "model": {"resources": {"gpus_per_node": 8}, "micro_batch_size": 64},
    },
]


def _write(root: Path, specs: list[RunSpec]) -> load.Sweep:
    for spec in specs:
        write_run(root / spec.job, evaluated(spec))
    return load.load_sweeps(root)


@pytest.fixture
def clip_specs() -> list[RunSpec]:
    """GRPO at two clip_high values (two seeds each, bookkeeping differing); GSPO at its own."""
    specs = [
        RunSpec(
            f"grpo-{clip}-{seed}",
            "grpo",
            "tiny",
            seed,
            c_offset=offset,
            extra={"method": {"clip_high": clip}, **BOOKKEEPING_NOISE[seed]},
        )
        for clip, offset in ((0.2, 0), (0.28, 2))
        for seed in (0, 1)
    ]
    return [*specs, RunSpec("gspo", "gspo", "tiny", 0, extra={"method": {"clip_high": 4e-4}})]


@pytest.fixture
def clip_sweep(tmp_path: Path, clip_specs: list[RunSpec]) -> load.Sweep:
    return _write(tmp_path, clip_specs)


def _avg(specs: list[RunSpec]) -> float:
    return statistics.mean(run_scores(s, 16)["avg"] for s in specs)


def test_configs_differing_in_one_key_are_never_pooled(
    clip_sweep: load.Sweep, clip_specs: list[RunSpec]
) -> None:
    table = tables.main_table(clip_sweep)
    assert table.mean.index.names == ["model.name", "method.name", "method.clip_high"]
    assert list(table.mean.index) == [
        ("tiny", "grpo", 0.2),
        ("tiny", "grpo", 0.28),
        ("tiny", "gspo", 0.0004),
    ]
    assert table.count["avg"].tolist() == [2, 2, 1]
    assert table.mean.at[("tiny", "grpo", 0.2), "avg"] == pytest.approx(_avg(clip_specs[:2]))
    assert table.mean.at[("tiny", "grpo", 0.28), "avg"] == pytest.approx(_avg(clip_specs[2:4]))
    assert table.row_labels(("tiny", "grpo", 0.28)) == ["Tiny Qwen3 (toy)", "GRPO", "0.28"]
    assert table.header()[:3] == ["model", "method", "clip ε_high"]


def test_ablation_over_any_config_key_by_full_or_short_name(
    clip_sweep: load.Sweep, clip_specs: list[RunSpec]
) -> None:
    for name in ("clip_high", "method.clip_high"):
        table = tables.ablation_table(clip_sweep, name)
        assert table.name == "ablation_method.clip_high"
        assert table.title == "Avg. pass@16 by clip ε_high"
        # GSPO ran at its own clip only: no ablation of it, so no row and no 4e-4 column
        assert list(table.mean.columns) == [0.2, 0.28]
        assert list(table.mean.index) == [("tiny", "grpo")]
        assert table.mean.at[("tiny", "grpo"), 0.28] == pytest.approx(_avg(clip_specs[2:4]))
        # GRPO ran at two clip ranges: which is the baseline is ambiguous, so nothing is compared
        assert not table.paired
        assert not table.best.any().any()
        assert table.notes[(("tiny", "grpo"), 0.28)].startswith(
            "No Δ: 2 variants of GRPO ran on Tiny Qwen3 (toy): name the baseline's config values"
        )


def test_learning_rate_ablation(tmp_path: Path) -> None:
    specs = [
        RunSpec(
            f"{lr}-{seed}",
            "grpo",
            "tiny",
            seed,
            c_offset=offset,
            extra={"trainer": {"lr": lr}, "model": {"warm_start": {"lr": 3e-3}}},
        )
        for lr, offset in ((3e-4, 0), (1e-5, 1))
        for seed in (0, 1)
    ]
    sweep = _write(tmp_path, specs)
    table = tables.ablation_table(sweep, "trainer.lr", k=4)
    assert list(table.mean.columns) == [1e-5, 3e-4]
    assert table.column_label(1e-5) == "learning rate=1e-05"
    assert table.mean.at[("tiny", "grpo"), 1e-5] == pytest.approx(
        statistics.mean(run_scores(s, 4)["avg"] for s in specs[2:])
    )
    assert tables.ablation_axes(sweep) == ["trainer.lr"]
    with pytest.raises(
        variants.ConfigKeyError,
        match=r"^config key 'lr' is ambiguous \(model.warm_start.lr, "
        r"trainer.lr\): give the full key$",
    ):
        tables.ablation_table(sweep, "lr")
    with pytest.raises(
        variants.NotAnAxis,
        match=r"^these runs do not vary task.name within any model and "
        r"method \(arith\): nothing to ablate$",
    ):
        tables.ablation_table(sweep, "task")
    with pytest.raises(variants.NotAnAxis, match=r"^method\.name is a row of every table"):
        tables.ablation_table(sweep, "method")


def test_unknown_key_suggests_close_ones(sweeps: SyntheticSweeps) -> None:
    sweep = load.load_sweeps(sweeps.ablation)
    with pytest.raises(
        variants.ConfigKeyError,
        match=r"^no config key 'lamda' in these runs; did you mean "
        r"method.lam\?$",
    ):
        tables.ablation_table(sweep, "lamda")


def test_only_axes_a_sweep_varies_get_ablations(sweeps: SyntheticSweeps) -> None:
    main, ablation = load.load_sweeps(sweeps.main), load.load_sweeps(sweeps.ablation)
    assert tables.ablation_axes(main) == []  # S-trace ran at one λ and one quantile only
    assert tables.ablation_axes(ablation) == [
        "method.lam",
        "method.placement",
        "method.entropy_quantile",
    ]
    assert [t.name for t in tables.all_tables(main)] == ["main", "efficiency"]
    with pytest.raises(variants.NotAnAxis, match=r"do not vary method\.lam"):
        tables.ablation_table(main, "lam")


def test_labels_show_only_what_varies_beyond_model_and_method(clip_sweep: load.Sweep) -> None:
    keys = variants.identity_keys(clip_sweep.config_keys)
    assert variants.label_keys(clip_sweep.runs, keys) == [
        "model.name",
        "method.name",
        "method.clip_high",
    ]
    only_grpo_default = clip_sweep.runs[clip_sweep.runs["method.name"] == "gspo"]
    assert variants.label_keys(only_grpo_default, keys) == ["model.name", "method.name"]


@pytest.mark.parametrize(
    ("key", "bookkeeping"),
    [
        ("trainer.seed", True),
        ("logger.wandb.group", True),
        ("logger.progress_bar", True),
        ("run_name", True),
        ("cache_dir", True),
        ("hydra.launcher.partition", True),
        ("model.resources.timeout_min", True),
        ("eval.out_dir", True),
        ("eval.progress", True),
        ("trainer.save_steps", True),
        ("trainer.vllm_gpu_memory_utilization", True),
        ("eval.vllm_tensor_parallel_size", True),
        ("task.seed", False),
        ("eval.seed", False),
        ("trainer.lr", False),
        ("method.dual_clip", False),
        ("method.form", False),
        ("eval.n", False),
        ("eval.temperature", False),
        ("model.name", False),
    ],
)
def test_bookkeeping_keys(key: str, bookkeeping: bool) -> None:
    assert variants.is_bookkeeping(key) is bookkeeping
