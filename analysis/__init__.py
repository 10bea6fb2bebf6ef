"""Turn sweep run directories (docs/run_dir.md) into the papers' tables and figures.

Data: :mod:`analysis.load` (tidy frames, robust to broken runs),
:mod:`analysis.variants` (which config keys make a variant), :mod:`analysis.scores`
(pass@k), :mod:`analysis.efficiency`.
Tables and figures: :mod:`analysis.tables` (builders), :mod:`analysis.table` (the Table),
:mod:`analysis.plots`, :mod:`analysis.names` (display names and units),
:mod:`analysis.paper_numbers` (the papers' stated numbers).
Output: :mod:`analysis.render` (pure Markdown/LaTeX/CSV renderers), :mod:`analysis.report`
(writes a report), :mod:`analysis.cli` (``python -m analysis``). Submodules are not imported
here.
"""
