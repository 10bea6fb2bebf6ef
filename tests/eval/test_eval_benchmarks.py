"""Benchmark loading: each hub dataset's real schema from a local file, errors, arith."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from harness.config.eval import BenchmarkConfig
from harness.errors import DataError
from harness.eval.benchmarks import UnparsableAnswersError, load_benchmark, load_benchmarks

# Two rows per benchmark, in the column layout of its hub dataset.
SCHEMAS = {
    "math500": (
        {
            "hub": "HuggingFaceH4/MATH-500",
            "problem_key": "problem",
            "answer_key": "answer",
            "id_key": "unique_id",
        },
        [
            {
                "problem": "Compute $\\dbinom{8}{4}$.",
                "solution": "...",
                "answer": "70",
                "subject": "Counting & Probability",
                "level": 2,
                "unique_id": "test/counting_and_probability/1.json",
            },
            {
                "problem": "Find x.",
                "solution": "...",
                "answer": "\\frac{\\sqrt{3}}{2}",
                "subject": "Algebra",
                "level": 4,
                "unique_id": "test/algebra/7.json",
            },
        ],
        ("test/algebra/7.json", "\\frac{\\sqrt{3}}{2}"),
    ),
    "aime24": (
        {
            "hub": "HuggingFaceH4/aime_2024",
            "split": "train",
            "problem_key": "problem",
            "answer_key": "answer",
            "id_key": "id",
        },
        [
            {
                "id": 60,
                "problem": "Every morning Aya ...",
                "solution": "...",
                "answer": "204",
                "url": "https://artofproblemsolving.com/...",
                "year": "2024",
            },
            {
                "id": 61,
                "problem": "Let ABC ...",
                "solution": "...",
                "answer": "113",
                "url": "u",
                "year": "2024",
            },
        ],
        ("61", "113"),
    ),
    "aime25": (
        {"hub": "math-ai/aime25", "problem_key": "problem", "answer_key": "answer", "id_key": "id"},
        [
            {"problem": "Find the sum ...", "answer": "70", "id": "0"},
            {"problem": "On triangle ...", "answer": "588", "id": "1"},
        ],
        ("1", "588"),
    ),
    "amc23": (
        {"hub": "math-ai/amc23", "problem_key": "question", "answer_key": "answer"},
        [
            {"id": 0, "question": "Cities A and B ...", "answer": 27.0, "url": "u"},
            {"id": 1, "question": "Positive real numbers ...", "answer": 36.0, "url": "u"},
        ],
        ("1", "36"),
    ),
    "minerva": (
        {"hub": "math-ai/minervamath", "problem_key": "question", "answer_key": "answer"},
        [
            {"question": "Each of the two Magellan telescopes ...", "answer": "1.6"},
            {"question": "Preamble: ...", "answer": "4.5e33"},
        ],
        ("1", "4.5e33"),
    ),
    "olympiadbench": (
        {
            "hub": "Hothan/OlympiadBench",
            "subset": "OE_TO_maths_en_COMP",
            "split": "train",
            "problem_key": "question",
            "answer_key": "final_answer",
            "id_key": "id",
        },
        [
            {
                "id": 1606,
                "question": "Xenia and Sergey ...",
                "final_answer": ["$\\frac{1}{2}$"],
                "solution": ["..."],
                "is_multiple_answer": False,
                "unit": None,
                "answer_type": "Numerical",
            },
            {
                "id": 1607,
                "question": "Find all pairs ...",
                "final_answer": ["$(1,2)$", "$(2,1)$"],
                "solution": ["..."],
                "is_multiple_answer": True,
                "unit": None,
                "answer_type": "Tuple",
            },
        ],
        ("1607", "(1,2), (2,1)"),
    ),
}


def write_rows(path: Path, rows: list[dict]) -> Path:
    if path.suffix == ".parquet":
        pq.write_table(pa.Table.from_pylist(rows), path)
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize("name", list(SCHEMAS))
@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_loads_each_benchmark_schema_from_a_local_file(name: str, suffix: str, tmp_path: Path) -> None:
    fields, rows, (last_id, last_answer) = SCHEMAS[name]
    path = write_rows(tmp_path / f"{name}{suffix}", rows)
    problems = load_benchmark(BenchmarkConfig(name=name, source="hub", path=str(path), **fields))
    assert len(problems) == 2
    assert problems[-1].id == last_id
    assert problems[-1].answer == last_answer
    assert problems[0].problem == rows[0][fields["problem_key"]]


def test_limit_keeps_the_first_problems(tmp_path: Path) -> None:
    fields, rows, _ = SCHEMAS["aime25"]
    path = write_rows(tmp_path / "a.jsonl", rows)
    problems = load_benchmark(BenchmarkConfig(name="aime25", path=str(path), limit=1, **fields))
    assert [p.id for p in problems] == ["0"]


def test_missing_column_names_file_and_row(tmp_path: Path) -> None:
    rows = [{"problem": "p0", "answer": "1"}, {"problem": "p1"}, {"problem": "p2", "answer": "3"}]
    path = write_rows(tmp_path / "bad.jsonl", rows)
    with pytest.raises(DataError, match=r"bad\.jsonl, row 1: missing column 'answer'"):
        load_benchmark(BenchmarkConfig(name="b", source="local", path=str(path)))


def test_missing_column_in_parquet(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "bad.parquet", [{"question": "q", "answer": "1"}])
    with pytest.raises(DataError, match=r"bad\.parquet, row 0: missing column 'problem'"):
        load_benchmark(BenchmarkConfig(name="b", source="local", path=str(path)))


def test_invalid_json_line_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text('{"problem": "p", "answer": "1"}\n{"problem": \n')
    with pytest.raises(DataError, match=r"broken\.jsonl: line 2"):
        load_benchmark(BenchmarkConfig(name="b", source="local", path=str(path)))


UNPARSABLE_ROWS = [
    {"problem": "p0", "answer": "42", "id": "ok-0"},
    {"problem": "p1", "answer": "\\frac{", "id": "bad-1"},
    {"problem": "p2", "answer": "???", "id": "bad-2"},
    {"problem": "p3", "answer": "\\sqrt{2}", "id": "ok-3"},
]


def test_unparsable_answers_error_lists_row_ids(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "u.jsonl", UNPARSABLE_ROWS)
    cfg = BenchmarkConfig(name="u", source="local", path=str(path), id_key="id")
    with pytest.raises(UnparsableAnswersError, match=r"2/4 gold answers .*bad-1, bad-2") as err:
        load_benchmark(cfg)
    assert err.value.ids == ["bad-1", "bad-2"]


@pytest.mark.parametrize(("mode", "kept"), [("warn", 4), ("drop", 2)])
def test_unparsable_answers_warn_or_drop(mode: str, kept: int, tmp_path: Path, caplog) -> None:
    path = write_rows(tmp_path / f"u-{mode}.jsonl", UNPARSABLE_ROWS)
    cfg = BenchmarkConfig(name="u", source="local", path=str(path), id_key="id", on_unparsable=mode)
    with caplog.at_level(logging.WARNING, logger="harness.eval.benchmarks"):
        problems = load_benchmark(cfg)
    assert len(problems) == kept
    assert "bad-1, bad-2" in caplog.text


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "d.jsonl", [{"problem": "a", "answer": "1", "id": 1}] * 2)
    with pytest.raises(DataError, match="duplicate problem ids"):
        load_benchmark(BenchmarkConfig(name="d", source="local", path=str(path), id_key="id"))


def test_hub_failure_suggests_a_local_path(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    def offline(*args, **kwargs):
        raise ConnectionError("offline")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(DataError, match=r"benchmark\.math500\.path="):
        load_benchmark(BenchmarkConfig(name="math500", hub="HuggingFaceH4/MATH-500", split="test"))


def test_arith_splits_are_held_out_and_deterministic() -> None:
    from harness.problems.arith import make_problems

    benches = load_benchmarks(
        {
            "arith_test": {"source": "arith", "n_problems": 20},
            "arith_hard": {"source": "arith", "n_problems": 10, "n_operations": 4},
        }
    )
    test, hard = benches["arith_test"], benches["arith_hard"]
    assert len(test) == 20
    assert len(hard) == 10
    assert all(p.problem.count("(") == 3 for p in hard)  # 4 operations -> 3 nested parentheses
    train = {r["problem"] for r in make_problems("train", 500, n_operations=2, max_operand=9, seed=0)}
    assert not train & {p.problem for p in test}
    assert load_benchmarks({"arith_test": {"source": "arith", "n_problems": 20}})["arith_test"] == test
