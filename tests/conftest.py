"""Shared pytest fixtures.

``sandbox``: one sandbox API server for the whole test session (demo scenario loaded), with its
kubeconfig written to a temporary directory (``sandbox.kubeconfig_path``; contexts
``meshtui-sandbox`` and ``meshtui-sandbox-readonly``). Tests that change objects should do so in
namespaces of their own, so that other tests still see the demo mesh as shipped.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from meshtui.sandbox.server import Sandbox


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The session's sandbox, started once; stopped (thread and port released) at the end."""
    sb = Sandbox(bookmark_interval=1.0).start()
    sb.write_kubeconfig(tmp_path_factory.mktemp("sandbox") / "kubeconfig")
    try:
        yield sb
    finally:
        sb.stop()
