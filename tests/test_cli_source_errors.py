"""The read commands (analyze, trace, logs, proxy-config) when the source cannot be used: a
missing, empty or garbage kubeconfig, no ``~/.kube/config``, an unknown ``--context`` (exit 2,
nothing contacted), an invalid token (401) or a server that is gone (exit 9). One line on
stderr each, never a traceback. The commands run in a subprocess, as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from meshtui.sandbox import kubeconfig as sandbox_kubeconfig
from meshtui.sandbox.server import Sandbox
from outage_proxy import OutageProxy

pytestmark = pytest.mark.timeout(180)

READ_COMMANDS = [
    ["analyze"],
    ["trace", "--host", "catalog"],
    ["logs", "catalog", "--duration", "1"],
    ["proxy-config", "routes", "web-1"],
]


@pytest.fixture(scope="module")
def bare_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sb = Sandbox(scenario=False, traffic=False).start()
    sb.write_kubeconfig(tmp_path_factory.mktemp("srcerr") / "kubeconfig")
    try:
        yield sb
    finally:
        sb.stop()


def run(args: list[str], home: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``meshtui ARGS`` with HOME at ``home`` and no $KUBECONFIG (unless ``env`` sets one)."""
    environ = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    environ.update({"HOME": str(home), "MESHTUI_STATE_DIR": str(home / "state")}, **(env or {}))
    return subprocess.run([sys.executable, "-m", "meshtui", *args], capture_output=True, text=True,
                          env=environ, timeout=60)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("meshtui: "), result.stderr
    return lines[0]


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: c[0])
def test_unusable_kubeconfigs_give_one_line_and_exit_2(command: list[str], tmp_path: Path,
                                                      bare_sandbox: Sandbox) -> None:
    home = tmp_path / "home"
    home.mkdir()
    empty = tmp_path / "empty"
    empty.write_text("")
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"\x00\xff\xfe apiVersion: [unclosed\n")
    cases = {
        "no ~/.kube/config": ([], "~/.kube/config does not exist"),
        "missing file": (["--kubeconfig", str(tmp_path / "nope")], "no such file"),
        "empty file": (["--kubeconfig", str(empty)], str(empty)),
        "garbage": (["--kubeconfig", str(garbage)], str(garbage)),
        "unknown context": (["--kubeconfig", str(bare_sandbox.kubeconfig_path), "--context", "nope"],
                            "no context named 'nope'"),
    }
    for what, (flags, says) in cases.items():
        result = run([*command, *flags], home)
        line = one_line(result)
        assert result.returncode == 2, (what, result.stderr)
        assert says in line, (what, line)


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: c[0])
def test_an_invalid_token_and_a_gone_server_give_one_line_and_exit_9(
    command: list[str], tmp_path: Path, bare_sandbox: Sandbox,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    bad = sandbox_kubeconfig.write(tmp_path / "bad-token", bare_sandbox.url, "not-a-token", "nor-this",
                                   bare_sandbox.ca_pem)
    result = run([*command, "--kubeconfig", str(bad)], home)
    line = one_line(result)
    assert result.returncode == 9, result.stderr
    assert "401" in line or "Unauthorized" in line

    proxy = OutageProxy(bare_sandbox.port)
    try:
        url = bare_sandbox.url.rsplit(":", 1)[0] + f":{proxy.port}"
        gone = sandbox_kubeconfig.write(tmp_path / "gone", url, bare_sandbox.admin_token,
                                        bare_sandbox.readonly_token, bare_sandbox.ca_pem)
        proxy.down()
        result = run([*command, "--kubeconfig", str(gone)], home)
    finally:
        proxy.close()
    line = one_line(result)
    assert result.returncode == 9, result.stderr
    assert f"127.0.0.1:{proxy.port}" in line
