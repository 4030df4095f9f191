"""Allow ``python -m meshtui``."""

from meshtui.cli import main

raise SystemExit(main())
