"""harness.problems: one schema and one loader behind ``task`` and every ``benchmark.<name>``."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from harness.config.eval import BenchmarkConfig
from harness.config.schema import TaskConfig
from harness.errors import DataError
from harness.eval.benchmarks import load_benchmark
from harness.problems import Problem, ProblemSource, load_problems
from harness.problems.arith import make_problems
from harness.problems.dataset import task_rows

COLUMNS = {"problem_key": "question", "answer_key": "final", "id_key": "uid"}
ROWS = [
    {"question": "What is 1+1?", "final": "2", "uid": "a"},
    {
        "question": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Half of 3?"}],
        "final": {"ground_truth": "3/2"},
        "uid": "b",
    },
    {"question": "How many sides has a square?", "final": 4.0, "uid": 7},
    {"question": "Solve x^2 = 1.", "final": ["$1$", "$-1$"], "uid": "d"},
]
EXPECTED = [
    Problem("a", "What is 1+1?", "2"),
    Problem("b", "Half of 3?", "3/2"),
    Problem("7", "How many sides has a square?", "4"),
    Problem("d", "Solve x^2 = 1.", "1, -1"),
]


def write(path: Path, rows: list) -> Path:
    if path.suffix == ".parquet":
        pq.write_table(pa.Table.from_pylist(rows), path)
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def task(path: Path, **kw: object) -> TaskConfig:
    return TaskConfig(name="t", source="local", path=str(path), **kw)


def bench(path: Path, **kw: object) -> BenchmarkConfig:
    return BenchmarkConfig(name="b", source="local", path=str(path), **kw)


def test_task_and_benchmark_share_one_schema() -> None:
    shared = [f.name for f in fields(ProblemSource)]
    assert [f.name for f in fields(TaskConfig)] == shared
    assert [f.name for f in fields(BenchmarkConfig)] == [*shared, "on_unparsable"]


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_a_task_and_a_benchmark_read_the_same_file_as_the_same_rows(suffix: str, tmp_path: Path) -> None:
    rows = ROWS if suffix == ".jsonl" else ROWS[:1]  # parquet columns need one type per column
    path = write(tmp_path / f"d{suffix}", rows)
    expected = EXPECTED[: len(rows)]
    assert load_problems(task(path, **COLUMNS)) == load_problems(bench(path, **COLUMNS)) == expected
    assert task_rows(task(path, **COLUMNS)) == [asdict(p) for p in expected]
    assert load_benchmark(bench(path, **COLUMNS)) == expected


def test_default_ids_are_the_row_index_for_both(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", [{"problem": "p0", "answer": "1"}, {"problem": "p1", "answer": "2"}])
    ids = [[p.id for p in load_problems(make(path))] for make in (task, bench)]
    assert ids == [["0", "1"], ["0", "1"]]


def test_limit_keeps_the_first_rows_of_any_source(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", ROWS)
    assert load_problems(task(path, limit=2, **COLUMNS)) == EXPECTED[:2]
    arith = load_problems(BenchmarkConfig(name="b", source="arith", n_problems=5, limit=3))
    assert [p.id for p in arith] == [f"arith-test-s2-{i}" for i in range(3)]


def test_the_arith_source_is_the_generator_split_by_split() -> None:
    rows = make_problems("train", 20, n_operations=3, max_operand=5, seed=1)
    cfg = TaskConfig(n_problems=20, n_operations=3, max_operand=5, seed=1)
    assert task_rows(cfg) == [{k: r[k] for k in ("id", "problem", "answer")} for r in rows]
    test = load_problems(
        BenchmarkConfig(name="b", source="arith", n_problems=20, n_operations=3, max_operand=5, seed=1)
    )
    assert not {p.problem for p in test} & {r["problem"] for r in rows}


@pytest.mark.parametrize(("make", "key"), [(task, "task"), (bench, "benchmark.b")], ids=["task", "benchmark"])
@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"problem": "ok?"}, "row 1: missing column 'answer' (columns: ['problem']); set {key}.answer_key"),
        ({"problem": "", "answer": "1"}, "row 1: column 'problem' is empty or not text ({key}.problem_key)"),
        ({"problem": "ok?", "answer": None}, "row 1: column 'answer' is empty ({key}.answer_key)"),
        (["ok?", "1"], "row 1: expected an object, got list"),
    ],
    ids=["missing", "empty-problem", "empty-answer", "not-an-object"],
)
def test_row_errors_name_the_file_the_row_and_the_key(
    make, key: str, row: object, message: str, tmp_path: Path
) -> None:
    path = write(tmp_path / "bad.jsonl", [{"problem": "fine", "answer": "1"}, row])
    with pytest.raises(DataError) as err:
        load_problems(make(path))
    assert str(err.value) == f"{path}, " + message.format(key=key)


@pytest.mark.parametrize(("make", "key"), [(task, "task"), (bench, "benchmark.b")], ids=["task", "benchmark"])
def test_file_errors_name_the_key_and_the_file(make, key: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"problem": "p", "answer": "1"}\n{"problem": \n')
    empty = write(tmp_path / "empty.jsonl", [])
    missing = tmp_path / "missing.parquet"
    for path, message in (
        (broken, f"{key}.path: {broken}: line 2: invalid JSON"),
        (empty, f"{key}.path={empty}: no rows (the file is empty)"),
        (missing, f"{key}.path: {missing}: no such file"),
    ):
        with pytest.raises(DataError) as err:
            load_problems(make(path))
        assert str(err.value).startswith(message)


@pytest.mark.parametrize(("make", "key"), [(task, "task"), (bench, "benchmark.b")], ids=["task", "benchmark"])
def test_duplicate_ids_and_a_missing_id_column_name_the_id_key(make, key: str, tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", [{"problem": "a", "answer": "1", "id": 1}] * 2)
    with pytest.raises(DataError, match=rf"d\.jsonl: duplicate problem ids \['1'\] \({key}\.id_key='id'\)"):
        load_problems(make(path, id_key="id"))
    with pytest.raises(DataError, match=rf"d\.jsonl, row 0: missing column 'uid' .*; set {key}\.id_key"):
        load_problems(make(path, id_key="uid"))


def test_a_hub_failure_names_the_key_and_suggests_a_local_path(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    def offline(*args: object, **kwargs: object) -> None:
        raise ConnectionError("offline")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(DataError, match=r"^task\.hub=org/data: cannot load .* set task\.path=<file>\.$"):
        load_problems(TaskConfig(name="t", source="hub", hub="org/data"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source": "jsonl", "path": "x.jsonl"}, "task.source: 'jsonl' is now 'local'"),
        ({"source": "parquet", "path": "x.parquet"}, "task.source: 'parquet' is now 'local'"),
        ({"source": "arith", "path": "x.jsonl"}, "task.path: 'x.jsonl' is not read by source 'arith'"),
        ({"source": "arith", "split": "validation"}, "task.split: must be one of train, warm, test"),
        ({"source": "hub"}, "task.hub: set a hub dataset id"),
        ({"source": "local"}, "task.path: required for source 'local'"),
        ({"n_operations": 0}, "task.n_operations: must be >= 1, got 0"),
        ({"n_problems": 0}, "task.n_problems: must be >= 1, got 0"),
    ],
)
def test_schema_errors_name_the_key(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError) as err:
        TaskConfig(**kwargs)
    assert str(err.value).startswith(message)


def test_too_many_arith_problems_is_a_data_error_naming_the_key() -> None:
    with pytest.raises(DataError, match=r"^benchmark\.b\.n_problems: arithmetic task has only"):
        load_problems(
            BenchmarkConfig(name="b", source="arith", n_problems=1000, n_operations=1, max_operand=2)
        )
