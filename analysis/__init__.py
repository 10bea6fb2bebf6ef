"""Turn sweep run directories (docs/run_dir.md) into the papers' tables, figures and dashboards.

Data: :mod:`analysis.load` (tidy frames, robust to broken runs),
:mod:`analysis.variants` (which config keys make a variant), :mod:`analysis.scores`
(pass@k), :mod:`analysis.efficiency`, :mod:`analysis.wandb_runs` (the same frames from W&B).
Tables and figures: :mod:`analysis.tables` (builders), :mod:`analysis.grid` (cells and notes),
:mod:`analysis.table` (the Table), :mod:`analysis.uncertainty` (bootstrap CIs, paired Δ,
detectable effect), :mod:`analysis.compare` (each cell vs a baseline; bold),
:mod:`analysis.references` (the Δ and paper columns),
:mod:`analysis.plots`, :mod:`analysis.names` (display names and units),
:mod:`analysis.paper_numbers` (the papers' stated numbers).
Output: :mod:`analysis.render` (pure Markdown/LaTeX/CSV renderers), :mod:`analysis.report`
(writes a report), :mod:`analysis.cli` (``python -m analysis``), :mod:`analysis.dashboard`
(``python -m analysis.dashboard``: W&B workspaces). Submodules are not imported here.
"""
