"""Turn sweep run directories (docs/run_dir.md) into the papers' tables and figures.

Modules: :mod:`analysis.load` (tidy frames), :mod:`analysis.tables` (tables),
:mod:`analysis.efficiency`, :mod:`analysis.plots`, :mod:`analysis.export`
(Markdown/LaTeX/CSV and the CLI ``python -m analysis.tables <sweep_dir...> --out <dir>``).
Submodules are not imported here, so ``python -m analysis.tables`` runs cleanly.
"""
