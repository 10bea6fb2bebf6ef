"""One training run on TRL's GRPOTrainer: the adapter (``engine``, ``hooks``), the mapping onto
``GRPOConfig``, callbacks, models, the warm start, several processes, preflight and the run body
(``execute``)."""
