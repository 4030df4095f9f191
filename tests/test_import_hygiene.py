"""The model and engine layers import neither textual nor kubernetes (DESIGN.md layers)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PURE_PACKAGES = ["meshtui.util", "meshtui.model", "meshtui.routing", "meshtui.analysis", "meshtui.envoy",
                 "meshtui.accesslog", "meshtui.metrics"]
FORBIDDEN = ("textual", "kubernetes")


def _modules() -> list[str]:
    names = []
    for package in PURE_PACKAGES:
        path = ROOT / Path(*package.split("."))
        names.append(package)
        names += [f"{package}.{m.name}" for m in pkgutil.walk_packages([str(path)]) if not m.ispkg]
    return sorted(set(names))


@pytest.mark.parametrize("module", _modules())
def test_pure_module_does_not_import_ui_or_cluster_client(module: str) -> None:
    code = (
        "import importlib, sys\n"
        f"importlib.import_module({module!r})\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{module} imports {result.stdout.strip()}"


APPLICATION_PACKAGES = ["meshtui.session", "meshtui.views"]


def _application_modules() -> list[str]:
    names = []
    for package in APPLICATION_PACKAGES:
        path = ROOT / Path(*package.split("."))
        names.append(package)
        names += [f"{package}.{m.name}" for m in pkgutil.walk_packages([str(path)]) if not m.ispkg]
    return sorted(set(names))


@pytest.mark.parametrize("module", _application_modules())
def test_application_layer_does_not_import_textual(module: str) -> None:
    """The session layer and the view-models sit under the UI: the app and the CLI share them."""
    code = (
        "import importlib, sys\n"
        f"importlib.import_module({module!r})\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{module} imports {result.stdout.strip()}"
