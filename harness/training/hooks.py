"""Every TRL / transformers hook the adapter overrides or calls that is not public API, in one place.

A TRL upgrade breaks the harness here first: ``tests/train/test_trl_hooks.py`` checks that each name
still exists on ``trl.GRPOTrainer`` / ``transformers.Trainer`` and that the adapter overrides
exactly the names listed, so a rename fails one test that names the hook, not a training run.
"""

from __future__ import annotations

#: ``trl.GRPOTrainer`` methods ``HarnessGRPOTrainer`` (``harness.training.engine``) overrides.
GRPO_OVERRIDES: dict[str, str] = {
    "_calculate_rewards": "keeps the gathered rewards for the method's advantages",
    "_generate_and_score_completions": "replaces TRL's advantages with harness.methods'",
    "_compute_loss": "the method's policy loss on TRL's per-token log-probs",
    "log": "adds cumulative tokens and prompts to each training log",
}
#: Private ``trl.GRPOTrainer`` methods the adapter calls.
GRPO_CALLS: dict[str, str] = {
    "_get_per_token_logps_and_entropies": "per-token log-probs and entropies of a batch",
}
#: ``transformers.Trainer`` methods ``AtomicCheckpoints`` (``harness.run.checkpoints``) overrides.
TRAINER_OVERRIDES: dict[str, str] = {
    "_get_output_dir": "points a checkpoint's files at the staging dir",
    "_save_checkpoint": "writes into staging, then renames into place",
}
