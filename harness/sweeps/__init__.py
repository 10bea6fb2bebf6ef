"""Sweep launchers for Hydra multiruns (``hydra_plugins.harness_launchers`` registers them)."""
