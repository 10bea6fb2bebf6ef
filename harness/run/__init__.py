"""The run directory's lifecycle: its files and metrics log, the lock, identity and resume, names,
checkpoint validation, fault injection and the W&B mirror. Nothing here knows the config schema or TRL."""
