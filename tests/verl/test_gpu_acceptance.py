"""bench.gpu_acceptance on CPU (--tiny): the verl section's step is verl's own, and every method runs."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM

from bench.gpu_acceptance import main, random_model
from bench.verl_step import ppo_step
from harness.methods import METHODS


def test_verl_step_of_harness_grpo_equals_verls_vanilla() -> None:
    with random_model(tiny=True) as path:
        policy = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float64)
    ours = ppo_step(policy, "harness_grpo", 4, 8, 16, "cpu")
    theirs = ppo_step(policy, "vanilla", 4, 8, 16, "cpu")
    assert ours == pytest.approx(theirs, rel=1e-9)
    assert ours[1] > 0


def test_tiny_run_prints_a_row_per_method(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--tiny", "--sections", "verl"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] and line.split()[0] in METHODS]
    assert sorted(r[0] for r in rows) == sorted(METHODS)
    assert all(float(r[2]) > 0 and float(r[3]) > 0 for r in rows)  # s/step, tok/s


def test_without_a_gpu_the_full_run_says_use_tiny(capsys: pytest.CaptureFixture[str]) -> None:
    if torch.cuda.is_available():
        pytest.skip("a GPU is here")
    with pytest.raises(SystemExit):
        main([])
    assert "run with --tiny" in capsys.readouterr().err
