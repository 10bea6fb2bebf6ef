"""One training step through verl's loss path: a causal LM's log-probs and entropies, in verl's
no-padding layout, through ``ppo_loss`` (``harness_<method>``, the entropy hook on), then backward."""

from __future__ import annotations

import torch
from torch import Tensor

PROMPT_KEYS = ("prompts", "responses", "attention_mask", "response_mask", "old_log_probs", "advantages")


def _flat(per_position: Tensor, lengths: Tensor, P: int) -> Tensor:
    """verl's no-padding model output: each sequence's prompt + response positions, concatenated."""
    return torch.cat([row[: P + int(n)] for row, n in zip(per_position, lengths, strict=True)])


def ppo_step(
    policy: torch.nn.Module, mode: str, B: int, P: int, T: int, device: str, seed: int = 0
) -> tuple[float, float]:
    """Forward, verl's ppo_loss with loss mode `mode` (harness_<method>, or one of verl's), backward;
    the loss and the gradient's norm."""
    from tensordict import TensorDict
    from verl.utils import tensordict_utils as tu
    from verl.workers.config import FSDPActorConfig, PolicyLossConfig

    import harness.verl  # noqa: F401  (registers harness_<method>, as `import verl` does)
    from harness.verl.entropy import ppo_loss_with_entropy

    g = torch.Generator().manual_seed(seed)
    vocab = policy.config.vocab_size
    ids = torch.randint(0, vocab, (B, P + T), generator=g).to(device)
    lengths = torch.randint(T // 2, T + 1, (B,), generator=g)
    mask = (torch.arange(T)[None, :] < lengths[:, None]).to(device)
    attention = torch.cat([torch.ones(B, P, dtype=torch.long, device=device), mask.long()], dim=-1)
    logits = policy(input_ids=ids, attention_mask=attention).logits[:, :-1].float()
    logp_all = torch.log_softmax(logits, dim=-1)
    logp = logp_all.gather(-1, ids[:, 1:, None]).squeeze(-1)
    entropy = -(logp_all.exp() * logp_all).sum(-1)
    pad = logp.new_zeros(B, 1)
    logp, entropy = torch.cat([logp, pad], -1), torch.cat([entropy, pad], -1)
    old = (logp[:, P - 1 : P - 1 + T] + 0.05 * torch.randn(B, T, generator=g).to(device)).detach()
    adv = torch.randn(B, 1, generator=g).to(device).expand(B, T) * mask
    data = TensorDict(
        dict(zip(PROMPT_KEYS, (ids[:, :P], ids[:, P:], attention, mask.long(), old, adv), strict=True)),
        batch_size=[B],
    )
    tu.assign_non_tensor(data, dp_size=1, batch_num_tokens=None, global_batch_size=None)
    output = {"log_probs": _flat(logp, lengths, P), "entropy": _flat(entropy, lengths, P)}
    config = FSDPActorConfig(
        strategy="fsdp",
        rollout_n=1,
        ppo_micro_batch_size_per_gpu=B,
        loss_agg_mode="token-mean",
        policy_loss=PolicyLossConfig(loss_mode=mode),
    )
    loss, _ = ppo_loss_with_entropy(config, output, data)
    loss.backward()
    grads = [p.grad.norm() for p in policy.parameters() if p.grad is not None]
    norm = float(torch.stack(grads).norm())
    policy.zero_grad(set_to_none=True)
    return float(loss.detach()), norm
