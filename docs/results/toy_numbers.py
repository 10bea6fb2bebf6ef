"""Numbers of docs/results/toy.md that `python -m analysis` does not print.

Prints the results note's tables as Markdown: the 5-method table of toy_main alone
(3 seeds per cell) with held-out pass@k before/after RL, paired per-seed deltas vs
GRPO with their std and range (the CLI's "Δ avg vs GRPO" is only their mean), the
evaluation noise of a paired delta, GRPO-λ form × λ (toy_lambda) beside GRPO seed 0,
and wall times from run.json. It reads the run dirs only
(eval/step-N/records.parquet, metrics.jsonl, run.json, config.yaml) and uses the
harness's own unbiased pass@k estimator, so its pass@k equal the CLI's.

    cd <repo> && PYTHONPATH=. .venv/bin/python docs/results/toy_numbers.py \
        /path/to/multirun/toy_main /path/to/multirun/toy_lambda
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import yaml

from harness.eval.passk import pass_at_k

METHODS = {
    "grpo": "GRPO",
    "grpo_lambda": "GRPO-λ",
    "gspo": "GSPO",
    "ptrace": "P-trace",
    "strace": "S-trace",
}
KS = (1, 16)


def passk(run: Path, step: int) -> dict[str, float]:
    rec = pq.read_table(run / "eval" / f"step-{step}" / "records.parquet", columns=["n", "c"])
    n, c = rec.column("n").to_numpy(), rec.column("c").to_numpy()
    return {f"pass@{k}": 100.0 * float(np.mean(pass_at_k(n, c, k))) for k in KS}


def rates(run: Path) -> pd.Series:
    """Per-problem pass@1 (c/n, in %) at the run's last evaluation, by problem id."""
    last = max((run / "eval").glob("step-*"), key=lambda p: int(p.name.split("-")[1]))
    rec = pq.read_table(last / "records.parquet", columns=["problem_id", "n", "c"]).to_pandas()
    return (100.0 * rec["c"] / rec["n"]).set_axis(rec["problem_id"]).sort_index()


def read(run: Path) -> dict:
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    info = json.loads((run / "run.json").read_text())
    steps = sorted(int(p.name.split("-")[1]) for p in (run / "eval").glob("step-*"))
    first, last = steps[0], steps[-1]
    rl_wall = max(
        (r.get("time/wall", 0.0) for r in map(json.loads, (run / "metrics.jsonl").open())),
        default=float("nan"),
    )
    t0 = datetime.fromisoformat(info["started"])
    t1 = datetime.fromisoformat(info["finished"])
    row = {
        "sweep": run.parent.name,
        "dir": run.name,
        "name": info["name"],
        "status": info["status"],
        "method": cfg["method"]["name"],
        "form": cfg["method"].get("form", ""),
        "lam": cfg["method"].get("lam", np.nan),
        "seed": cfg["trainer"]["seed"],
        "started": t0,
        "finished": t1,
        "wall_min": (t1 - t0).total_seconds() / 60,
        "rl_min": rl_wall / 60,
        "eval_steps": (first, last),
    }
    row.update({f"before {k}": v for k, v in passk(run, first).items()})
    row.update({f"after {k}": v for k, v in passk(run, last).items()})
    return row


def ms(x: pd.Series, digits: int = 1, sign: bool = False) -> str:
    x = x.dropna()
    mean = f"{x.mean():{'+' if sign else ''}.{digits}f}"
    return mean if len(x) < 2 else f"{mean} ± {x.std(ddof=1):.{digits}f}"


def md(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(frame.columns) + " |"
    sep = "|" + "|".join("---" if i == 0 else "---:" for i in range(len(frame.columns))) + "|"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, sep, *body])


def main(main_dir: str, lambda_dir: str) -> None:
    runs = pd.DataFrame(
        [read(p.parent) for d in (main_dir, lambda_dir) for p in sorted(Path(d).glob("*/run.json"))]
    )
    assert (runs["status"] == "finished").all(), runs.loc[runs["status"] != "finished", "dir"]
    main = runs[runs["sweep"] == Path(main_dir).name]
    lam = runs[runs["sweep"] == Path(lambda_dir).name]

    print("## toy_main: held-out pass@k after RL, mean ± std (ddof=1) over seeds\n")
    rows = []
    for m, g in main.groupby("method", sort=False):
        rows.append(
            {
                "method": METHODS[m],
                "seeds": len(g),
                "pass@16 (%)": ms(g["after pass@16"]),
                "pass@1 (%)": ms(g["after pass@1"]),
                "pass@16 before RL (%)": ms(g["before pass@16"]),
                "pass@1 before RL (%)": ms(g["before pass@1"]),
                "Δ pass@16 after − before": ms(g["after pass@16"] - g["before pass@16"], sign=True),
                "Δ pass@1 after − before": ms(g["after pass@1"] - g["before pass@1"], sign=True),
            }
        )
    print(md(pd.DataFrame(rows)), "\n")

    print("## per-seed held-out pass@1 before → after (%)\n")
    rows = []
    for m, g in main.groupby("method", sort=False):
        row = {"method": METHODS[m]}
        for _, r in g.sort_values("seed").iterrows():
            row[f"seed {r['seed']}"] = f"{r['before pass@1']:.1f} → {r['after pass@1']:.1f}"
        rows.append(row)
    print(md(pd.DataFrame(rows)), "\n")

    print("## paired deltas vs GRPO, same seed (points)\n")
    base = main[main["method"] == "grpo"].set_index("seed")
    rows = []
    for m, g in main.groupby("method", sort=False):
        if m == "grpo":
            continue
        g = g.set_index("seed").sort_index()
        row = {"method": METHODS[m]}
        for k in ("pass@16", "pass@1"):
            d = g[f"after {k}"] - base.loc[g.index, f"after {k}"]
            per_seed = ", ".join(f"{v:+.1f}" for v in d)
            row[f"Δ {k} per seed (0, 1, 2)"] = per_seed
            row[f"Δ {k} mean ± std"] = (
                f"{d.mean():+.1f} ± {d.std(ddof=1):.1f} [{d.min():+.1f}, {d.max():+.1f}]"
            )
        rows.append(row)
    print(md(pd.DataFrame(rows)), "\n")
    se = []  # evaluation noise of one paired difference: SE over the 300 held-out problems
    for _, r in main[main["method"] != "grpo"].iterrows():
        d = rates(Path(main_dir) / r["dir"]) - rates(Path(main_dir) / base.loc[r["seed"], "dir"])
        se.append(d.std(ddof=1) / np.sqrt(len(d)))
    print(
        f"eval noise: SE of one run's paired pass@1 difference vs GRPO over the problems "
        f"{min(se):.2f}–{max(se):.2f} points (median {np.median(se):.2f})\n"
    )
    seed_sd = main.groupby("method")["after pass@1"].std(ddof=1)
    print(
        "seed std of pass@1 within a method: "
        + ", ".join(f"{METHODS[m]} {v:.1f}" for m, v in seed_sd.items()),
        "\n",
    )

    print("## toy_lambda: GRPO-λ form × λ, seed 0 (one run per cell)\n")
    g0 = base.loc[0]
    rows = [
        {
            "variant": "GRPO (toy_main, seed 0), reference",
            "λ": "—",
            "pass@1 before (%)": f"{g0['before pass@1']:.1f}",
            "pass@1 after (%)": f"{g0['after pass@1']:.1f}",
            "Δ pass@1": f"{g0['after pass@1'] - g0['before pass@1']:+.1f}",
            "pass@16 before (%)": f"{g0['before pass@16']:.1f}",
            "pass@16 after (%)": f"{g0['after pass@16']:.1f}",
        }
    ]
    for _, r in lam.sort_values(["lam", "form"], ascending=[True, False]).iterrows():
        rows.append(
            {
                "variant": f"GRPO-λ {r['form']}",
                "λ": f"{r['lam']:g}",
                "pass@1 before (%)": f"{r['before pass@1']:.1f}",
                "pass@1 after (%)": f"{r['after pass@1']:.1f}",
                "Δ pass@1": f"{r['after pass@1'] - r['before pass@1']:+.1f}",
                "pass@16 before (%)": f"{r['before pass@16']:.1f}",
                "pass@16 after (%)": f"{r['after pass@16']:.1f}",
            }
        )
    print(md(pd.DataFrame(rows)), "\n")

    # the same config as toy_main's GRPO-λ seed 0?
    dup = main[(main["method"] == "grpo_lambda") & (main["seed"] == 0)].iloc[0]
    twin = lam[(lam["form"] == "released") & (lam["lam"] == 0.99)].iloc[0]
    same_cfg = (Path(main_dir) / dup["dir"] / "config.yaml").read_text() == (
        Path(lambda_dir) / twin["dir"] / "config.yaml"
    ).read_text()
    print(
        f"toy_lambda released λ=0.99 vs toy_main GRPO-λ seed 0: same config.yaml: {same_cfg}; "
        f"pass@1 after {twin['after pass@1']:.4f} vs {dup['after pass@1']:.4f}\n"
    )

    print("## wall times (run.json finished − started, minutes; RL loop = metrics time/wall)\n")
    rows = []
    for _, r in runs.sort_values("started").iterrows():
        rows.append(
            {
                "sweep": r["sweep"],
                "run (run.json name)": r["name"],
                "form": r["form"] if r["sweep"] == Path(lambda_dir).name else "",
                "started": r["started"].strftime("%H:%M:%S"),
                "wall (min)": f"{r['wall_min']:.1f}",
                "RL loop (min)": f"{r['rl_min']:.1f}",
            }
        )
    print(md(pd.DataFrame(rows)), "\n")
    for name, g in (("toy_main", main), ("toy_lambda", lam), ("all", runs)):
        span = (g["finished"].max() - g["started"].min()).total_seconds() / 60
        print(
            f"{name}: {len(g)} runs, sum of run walls {g['wall_min'].sum():.1f} min, "
            f"first start → last finish {span:.1f} min, per run min/median/max "
            f"{g['wall_min'].min():.1f}/{g['wall_min'].median():.1f}/{g['wall_min'].max():.1f} min"
        )
    by_method = main.groupby("method")["wall_min"].agg(["mean", "min", "max"])
    print("toy_main per method wall (min):", by_method.round(1).to_dict("index"))


if __name__ == "__main__":
    main(*sys.argv[1:3])
