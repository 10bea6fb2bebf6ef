"""The run directory's lifecycle: its files and metrics log, the lock, identity and resume, names,
checkpoint validation, fault injection and the W&B mirror. Nothing here knows the config schema;
the one seam with transformers is ``checkpoints.AtomicCheckpoints`` (its hooks are listed in
``harness.training.hooks``)."""
