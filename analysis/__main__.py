"""``python -m analysis <sweep_dir...> --out <dir>``: same as ``python -m analysis.tables``."""

from analysis.export import main

raise SystemExit(main())
