"""``python -m analysis <sweep_dir...> --out <dir>``: the report CLI (:mod:`analysis.cli`)."""

from analysis.cli import main

raise SystemExit(main())
