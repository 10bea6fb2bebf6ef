"""Draw one row of every GRPO-λ kernel, as the loss library computes it: docs/figures/grpo_lambda_kernels.png.

    .venv/bin/python docs/figures/grpo_lambda_kernels.py

Row t = 999 (the last token of a 1000-token response), λ = 0.99, γ = 1, and for
the released form n = 4096 (the padded completion length, `trace_length: max`).
K(t, j) = ∂X_t / ∂x_j is read off the library by autograd, so the picture is
what `policy_loss` computes, not a re-derivation.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from harness.methods import get_method_config  # noqa: E402
from harness.methods.grpo_lambda import grpo_lambda  # noqa: E402
from harness.methods.registry import TokenBatch  # noqa: E402

ROW, LAM, N = 999, 0.99, 4096
OUT = Path(__file__).with_suffix(".png")
KERNELS = [  # form, style, label, line style (wide translucent lines sit under the ones they equal here)
    ("released", "recent", "released recent: max(1e-7, a^(n−1−j))", {"lw": 2}),
    ("released", "both", "released both: max(1e-7, a^(n−j), a^j) (= early here: a^(n−j) < 1e-7)",
     {"lw": 7, "alpha": 0.35}),
    ("released", "early", "released early: max(1e-7, a^j)", {"lw": 1.5}),
    ("lag", "both", "lag both: max(a^(t−j), a^j)", {"lw": 7, "alpha": 0.35, "ls": "--"}),
    ("lag", "recent", "lag recent (the paper's Theorem 1): a^(t−j)", {"lw": 1.5, "ls": ":"}),
]


def kernel_row(form: str, style: str) -> torch.Tensor:
    """K(ROW, j) for j = 0 … ROW: the gradient of X[ROW] with respect to x."""
    T = ROW + 1
    x = torch.zeros(1, T, dtype=torch.float64, requires_grad=True)
    valid = torch.ones(1, T, dtype=torch.bool)
    cfg = get_method_config("grpo_lambda", form=form, style=style, lam=LAM)
    traced = grpo_lambda(TokenBatch(x, valid, x, max_len=N), cfg)
    (row,) = torch.autograd.grad(traced.log_ratio[0, ROW], x)
    return row[0]


def main() -> None:
    fig, ax = plt.subplots(figsize=(8, 5.5))
    j = torch.arange(ROW + 1)
    for form, style, label, line in KERNELS:
        ax.plot(j, kernel_row(form, style), label=label, **line)
    ax.set_yscale("log")
    ax.set_ylim(5e-8, 2)
    ax.set_xlabel("earlier token j (row t = 999: the last token of a 1000-token response)")
    ax.set_ylabel("K(t, j): weight of x_j in X_t")
    ax.set_title(f"GRPO-λ kernels, λ = {LAM}, γ = 1; released form with n = {N}")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=1)
    fig.tight_layout()
    fig.savefig(OUT, dpi=120)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
