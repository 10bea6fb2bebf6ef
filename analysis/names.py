"""Display names and units: what a reader sees instead of config keys and run-dir names.

Everything the renderers, plots and the dashboard show goes through these
functions; the data frames keep the raw names (``grpo_lambda``, ``math500``,
``method.lam``), so code can index them. A name not listed is shown as is.

Units: pass@k and accuracies are shown in percent (points) everywhere: tables,
plots, deltas and the papers' reference numbers. Rewards keep their own scale.
"""

from __future__ import annotations

import re

METHODS: dict[str, str] = {
    "grpo": "GRPO",
    "grpo_lambda": "GRPO-λ",
    "gspo": "GSPO",
    "ptrace": "P-trace",
    "strace": "S-trace",
    # A preset, not a method: its runs record method.name=strace (S-trace at λ=0 with loss_mask), so
    # tables show them as S-trace, λ=0; this name is never looked up from a run's config. Kept
    # because tests/analysis/test_names.py asks for a name for every `method=` choice.
    "grpo_entropy_mask": "GRPO + entropy mask",
    "hapo": "HAPO",
    "cispo": "CISPO",
    "gmpo": "GMPO",
    "sapo": "SAPO",
}
BENCHMARKS: dict[str, str] = {
    "aime24": "AIME24",
    "aime25": "AIME25",
    "amc23": "AMC23",
    "math500": "MATH-500",
    "minerva": "Minerva",
    "olympiadbench": "OlympiadBench",
    "arith_test": "Arithmetic (test)",
    "arith_hard": "Arithmetic (hard)",
    "avg": "Avg.",
}
MODELS: dict[str, str] = {
    "tiny": "Tiny Qwen3 (toy)",
    "tiny-m": "Tiny-M Qwen3 (toy)",
    "qwen3-1.7b": "Qwen3-1.7B",
    "qwen3-4b": "Qwen3-4B",
    "qwen3-8b": "Qwen3-8B",
    "qwen2.5-math-1.5b": "Qwen2.5-Math-1.5B",
    "qwen2.5-7b": "Qwen2.5-7B",
    "deepseek-r1-distill-qwen-7b": "DeepSeek-R1-Distill-Qwen-7B",
}
#: Flattened config keys (analysis.variants) -> column/axis headings.
KEYS: dict[str, str] = {
    "model.name": "model",
    "method.name": "method",
    "task.name": "task",
    "trainer.seed": "seed",
    "method.lam": "λ",
    "method.gamma": "γ",
    "method.style": "trace style",
    "method.placement": "trace placement",
    "method.form": "trace form",
    "method.trace_length": "trace length",
    "method.entropy_quantile": "entropy quantile",
    "method.entropy_scope": "entropy scope",
    "method.clip_low": "clip ε_low",
    "method.clip_high": "clip ε_high",
    "method.dual_clip": "dual clip",
    "method.beta": "KL β",
    "method.loss_agg": "loss aggregation",
    "method.alpha": "capacity exponent α",
    "method.w_min": "weight floor",
    "method.w_max": "weight cap",
    "method.polarity": "reallocated sign",
    "method.tau_pos": "τ_pos",
    "method.tau_neg": "τ_neg",
    "trainer.lr": "learning rate",
    "trainer.group_size": "group size G",
    "trainer.prompts_per_step": "prompts per step",
    "trainer.steps": "RL steps",
}
#: (config key, value) -> how the value reads.
VALUES: dict[tuple[str, object], str] = {
    ("method.placement", "ratio"): "ε-trace",
    ("method.placement", "weight"): "ε-weight",
}
METRICS: dict[str, str] = {
    "train/reward_mean": "training reward",
    "train/accuracy": "training accuracy (%)",
    "train/tokens": "generated tokens",
    "train/prompts": "prompts",
    "train/response_length": "response length (tokens)",
    "train/entropy": "entropy",
    "train/kl": "KL",
    "train/clip_frac": "clipped fraction",
    "train/quadrant/pos_high": "A > 0, high entropy",
    "train/quadrant/pos_low": "A > 0, low entropy",
    "train/quadrant/neg_high": "A < 0, high entropy",
    "train/quadrant/neg_low": "A < 0, low entropy",
    "step": "step",
}
_PASS_AT_K = re.compile(r"^(?:eval/(?P<bench>[^/]+)/)?pass@(?P<k>\d+)$")


def method(name: object) -> str:
    return METHODS.get(str(name), str(name))


def benchmark(name: object) -> str:
    return BENCHMARKS.get(str(name), str(name))


def model(name: object) -> str:
    return MODELS.get(str(name), str(name))


def key(dotted: str) -> str:
    """A config key's heading: ``method.lam`` -> ``λ``; unlisted keys keep their dotted name."""
    return KEYS.get(dotted, dotted)


def number(value: float) -> str:
    """A config number as a person writes it: 0.9, 3e-06, 16."""
    return f"{value:g}"


def value(dotted: str, raw: object) -> str:
    """A config value as shown in a label or heading (method and model names, ε-trace, 0.9)."""
    if raw is None or raw == "" or (isinstance(raw, float) and raw != raw):
        return "—"
    if dotted == "method.name":
        return method(raw)
    if dotted == "model.name":
        return model(raw)
    if isinstance(raw, tuple):
        return "[" + ", ".join(value(dotted, v) for v in raw) + "]"
    if isinstance(raw, float):
        return VALUES.get((dotted, raw), number(raw))
    return VALUES.get((dotted, raw), str(raw))


def metric(name: str) -> str:
    """``eval/math500/pass@16`` -> ``MATH-500 pass@16 (%)``; ``train/reward_mean`` -> ``training
    reward``."""
    found = _PASS_AT_K.match(name)
    if found:
        bench = found["bench"]
        prefix = f"{benchmark(bench)} " if bench else ""
        return f"{prefix}pass@{found['k']} (%)"
    return METRICS.get(name, name)


def is_percent(name: str) -> bool:
    """Whether a metric is a fraction shown in percent (pass@k and accuracies)."""
    return bool(_PASS_AT_K.match(name)) or "accuracy" in name


def label(values: dict[str, object]) -> str:
    """A variant's label from its label keys: ``GRPO-λ (λ=0.9, trace placement=ε-weight)``.

    ``model.name`` is left out (plots and tables show the model on their own), and so are
    keys the variant does not have.
    """
    head = method(values["method.name"]) if "method.name" in values else ""
    rest = [
        f"{key(k)}={value(k, v)}"
        for k, v in values.items()
        if k not in ("method.name", "model.name") and value(k, v) != "—"
    ]
    if not rest:
        return head
    return f"{head} ({', '.join(rest)})" if head else ", ".join(rest)
