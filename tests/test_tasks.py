"""Tasks: the arithmetic generator's answers and splits, dataset loading with clear row errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from harness.config.schema import TaskConfig
from harness.grading import math_reward
from harness.problems.arith import make_problems, split_of
from harness.problems.dataset import task_rows, train_dataset
from harness.problems.prompt import INSTRUCTION, render_prompt
from harness.training.models import build_tiny


def test_arith_answers_are_the_value_of_the_expression() -> None:
    for row in make_problems("train", 200, n_operations=3, max_operand=12, seed=1):
        expr = re.fullmatch(r"Compute (.*)\.", row["problem"]).group(1)
        assert str(eval(expr)) == row["answer"]
        assert math_reward(row["solution"], row["answer"]) == 1.0


def test_arith_splits_are_disjoint_and_reproducible() -> None:
    splits = {
        s: make_problems(s, 300, n_operations=2, max_operand=9, seed=0) for s in ("train", "warm", "test")
    }
    texts = {s: {r["problem"] for r in rows} for s, rows in splits.items()}
    assert not texts["train"] & texts["test"]
    assert not texts["warm"] & texts["test"]
    assert not texts["warm"] & texts["train"]
    assert all(split_of(p) == s for s, ps in texts.items() for p in ps)
    assert make_problems("test", 300, n_operations=2, max_operand=9, seed=0) == splits["test"]
    assert make_problems("test", 300, n_operations=2, max_operand=9, seed=1) != splits["test"]


def test_arith_refuses_more_problems_than_exist() -> None:
    with pytest.raises(ValueError, match=r"only .* distinct test problems"):
        make_problems("test", 10_000, n_operations=1, max_operand=3)


def test_tiny_tokenizer_round_trips_solutions_and_has_a_chat_template() -> None:
    model, tok = build_tiny("tiny")
    text = "12 * 3 = 36. 36 - 40 = -4. The answer is \\boxed{-4}."
    assert tok.decode(tok(text).input_ids) == text
    prompt = render_prompt(tok, "Compute 1 + 2.")
    assert prompt == f"Q: Compute 1 + 2.\n{INSTRUCTION}\nA: "
    assert model.config.vocab_size == len(tok)
    assert model.config.model_type == "qwen3"


def _cfg(path: Path, source: str, **kw: object) -> TaskConfig:
    return TaskConfig(name="math", source=source, path=str(path), **kw)


def test_jsonl_and_parquet_load_with_configurable_columns(tmp_path: Path) -> None:
    rows = [
        {"question": "What is 1+1?", "final": "2", "uid": "a"},
        {"question": "Half of 3?", "final": "3/2", "uid": "b"},
    ]
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pd.DataFrame(rows).to_parquet(tmp_path / "d.parquet")
    for name, source in (("d.jsonl", "local"), ("d.parquet", "local")):
        cfg = _cfg(tmp_path / name, source, problem_key="question", answer_key="final", id_key="uid")
        assert task_rows(cfg) == [
            {"id": "a", "problem": "What is 1+1?", "answer": "2"},
            {"id": "b", "problem": "Half of 3?", "answer": "3/2"},
        ]
    ds = train_dataset(cfg)
    assert ds[0]["prompt"] == [{"role": "user", "content": f"What is 1+1?\n{INSTRUCTION}"}]
    assert ds[1]["answer"] == "3/2"


def test_dapo_style_chat_prompts_and_ground_truth_dicts(tmp_path: Path) -> None:
    row = {"prompt": [{"role": "user", "content": "Solve x+1=3."}], "reward_model": {"ground_truth": "2"}}
    (tmp_path / "dapo.jsonl").write_text(json.dumps(row) + "\n")
    cfg = _cfg(tmp_path / "dapo.jsonl", "local", problem_key="prompt", answer_key="reward_model")
    assert task_rows(cfg)[0]["problem"] == "Solve x+1=3."
    assert task_rows(cfg)[0]["answer"] == "2"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"problem": "ok?"}, r"row 1: missing column 'answer' \(columns: \['problem'\]\)"),
        ({"problem": "", "answer": "1"}, r"row 1: column 'problem' is empty"),
        ({"problem": "ok?", "answer": " "}, r"row 1: column 'answer' is empty"),
    ],
)
def test_malformed_rows_name_the_file_and_row(tmp_path: Path, row: dict, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"problem": "fine", "answer": "1"}) + "\n" + json.dumps(row) + "\n")
    with pytest.raises(ValueError, match=rf"bad\.jsonl, {message}"):
        task_rows(_cfg(path, "local"))


def test_a_column_missing_from_the_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"question": "1+1?", "answer": "2"}) + "\n")
    with pytest.raises(ValueError, match=r"q\.jsonl, row 0: missing column 'problem'"):
        task_rows(_cfg(path, "local"))
