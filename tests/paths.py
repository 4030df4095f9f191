"""Where the tests find Istio's conformance data: ``shared/conformance`` beside the checkout
(as CI lays it out), or ``$MESHTUI_CONFORMANCE``."""

from __future__ import annotations

import os
from pathlib import Path

CONFORMANCE_ROOT = Path(
    os.environ.get("MESHTUI_CONFORMANCE")
    or Path(__file__).resolve().parents[2] / "shared" / "conformance"
)
