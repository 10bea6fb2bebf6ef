"""The TRL adapter: ``GRPOTrainer`` with the loss and advantages of ``harness.methods``.

TRL does generation (transformers ``generate`` or vLLM), reward calls, reference
and old log-probs, multi-GPU, checkpoints and logging. This subclass replaces:

* the advantages: recomputed from TRL's gathered rewards with
  :func:`harness.methods.compute_advantages` (the spec's estimator);
* the loss: :func:`harness.methods.policy_loss` on TRL's per-token log-probs,
  entropies, old and reference log-probs, with global token/sequence counts so
  that gradient accumulation sums micro-batch losses to the one-batch loss;

Every TRL hook overridden or private method called here is listed in ``harness.training.hooks``
(a test checks them against the installed TRL). It adds: the method's metrics (``method/*``, mean over processes) and the mean
entropy in TRL's log; cumulative completion tokens and prompts (``harness/tokens``,
``harness/prompts``: the x-axes of sample-efficiency plots); a clear error on a
non-finite loss; atomic checkpoints (``harness.run.checkpoints``).
"""

from __future__ import annotations

from typing import Any, cast

import torch
from trl import GRPOConfig, GRPOTrainer

from harness.methods import compute_advantages, policy_loss
from harness.run.checkpoints import AtomicCheckpoints


class NonFiniteLossError(FloatingPointError):
    """The policy loss became inf/NaN: the run stops, its last good checkpoint stays."""


class HarnessGRPOTrainer(AtomicCheckpoints, GRPOTrainer):
    """``GRPOTrainer`` whose loss is one of ``harness.methods``; ``method`` is its dataclass.
    Checkpoints appear only once complete (``harness.run.checkpoints.AtomicCheckpoints``)."""

    def __init__(self, *args: Any, method: Any, scale_rewards: str = "group", **kwargs: Any) -> None:
        self.method = method
        self.harness_scale = scale_rewards
        self.tokens_seen = 0.0  # cumulative completion tokens (all processes)
        self.prompts_seen = 0.0  # cumulative prompts (all processes)
        self._rewards: torch.Tensor | None = None
        super().__init__(*args, **kwargs)

    @property
    def _training(self) -> bool:
        """Inside ``train()`` (TRL switches the model to eval mode for its evaluation loop)."""
        return self.model is not None and self.model.training

    # -- advantages -----------------------------------------------------------------------
    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        self._rewards = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        return self._rewards

    def _generate_and_score_completions(self, inputs):
        out = super()._generate_and_score_completions(inputs)
        training = self._training
        group = self.num_generations if training else (self.num_generations_eval or self.num_generations)
        assert group is not None  # GRPOConfig sets it
        assert self._rewards is not None  # set by _calculate_rewards
        weights = self.reward_weights.to(self._rewards.device)
        rewards = torch.nan_to_num((self._rewards * weights).nansum(dim=1))
        advantages = compute_advantages(rewards, group, scale=self.harness_scale)
        n = out["completion_ids"].size(0)
        rank = self.accelerator.process_index
        out["advantages"] = advantages[rank * n : (rank + 1) * n].to(out["completion_ids"].device)
        if training:
            self.tokens_seen += self.accelerator.gather(out["completion_mask"].sum()).sum().item()
            self.prompts_seen += rewards.numel() / group
        return out

    # -- loss -----------------------------------------------------------------------------
    def _accumulation_counts(self, inputs: dict[str, Any], batch: int) -> dict[str, Any]:
        """Per-process token and sequence counts of one optimizer step's accumulation window."""
        if not self._training:
            return {
                "n_seqs": batch,
                "n_tokens": inputs["num_items_in_batch"] / self.accelerator.num_processes,
            }
        gas = self.current_gradient_accumulation_steps
        per_generation = cast(GRPOConfig, self.args).steps_per_generation
        assert per_generation is not None  # GRPOConfig.__post_init__ sets it
        window = gas / per_generation
        return {
            "n_seqs": batch * gas,
            "n_tokens": inputs["num_items_in_batch"] / self.accelerator.num_processes * window,
        }

    def _compute_loss(self, model, inputs):
        prompt_ids, completion_ids = inputs["prompt_ids"], inputs["completion_ids"]
        mask = inputs["completion_mask"]
        if "tool_mask" in inputs:
            mask = mask * inputs["tool_mask"]
        input_ids = torch.cat([prompt_ids, completion_ids], dim=1)
        attention_mask = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], dim=1)
        logp, entropy, _ = self._get_per_token_logps_and_entropies(
            model, input_ids, attention_mask, completion_ids.size(1), compute_entropy=True
        )
        old = inputs.get("old_per_token_logps")
        loss, metrics = policy_loss(
            self.method,
            logp,
            logp.detach() if old is None else old,
            inputs["advantages"],
            mask,
            entropy=entropy,
            ref_logp=inputs.get("ref_per_token_logps"),
            max_len=self.max_completion_length,
            **self._accumulation_counts(inputs, completion_ids.size(0)),
        )
        if not torch.isfinite(loss):
            raise NonFiniteLossError(
                f"non-finite loss ({loss.item()}) at step {self.state.global_step} with method "
                f"{self.method.name}; the last good checkpoint is kept"
            )
        self._log_method_metrics(metrics, entropy, mask)
        return loss

    def _log_method_metrics(
        self, metrics: dict[str, float], entropy: torch.Tensor, mask: torch.Tensor
    ) -> None:
        mode = "train" if self._training else "eval"
        values = torch.tensor(list(metrics.values()), device=mask.device, dtype=torch.float32)
        values = self.accelerator.gather(values[None]).mean(0).tolist()
        for key, value in zip(metrics, values, strict=True):
            self._metrics[mode][f"method/{key}"].append(value)
        ent = torch.stack([(entropy * mask).sum(), mask.sum()]).float()
        ent = self.accelerator.reduce(ent, reduction="sum")
        self._metrics[mode]["entropy"].append((ent[0] / ent[1].clamp(min=1)).item())

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if self._training and "loss" in logs:
            logs = {**logs, "harness/tokens": self.tokens_seen, "harness/prompts": self.prompts_seen}
        super().log(logs, start_time)
