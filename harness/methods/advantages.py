"""Group-relative advantages from scalar rewards."""

from __future__ import annotations

import torch
from torch import Tensor

SCALES = ("group", "batch", "none")


def compute_advantages(
    rewards: Tensor,
    group_size: int,
    *,
    scale: str = "group",
    adv_clamp: float | None = None,
) -> Tensor:
    """A_i = (r_i − mean_group(r)) / (std(r) + 1e-6), then A ← max(A, adv_clamp).

    rewards: [N], the G = group_size samples of each prompt contiguous.
    scale: "group" (std of the group), "batch" (std of all N rewards) or
    "none" (no division, Dr.GRPO). std uses Bessel's correction.
    """
    if rewards.dim() != 1:
        raise ValueError(f"rewards must be 1-D [N], got shape {tuple(rewards.shape)}")
    if group_size < 2:
        raise ValueError(f"group_size must be >= 2 (a group std needs two samples), got {group_size}")
    if rewards.numel() % group_size:
        raise ValueError(f"len(rewards)={rewards.numel()} is not divisible by group_size={group_size}")
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}; got {scale!r}")
    r = rewards.to(torch.promote_types(rewards.dtype, torch.float32))
    groups = r.view(-1, group_size)
    centred = (groups - groups.mean(-1, keepdim=True)).flatten()
    if scale == "group":
        centred = centred / (groups.std(-1).repeat_interleave(group_size) + 1e-6)
    elif scale == "batch":
        centred = centred / (r.std() + 1e-6)
    return centred if adv_clamp is None else centred.clamp(min=adv_clamp)
