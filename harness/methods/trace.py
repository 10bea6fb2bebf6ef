"""The trace operator X = K·(e ⊙ x), for every kernel, in O(B·T).

    X[i,t] = Σ_j K(t,j) · e[i,j] · x[i,j]        (sum over valid j)

Kernels (a = γ·λ; positions are column indices, the completion starts at 0):

    identity  K(t,j) = [j = t]
    recent    K(t,j) = a^(t−j)                 for j ≤ t
    both      K(t,j) = max(a^(t−j), a^j)       for j ≤ t
    uniform   K(t,j) = 1/n_i                   for every valid j

The released GRPO-λ kernel (the authors' code, see `released_weights`) is
lower triangular with a unit diagonal and off-diagonal entries c_j that depend
on the column only, so K·v = v + (exclusive prefix sum of c ⊙ v): `prefix_trace`.

No T×T matrix is built. `recent` is a chunked scan: a C×C lower-triangular
Toeplitz matmul inside each chunk and a carry across chunks, the carries being
themselves a scan with decay a^C (recursively). Only powers a^k ≤ 1 appear,
so the scan is safe for any T and a ∈ [0, 1]. `both` splits each row at
m = ⌈t/2⌉ (one gather per row), `uniform` is a masked mean. The normalisers Z
are the same operators applied to the eligibility mask, the column sums W the
transposed operators; since K is linear, the gradient of K·v is Kᵀ·grad.
"""

from __future__ import annotations

import functools
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

CHUNK = 64
KERNELS = ("identity", "recent", "both", "uniform")
RELEASED_STYLES = ("recent", "both", "early")
RELEASED_FLOOR = 1e-7


def as_float(mask: Tensor, dtype: torch.dtype) -> Tensor:
    """A bool mask as 0./1. in `dtype` (through a uint8 view: several times faster than bool → float on CPU)."""
    return mask.view(torch.uint8).to(dtype)


def powers(a: float, n: int, like: Tensor) -> Tensor:
    """[a^0, a^1, …, a^(n−1)] in `like`'s dtype and device (0^0 = 1)."""
    exponents = torch.arange(n, dtype=torch.float64, device=like.device)
    return torch.tensor(a, dtype=torch.float64, device=like.device).pow(exponents).to(like.dtype)


def _scan(x: Tensor, a: float, reverse: bool) -> Tensor:
    """R_t = a·R_(t−1) + x_t along the last dim (reverse: R_t = a·R_(t+1) + x_t), chunked.

    Inside a chunk R = x·Lᵀ (reverse: x·L) with L[t,j] = a^(t−j) for j ≤ t.
    Across chunks R_t = local_t + a^(t+1)·R_end(previous chunk) (reverse:
    a^(C−t)·R_start(next chunk)), where the chunk ends obey the same
    recurrence with decay a^C.
    """
    T = x.shape[-1]
    C = max(1, min(T, CHUNK))
    n = -(-T // C)
    toeplitz, pw = _chunk_kernel(a, C, x.dtype, x.device)
    chunks = (F.pad(x, (0, n * C - T)) if n * C > T else x).unflatten(-1, (n, C))
    local = chunks @ (toeplitz if reverse else toeplitz.T)
    if n > 1:
        if reverse:
            starts = _scan(local[..., 0], a**C, reverse)
            local.addcmul_(F.pad(starts[..., 1:], (0, 1)).unsqueeze(-1), pw[1:].flip(0))
        else:
            ends = _scan(local[..., -1], a**C, reverse)
            local.addcmul_(F.pad(ends[..., :-1], (1, 0)).unsqueeze(-1), pw[1:])
    return local.flatten(-2)[..., :T]


@functools.lru_cache(maxsize=256)
def _chunk_kernel(a: float, C: int, dtype: torch.dtype, device: torch.device) -> tuple[Tensor, Tensor]:
    """(L, pw): L[t,j] = a^(t−j) for j ≤ t (C × C), pw = [a^0 … a^C]; made once per (a, C, dtype, device)."""
    with torch.inference_mode(False):  # cached tensors must be usable by later autograd graphs
        pw = powers(a, C + 1, torch.empty(0, dtype=dtype, device=device))
        lag = torch.arange(C, device=device)
        lag = lag[:, None] - lag[None, :]
        return torch.where(lag >= 0, pw[lag.clamp(min=0)], 0), pw


def _both(v: Tensor, a: float) -> Tensor:
    """Σ_(j≤t) max(a^(t−j), a^j)·v_j = R_t − a^(t−m+1)·R_(m−1) + P_(m−1), m = ⌈t/2⌉.

    R is the recent scan and P_k = Σ_(j≤k) a^j·v_j (R_(−1) = P_(−1) = 0):
    a^(t−j) wins for j ≥ m, a^j for j < m.
    """
    T = v.shape[-1]
    t = torch.arange(T, device=v.device)
    m = (t + 1) // 2
    before_m = (m - 1).clamp(min=0)
    pw = powers(a, T + 1, v)
    coef = pw[t - m + 1]
    coef[:1] = 0  # R_(−1) = 0
    out = _scan(v, a, reverse=False)
    prefix_m = (v * pw[:T]).cumsum_(-1).index_select(-1, before_m)
    prefix_m[..., :1] = 0  # P_(−1) = 0
    return out.addcmul_(out.index_select(-1, before_m), coef, value=-1).add_(prefix_m)


def _both_transposed(v: Tensor, a: float) -> Tensor:
    """Σ_(t≥j) max(a^(t−j), a^j)·v_t = S_j − a^(j+1)·S_(2j+1) + a^j·Q_(2j+1).

    S is the reverse recent scan and Q_k = Σ_(t≥k) v_t, both 0 for k ≥ T:
    a^(t−j) wins for t ≤ 2j, a^j for t > 2j.
    """
    T = v.shape[-1]
    half = T // 2  # the columns j with 2j + 1 < T
    even = 2 * torch.arange(half, device=v.device)
    pw = powers(a, half + 1, v)
    out = _scan(v, a, reverse=True)
    tail = v.sum(-1, keepdim=True) - v.cumsum(-1).index_select(-1, even)
    late = out.index_select(-1, even + 1)
    out[..., :half] += pw[:half] * tail - pw[1:] * late
    return out


def _causal(v: Tensor, kernel: str, a: float, transpose: bool) -> Tensor:
    """K·v (transpose: Kᵀ·v) for the recent and both kernels, without autograd."""
    if kernel == "recent":
        return _scan(v, a, reverse=transpose)
    return _both_transposed(v, a) if transpose else _both(v, a)


class _CausalKernel(torch.autograd.Function):
    """y = K·v for a fixed linear K, so ∂L/∂v = Kᵀ·∂L/∂y: nothing is saved for backward."""

    @staticmethod
    def forward(ctx: Any, v: Tensor, kernel: str, a: float, transpose: bool) -> Tensor:
        ctx.kernel, ctx.a, ctx.transpose = kernel, a, transpose
        return _causal(v, kernel, a, transpose)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None, None]:
        return _CausalKernel.apply(grad, ctx.kernel, ctx.a, not ctx.transpose), None, None, None


class _MaskedTokens(torch.autograd.Function):
    """v·m for a bool mask m, as a multiply by 0./1. and saving only the bool mask.

    On CPU, ``torch.where(m, v, 0)`` with a scattered mask (the entropy mask) is
    about 3× slower than this multiply (a mispredicted branch per token). v must be
    finite where m is false (a multiply keeps NaN/inf; the loss's x is finite there).
    """

    @staticmethod
    def forward(ctx: Any, v: Tensor, mask: Tensor) -> Tensor:
        ctx.save_for_backward(mask)
        return v * as_float(mask, v.dtype)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (mask,) = ctx.saved_tensors
        return grad * as_float(mask, grad.dtype), None


def mask_tokens(v: Tensor, mask: Tensor) -> Tensor:
    """v where the bool `mask` holds, 0 elsewhere; v must be finite off the mask (see _MaskedTokens)."""
    return _MaskedTokens.apply(v, mask)


def discounted_cumsum(x: Tensor, a: float, *, reverse: bool = False) -> Tensor:
    """R_t = Σ_(j≤t) a^(t−j)·x_j (reverse: Σ_(j≥t) a^(j−t)·x_j) along the last dim."""
    return _CausalKernel.apply(x, "recent", float(a), reverse)


def apply_kernel(v: Tensor, kernel: str, a: float, valid: Tensor, *, transpose: bool = False) -> Tensor:
    """(K·v)[t] = Σ_j K(t,j)·v_j, or (Kᵀ·v)[j] = Σ_t K(t,j)·v_t; v is zero off `valid`."""
    if kernel == "identity":
        return v
    if kernel == "uniform":
        n = valid.sum(-1, keepdim=True).clamp(min=1)
        return (v.sum(-1, keepdim=True) / n).expand_as(v)
    if kernel in ("recent", "both"):
        return _CausalKernel.apply(v, kernel, float(a), transpose)
    raise ValueError(f"kernel must be one of {', '.join(KERNELS)}; got {kernel!r}")


@torch.no_grad()
def inverse_normalizer(w: Tensor, kernel: str, a: float, valid: Tensor) -> Tensor:
    """1/Z[i,t] with Z[i,t] = Σ_j K(t,j)·w[i,j] (w: float weights); 0 where Z is 0
    or below the smallest normal number (so that X = 0 there)."""
    z = apply_kernel(w, kernel, a, valid)
    return torch.where(z > torch.finfo(z.dtype).tiny, z.reciprocal(), 0)


def trace(
    x: Tensor,
    valid: Tensor,
    kernel: str,
    a: float = 1.0,
    *,
    normalize: bool = False,
    eligible: Tensor | None = None,
) -> Tensor:
    """X[i,t] = Σ_j K(t,j)·e[i,j]·x[i,j] over valid j; with `normalize`, X / Z[i,t].

    Z[i,t] = Σ_j K(t,j)·e[i,j]; a row with Z = 0 gets X = 0. Differentiable in x.
    x, valid, eligible: [B, T] (valid and eligible bool); a = γ·λ ∈ [0, 1].
    Without `eligible`, x may hold anything off `valid`; with it, x must be finite everywhere
    (as `TokenBatch.x` is: the loss zeroes padding), since the mask is applied by a multiply.
    """
    if eligible is None:
        w, v = valid, torch.where(valid, x, 0)  # padding may hold anything
    else:
        w = eligible & valid
        v = mask_tokens(x, w)  # x is finite on valid tokens: the loss zeroes padding
    out = apply_kernel(v, kernel, a, valid)
    if normalize:
        out = out * inverse_normalizer(as_float(w, out.dtype), kernel, a, valid)
    return out


@torch.no_grad()
def column_sums(
    valid: Tensor,
    kernel: str,
    a: float = 1.0,
    *,
    normalize: bool = False,
    eligible: Tensor | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """W[i,j] = e[i,j]·Σ_(t valid) K(t,j) / Z[i,t] (Z ≡ 1 unless `normalize`), detached.

    W[i,j] is ∂(Σ_(t valid) X[i,t]) / ∂x[i,j]: the ε-weight that reproduces
    the trace's on-policy gradient with a per-token ratio.
    """
    w = as_float(valid if eligible is None else valid & eligible, dtype)
    rows = as_float(valid, dtype)
    if normalize:
        rows = rows * inverse_normalizer(w, kernel, a, valid)
    return apply_kernel(rows, kernel, a, valid, transpose=True) * w


@torch.no_grad()
def released_weights(valid: Tensor, style: str, a: float, n: int | Tensor, dtype: torch.dtype) -> Tensor:
    """c[j] = max(1e-7, w(j)): the entries K(t, j), j < t, of the released GRPO-λ kernel.

        recent  w(j) = a^(n − 1 − j)
        both    w(j) = max(a^(n − j), a^j)
        early   w(j) = a^j

    n: an int (the padded completion length, ≥ T: shape [1, T]) or a [B, 1]
    tensor of per-sequence lengths (shape [B, T], 0 from column n_i on).
    Powers are taken in float64, then cast to `dtype`.
    """
    if style not in RELEASED_STYLES:
        raise ValueError(f"style must be one of {', '.join(RELEASED_STYLES)}; got {style!r}")
    j = torch.arange(valid.shape[-1], dtype=torch.float64, device=valid.device)[None, :]
    n = torch.as_tensor(n, dtype=torch.float64, device=valid.device)
    base = torch.tensor(a, dtype=torch.float64, device=valid.device)
    if style == "recent":
        w = base.pow(n - 1 - j)
    elif style == "both":
        w = torch.maximum(base.pow(n - j), base.pow(j))
    else:
        w = base.pow(j)
    c = w.clamp(min=RELEASED_FLOOR)
    return torch.where(j < n, c, 0).to(dtype)  # a column at or past n has no row below it


def prefix_trace(v: Tensor, c: Tensor) -> Tensor:
    """Y_t = v_t + Σ_(j<t) c_j·v_j = Σ_(j≤t) c_j·v_j + (1 − c_t)·v_t: unit diagonal,
    column-only entries below it, in O(B·T) (one cumsum; autograd's backward is its reverse)."""
    return torch.addcmul((c * v).cumsum(-1), 1 - c, v)
