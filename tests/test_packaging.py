"""The distribution ships screens/ and styles/ inside meshtui, with no top-level `screens`."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _run_outside_repo(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # Run from an unrelated directory so the repository root is not on sys.path.
    return subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )


def test_installed_package_has_screens_and_styles_but_no_top_level_screens(tmp_path: Path) -> None:
    code = (
        "import importlib.util, importlib.resources as r\n"
        "import meshtui.screens, meshtui.styles\n"
        "print(importlib.util.find_spec('screens') is None)\n"
        "print(sorted(p.name for p in r.files('meshtui.styles').iterdir() if p.name.endswith('.tcss')))\n"
    )
    proc = _run_outside_repo(code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    no_top_level, tcss = proc.stdout.splitlines()
    assert no_top_level == "True"
    assert "app.tcss" in tcss


def test_wheel_contents(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(REPO)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("meshtui_istio-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "meshtui/screens/__init__.py" in names
    assert "meshtui/styles/app.tcss" in names
    assert "meshtui/data/networking.istio.io.crds.yaml" in names
    assert "meshtui/data/LICENSE-istio" in names
    assert not any(n.startswith("screens/") or n.startswith("styles/") for n in names)
    # Every package of the source tree ships (pyproject lists them explicitly).
    for init in (REPO / "meshtui").rglob("__init__.py"):
        assert str(init.relative_to(REPO)) in names, f"{init.parent.name} is missing from pyproject's packages"
    for tcss in (REPO / "styles").glob("*.tcss"):
        assert f"meshtui/styles/{tcss.name}" in names
    assert any(n.startswith("meshtui/demo/") and n.endswith(".yaml") for n in names)


def test_console_script_version_and_help() -> None:
    from meshtui import __version__

    exe = Path(sys.executable).with_name("meshtui")
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert out.stdout.strip() == f"meshtui {__version__}"
    help_out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert help_out.returncode == 0
    assert "--demo" in help_out.stdout and "--files" in help_out.stdout
