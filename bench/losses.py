"""Benchmark the policy losses: time and memory of forward+backward, against GRPO
and against the dense T×T trace.

    .venv/bin/python -m bench.losses [--device cuda] [--dtype bfloat16] [--quick]

Time: median over interleaved repeats of one policy_loss forward+backward
(CPU: the thread's CPU time, robust to other processes on a shared machine;
CUDA: wall time between synchronisations). On CPU, glibc's malloc is told to
keep freed memory (mallopt) so that, as under CUDA's caching allocator, a
fresh [B, T] tensor does not cost a page fault per 4 KiB: without it the
ratios mostly count allocations. Memory: on CPU, the bytes of the distinct
tensor storages autograd saves for backward (the activation memory the loss
adds; inputs excluded); on CUDA, the peak allocated above the inputs.

Rows: every registered method at its defaults (`grpo_lambda` = the released
form), plus `grpo_lambda[lag]` (the paper's lag form, same style and λ) and
`grpo[no quadrants]` (GRPO without `entropy`, so without the Four Quadrant
metrics' extra backward of the loss: the row that prices them).
The dense table is what the GRPO-λ authors' released code does: build the
[T, T] kernel matrix on every call and matmul; it is compared with the fast
released `grpo_lambda` (style "both", λ = 0.99, n = T) on the same tensors.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import statistics
import time
from collections.abc import Callable

import torch
from torch import Tensor

from harness.methods import METHODS, get_method_config, policy_loss
from harness.methods.surrogate import aggregate, clipped_surrogate
from harness.methods.trace import released_weights

Step = Callable[[], Tensor]
VARIANTS: dict[str, tuple[str, dict[str, object]]] = {
    **{name: (name, {}) for name in METHODS},
    "grpo_lambda[lag]": ("grpo_lambda", {"form": "lag"}),
    "grpo[no quadrants]": ("grpo", {"entropy": None}),
}


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to reuse freed memory instead of returning it (no page fault per fresh tensor)."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    mallopt = ctypes.CDLL(libc_name).mallopt
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    huge = 1 << 30
    return all(mallopt(option, huge) == 1 for option in (m_trim_threshold, m_top_pad, m_mmap_threshold))


def make_inputs(B: int, T: int, device: str, dtype: torch.dtype, seed: int = 0) -> dict[str, Tensor]:
    """Random policy-loss inputs, right-padded to T with lengths in [T/2, T]."""
    g = torch.Generator().manual_seed(seed)
    logp = -torch.rand(B, T, generator=g) * 3
    lengths = torch.randint(T // 2, T + 1, (B, 1), generator=g)
    inputs = {
        "logp": logp,
        "old_logp": logp + 0.05 * torch.randn(B, T, generator=g),
        "advantages": torch.randn(B, generator=g),
        "mask": (torch.arange(T)[None, :] < lengths).float(),
        "entropy": torch.rand(B, T, generator=g) * 2,
    }
    inputs = {
        k: v.to(device=device, dtype=dtype if k != "mask" else torch.float32) for k, v in inputs.items()
    }
    inputs["logp"].requires_grad_()
    return inputs


def method_step(variant: str, inputs: dict[str, Tensor]) -> Step:
    """One forward+backward of a variant's loss (a method at its defaults, or with VARIANTS' params)."""
    name, params = VARIANTS[variant]

    def step() -> Tensor:
        inputs["logp"].grad = None
        loss, _ = policy_loss(name, **{**inputs, **params})
        loss.backward()
        return loss

    return step


def dense_released_kernel(T: int, a: float, device: str, dtype: torch.dtype) -> Tensor:
    """The authors' [T, T] matrix for style "both", n = T: 1 on the diagonal, c_j below it."""
    c = released_weights(torch.ones(1, T, dtype=torch.bool, device=device), "both", a, T, dtype)
    return torch.tril(c.expand(T, T), diagonal=-1) + torch.eye(T, device=device, dtype=dtype)


def dense_step(inputs: dict[str, Tensor], lam: float = 0.99) -> Step:
    """grpo_lambda's default (released) loss with X = x·Kᵀ from a freshly built dense K."""
    cfg = get_method_config("grpo_lambda", lam=lam)

    def step() -> Tensor:
        logp, mask = inputs["logp"], inputs["mask"]
        logp.grad = None
        valid = mask.bool()
        x = torch.where(valid, logp.float() - inputs["old_logp"].float(), 0)
        X = x @ dense_released_kernel(x.shape[-1], lam, x.device, x.dtype).T
        adv = inputs["advantages"].float().clamp(min=cfg.adv_clamp)
        per_token, _ = clipped_surrogate(X, adv, cfg.clip_low, cfg.clip_high)
        loss = aggregate(per_token, valid, cfg.loss_agg)
        loss.backward()
        return loss

    return step


def saved_bytes(step: Step) -> int:
    """Bytes of the distinct storages autograd saves for backward during `step`."""
    storages: dict[int, int] = {}

    def pack(t: Tensor) -> Tensor:
        storage = t.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        step()
    return sum(storages.values())


def peak_bytes(step: Step, device: str) -> int:
    """CPU: bytes saved for backward; CUDA: peak allocated above what was allocated before."""
    if device == "cpu":
        return saved_bytes(step)
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    step()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - before


def one_time(step: Step, device: str) -> float:
    """Seconds of one call (CPU: thread CPU time; CUDA: synchronised wall time)."""
    if device == "cpu":
        start = time.thread_time()
        step()
        return time.thread_time() - start
    torch.cuda.synchronize()
    start = time.perf_counter()
    step()
    torch.cuda.synchronize()
    return time.perf_counter() - start


def median_times(steps: dict[str, Step], device: str, repeats: int) -> dict[str, float]:
    """Median seconds per step, the steps interleaved so that drift hits them alike."""
    for _ in range(3):  # warm up: allocations of a new size, lazily built kernels
        for step in steps.values():
            step()
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            samples[name].append(one_time(step, device))
    return {name: statistics.median(times) for name, times in samples.items()}


def methods_table(B: int, Ts: list[int], device: str, dtype: torch.dtype, repeats: int) -> None:
    """Every method against GRPO: time and memory ratios at each T."""
    print(f"\n## methods vs GRPO, B = {B}")
    print(f"{'method':<19} {'T':>6} {'ms':>9} {'×grpo':>7} {'MiB':>9} {'×grpo':>7}")
    for T in Ts:
        inputs = make_inputs(B, T, device, dtype)
        steps = {variant: method_step(variant, inputs) for variant in VARIANTS}
        times = median_times(steps, device, repeats)
        memory = {name: peak_bytes(step, device) for name, step in steps.items()}
        for name in steps:
            print(
                f"{name:<19} {T:>6} {times[name] * 1e3:>9.2f} {times[name] / times['grpo']:>7.2f} "
                f"{memory[name] / 2**20:>9.2f} {memory[name] / memory['grpo']:>7.2f}"
            )


def dense_table(B: int, Ts: list[int], device: str, dtype: torch.dtype, repeats: int) -> None:
    """Dense T×T grpo_lambda against the O(B·T) scan on the same tensors."""
    print(
        f"\n## dense T×T (the authors' released code) vs fast prefix sum (grpo_lambda, both, λ = 0.99), B = {B}"
    )
    print(f"{'T':>6} {'dense ms':>10} {'fast ms':>9} {'speedup':>8} {'dense MiB':>10} {'fast MiB':>9}")
    for T in Ts:
        inputs = make_inputs(B, T, device, dtype)
        steps = {"dense": dense_step(inputs), "fast": method_step("grpo_lambda", inputs)}
        torch.testing.assert_close(steps["dense"]().float(), steps["fast"]().float(), rtol=1e-3, atol=1e-4)
        times = median_times(steps, device, repeats)
        memory = {name: peak_bytes(step, device) for name, step in steps.items()}
        print(
            f"{T:>6} {times['dense'] * 1e3:>10.1f} {times['fast'] * 1e3:>9.2f} {times['dense'] / times['fast']:>7.0f}× "
            f"{memory['dense'] / 2**20:>10.1f} {memory['fast'] / 2**20:>9.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    parser.add_argument(
        "--threads", type=int, default=1, help="CPU threads (default 1: stable on a shared box)"
    )
    args = parser.parse_args()
    dtype = getattr(torch, args.dtype)
    if args.device == "cpu":
        torch.set_num_threads(args.threads)
        if not keep_freed_memory():
            print("# note: mallopt unavailable; CPU times include a page fault per fresh tensor")
    if args.quick:
        sizes, dense_sizes, B, dense_B, repeats = [256, 1024], [256, 1024], 16, 4, 3
    else:
        sizes, dense_sizes, B, dense_B, repeats = [1024, 4096, 16384], [1024, 2048, 4096, 8192], 64, 8, 21
    threads = f", {torch.get_num_threads()} thread(s)" if args.device == "cpu" else ""
    timing = "thread CPU time" if args.device == "cpu" else "synchronised wall time"
    memory = "bytes saved for backward" if args.device == "cpu" else "peak allocated above the inputs"
    print(f"# bench.losses: device={args.device}{threads}, inputs {args.dtype} (losses computed in float32)")
    print(f"# time: median of {repeats} forward+backward ({timing}); memory: {memory}")
    methods_table(B, sizes, args.device, dtype, repeats)
    dense_table(dense_B, dense_sizes, args.device, dtype, max(3, repeats // 2))


if __name__ == "__main__":
    main()
