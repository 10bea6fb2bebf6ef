"""Inputs for verl's real loss path (``ppo_loss``): a padded batch in verl's TensorDict layout."""

from __future__ import annotations

from typing import Any

import torch
from tensordict import TensorDict
from torch import Tensor
from verl.utils import tensordict_utils as tu
from verl.workers.config import FSDPActorConfig, PolicyLossConfig

PROMPT_LEN = 3
AGG_MODES = ("token-mean", "seq-mean-token-mean", "seq-mean-token-sum", "seq-mean-token-sum-norm")


def actor_config(loss_mode: str, agg: str, policy_loss: Any = None, **knobs: Any) -> FSDPActorConfig:
    """verl's actor config (the dataclass its engine worker builds) for one loss mode."""
    pl = policy_loss if policy_loss is not None else PolicyLossConfig(loss_mode=loss_mode)
    return FSDPActorConfig(
        strategy="fsdp",
        rollout_n=1,
        ppo_micro_batch_size_per_gpu=1,
        loss_agg_mode=agg,
        policy_loss=pl,
        **knobs,
    )


def random_batch(B: int = 8, T: int = 12, *, scale: float = 0.3, seed: int = 0) -> dict[str, Tensor]:
    """Right-padded responses of random lengths; one advantage per sequence, both signs; ratios
    spread by `scale` (with a few far above 1 at negative advantages, where dual clip acts)."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(2, T + 1, (B,), generator=g)
    lengths[0] = T
    mask = torch.arange(T)[None, :] < lengths[:, None]
    old = -torch.rand(B, T, generator=g, dtype=torch.float64) * 3
    logp = old + scale * torch.randn(B, T, generator=g, dtype=torch.float64)
    adv = torch.randn(B, generator=g, dtype=torch.float64)
    adv[1] = -abs(adv[1])
    logp[1, :2] = old[1, :2] + 1.5  # ρ ≈ 4.5 > clip_ratio_c = 3 with A < 0
    entropy = torch.rand(B, T, generator=g, dtype=torch.float64) * 2
    return {
        "logp": logp,
        "old": old,
        "adv": adv[:, None].expand(B, T) * mask,
        "mask": mask,
        "entropy": entropy,
    }


def _flat(per_token: Tensor, lengths: Tensor) -> Tensor:
    """verl's no-padding model output: per sequence, prompt then response, shifted left by one."""
    pieces = []
    for row, n in zip(per_token, lengths.tolist(), strict=True):
        zeros = row.new_zeros(PROMPT_LEN - 1)
        pieces += [zeros, row[:n], row.new_zeros(1)]
    return torch.cat(pieces)


def ppo_inputs(
    batch: dict[str, Tensor], logp: Tensor, rows: slice, *, dp_size: int = 1, global_info: bool = False
) -> tuple[dict[str, Tensor], TensorDict]:
    """(model_output, data) of verl's ``ppo_loss`` for `rows` of `batch`, with `logp` as the policy's
    log-probs; `global_info` sets the whole batch's token and sequence counts (as verl's engine does)."""
    mask = batch["mask"][rows]
    B, T = mask.shape
    lengths = mask.sum(-1)
    attention = torch.cat([torch.ones(B, PROMPT_LEN, dtype=torch.long), mask.long()], dim=-1)
    data = TensorDict(
        {
            "prompts": torch.ones(B, PROMPT_LEN, dtype=torch.long),
            "responses": torch.ones(B, T, dtype=torch.long),
            "attention_mask": attention,
            "response_mask": mask.long(),
            "old_log_probs": batch["old"][rows],
            "advantages": batch["adv"][rows],
        },
        batch_size=[B],
    )
    full = batch["mask"]
    tu.assign_non_tensor(
        data,
        dp_size=dp_size,
        batch_num_tokens=int(full.sum()) if global_info else None,
        global_batch_size=int(full.shape[0]) if global_info else None,
    )
    output = {"log_probs": _flat(logp[rows], lengths), "entropy": _flat(batch["entropy"][rows], lengths)}
    return output, data
