"""Shared pytest fixtures.

``sandbox``: one sandbox API server for the whole test session (demo scenario loaded), with its
kubeconfig written to a temporary directory (``sandbox.kubeconfig_path``; contexts
``meshtui-sandbox`` and ``meshtui-sandbox-readonly``). Tests that change objects should do so in
namespaces of their own, so that other tests still see the demo mesh as shipped.

``busy``: a demo sandbox of the test module's own with 300 requests/s of simulated traffic, so
that short canary gates and outcome checks rest on enough requests (its traffic seed is the
module's ``TRAFFIC_SEED``). ``own_audit_log``: the test's own audit log (``MESHTUI_STATE_DIR``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import meshtui
from meshtui.sandbox.server import Sandbox

CHECKOUT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to test an installed copy: ``pip install .`` makes ``import meshtui`` resolve to
    site-packages, and every edit in the checkout would go untested. Install with
    ``pip install -e '.[test]'`` (or set MESHTUI_TEST_INSTALLED=1 to test a wheel on purpose)."""
    where = Path(meshtui.__file__).resolve().parent
    if os.environ.get("MESHTUI_TEST_INSTALLED") == "1" or where.is_relative_to(CHECKOUT):
        return
    raise pytest.UsageError(
        f"meshtui is imported from {where}, not from this checkout ({CHECKOUT}): "
        "run `pip install -e '.[test]'` so the tests exercise the working tree"
    )


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The session's sandbox, started once; stopped (thread and port released) at the end."""
    sb = Sandbox(bookmark_interval=1.0).start()
    sb.write_kubeconfig(tmp_path_factory.mktemp("sandbox") / "kubeconfig")
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture(scope="module")
def busy(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A demo sandbox of the module's own, with enough traffic for gates of a few seconds."""
    box = Sandbox(traffic_rps=300, traffic_seed=getattr(request.module, "TRAFFIC_SEED", 1)).start()
    box.write_kubeconfig(tmp_path_factory.mktemp("busy") / "kubeconfig")
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture()
def own_audit_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's own audit log (and state directory)."""
    state = tmp_path / "state"
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(state))
    return state
