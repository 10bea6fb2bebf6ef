"""``python -m analysis <sweep_dir...> --out <dir>``: every table and figure of the given sweeps.

Writes Markdown, LaTeX and CSV tables, PNG and PDF figures and an ``index.md``
(see :mod:`analysis.report`). Runs that cannot be read are listed as broken and
the rest is tabulated; problems are reported as one line each, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence

from analysis.load import AnalysisWarning, Sweep


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dirs", nargs="+", help="sweep or run directories (searched recursively)")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument(
        "--k",
        type=int,
        default=16,
        help="k of the pass@k tables and figures (default 16); the efficiency table and the "
        "training curves do not depend on it",
    )
    parser.add_argument(
        "--target",
        type=float,
        default=None,
        help="sample efficiency: the training-reward gain over each run's own start to reach "
        "(default: per model, half the largest gain a finished run of it reached)",
    )
    parser.add_argument(
        "--baseline",
        default="grpo",
        help="the variant every cell's paired Δ, P(X > baseline) and bold compare with: a method "
        "(default grpo) or method,key=value,... (e.g. grpo_lambda,method.lam=0)",
    )
    return parser


def _print_warning(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
    prefix = "warning" if issubclass(category, AnalysisWarning) else category.__name__
    print(f"{prefix}: {message}", file=sys.stderr)


def _notices(sweep: Sweep, dirs: list[str], k: int) -> list[str]:
    """What a user should know before reading the report (one line each)."""
    if sweep.runs.empty:
        return [f"no run directories (with run.json or config.yaml) under {', '.join(dirs)}"]
    notes = [f"note: ignored {d} (see the index)" for d in sweep.duplicates]
    samples = int(sweep.problems["n"].max()) if len(sweep.problems) else k
    if samples < k:
        notes.append(
            f"warning: the runs sampled at most {samples} completions per problem, "
            f"so pass@{k} is empty; try --k {samples}"
        )
    return notes


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    missing = [d for d in args.sweep_dirs if not os.path.isdir(d)]
    if missing:
        parser.error(f"not a directory: {', '.join(missing)}")
    from analysis.compare import Baseline

    try:
        Baseline.parse(args.baseline)
    except ValueError as err:
        parser.error(str(err))
    import matplotlib

    matplotlib.use("Agg")
    from analysis import load, report

    with warnings.catch_warnings():
        warnings.showwarning = _print_warning
        sweep = load.load_sweeps(args.sweep_dirs)
    for line in _notices(sweep, args.sweep_dirs, args.k):
        print(line, file=sys.stderr)
    print(report.write_all(sweep, args.out, k=args.k, target=args.target, baseline=args.baseline))
    return 0
