"""The application layer under the UI (``meshtui.session``), without Textual: the live index, the
session's write block and scope, the `:` command registry and the user keymap file."""

from __future__ import annotations

import shutil
import time
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from meshtui.session.commands import COMMANDS, help_markdown, prompt_hint, resolve, unknown_message
from meshtui.session.findings import Findings, FindingsScheduler
from meshtui.session.keymap import keymap_path, load_keymap, unknown_ids
from meshtui.session.live_index import LiveIndex
from meshtui.session.mesh_session import LoadFailed, MeshSession
from meshtui.sources.files import FilesSource

DEMO = Path(str(files("meshtui.demo")))

VS = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: extra
  namespace: default
spec:
  hosts: [extra]
  http:
  - route:
    - destination: {host: extra}
"""


@pytest.fixture()
def demo_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped demo manifests."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


class InlineRunner:
    """Runs the scheduler's threads at once and its timers never (enough for one analysis)."""

    def call_later(self, delay: float, callback: object) -> None:
        """Timers are not needed: the first analysis starts at once."""

    def run_in_thread(self, work: object, group: str) -> None:
        """Run the work on this thread."""
        work(lambda: False)  # type: ignore[operator]

    def call_on_owner(self, callback: object) -> None:
        """Already on the owner's thread."""
        callback()  # type: ignore[operator]


# -- live index -----------------------------------------------------------------------------------


def test_live_index_folds_a_file_written_by_another_program_into_one_batch(demo_dir: Path) -> None:
    source = FilesSource(str(demo_dir), poll_interval=0.05)
    live = LiveIndex.load(source)
    assert live.index.get("VirtualService", "default", "extra") is None
    live.start_watch()
    try:
        (demo_dir / "zz-extra.yaml").write_text(VS, encoding="utf-8")
        deadline = time.monotonic() + 20
        changed: list[tuple[str, dict[str, object]]] = []
        while time.monotonic() < deadline and not changed:
            changed = live.drain().changed
            time.sleep(0.05)
        assert [(t, o["kind"]) for t, o in changed] == [("ADDED", "VirtualService")]
        assert live.index.get("VirtualService", "default", "extra") is not None
        assert "vs" in live.counts()
    finally:
        live.stop()
        source.close()


# -- the session ----------------------------------------------------------------------------------


def _session(demo_dir: Path, read_only: bool = False) -> tuple[MeshSession, list[Findings | Exception]]:
    published: list[Findings | Exception] = []
    scheduler = FindingsScheduler(InlineRunner(), published.append, min_interval=0.0, settle=0.0)
    return MeshSession(lambda: FilesSource(str(demo_dir), read_only=read_only), scheduler,
                       read_only=read_only), published


def test_session_loads_says_live_and_analyses_the_mesh(demo_dir: Path) -> None:
    session, published = _session(demo_dir)
    session.loaded(session.open_and_load())
    try:
        assert session.index is not None and session.index.get("Service", "default", "backend-service")
        assert session.status.state == "live" and session.status.source == str(demo_dir)
        assert session.write_block_reason() is None
        assert isinstance(published[-1], Findings) and session.findings.latest is published[-1]
        assert not session.capabilities.logs and not session.capabilities.envoy_admin
    finally:
        session.close()


def test_read_only_session_says_why_writes_are_refused(demo_dir: Path) -> None:
    session, _ = _session(demo_dir, read_only=True)
    session.loaded(session.open_and_load())
    try:
        assert session.write_block_reason() == "--read-only"
        assert session.status.read_only == "--read-only"
    finally:
        session.close()


def test_a_refused_write_blocks_every_later_write(demo_dir: Path) -> None:
    session, _ = _session(demo_dir)
    session.loaded(session.open_and_load())
    try:
        session.refused_write("read-only (403 Forbidden)")
        assert session.write_block_reason() == "read-only (403 Forbidden)"
    finally:
        session.close()


def test_scope_to_a_missing_namespace_is_refused_with_its_name(demo_dir: Path) -> None:
    session, _ = _session(demo_dir)
    session.loaded(session.open_and_load())
    try:
        assert session.set_scope("nope") == "no namespace 'nope' in this mesh"
        assert session.scope is None
        assert session.set_scope("bookinfo") is None and session.status.scope == "bookinfo"
    finally:
        session.close()


def test_a_source_that_cannot_load_gives_one_line_and_a_stale_status(tmp_path: Path) -> None:
    scheduler = FindingsScheduler(InlineRunner(), lambda _r: None)
    session = MeshSession(lambda: FilesSource(str(tmp_path / "missing")), scheduler)
    with pytest.raises(LoadFailed) as caught:
        session.open_and_load()
    session.failed(caught.value)
    assert str(caught.value).startswith("cannot load the mesh: ") and "not a directory" in str(caught.value)
    assert session.status.state == "stale" and "not a directory" in session.status.detail
    session.close()


# -- `:` commands ----------------------------------------------------------------------------------


def test_every_spelling_resolves_to_its_command() -> None:
    assert resolve("vs") is not None and resolve("vs")[0].name == "vs"  # type: ignore[index]
    assert resolve(":virtualservices")[0].name == "vs"  # type: ignore[index]
    assert resolve("po")[0].name == "pods"  # type: ignore[index]
    assert resolve("q!")[0].name == "quit"  # type: ignore[index]
    assert resolve("tr reviews.default.svc.cluster.local") == (resolve("trace")[0], "reviews.default.svc.cluster.local")  # type: ignore[index]
    assert resolve("")[0].name == "mesh"  # type: ignore[index]
    assert resolve("nosuchview") is None


def test_prompt_help_and_the_unknown_message_list_every_command() -> None:
    message, hint, helptext = unknown_message("nosuchview"), prompt_hint(), help_markdown()
    assert message.startswith("unknown command :nosuchview (try ")
    for spec in COMMANDS:
        assert f":{spec.name}" in message and spec.name in hint and f"`{spec.usage}`" in helptext


# -- keymap ---------------------------------------------------------------------------------------


def test_keymap_file_is_read_from_the_xdg_config_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    path = keymap_path()
    assert path == tmp_path / "meshtui" / "keys.toml"
    path.parent.mkdir()
    path.write_text('[keys]\nlogs-pause = "space"\nedit-routes = "w, ctrl+e"\nbroken = 3\n', encoding="utf-8")
    keymap, problems = load_keymap()
    assert keymap == {"logs-pause": "space", "edit-routes": "w,ctrl+e"}
    assert problems == [f"{path}: keys.broken must be a string of keys such as \"ctrl+e\""]
    assert unknown_ids({"logs-pause": "space", "nosuch": "x"}, {"logs-pause"}) == ["nosuch"]


def test_a_keymap_file_that_does_not_parse_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "keys.toml"
    path.write_text("[keys\n", encoding="utf-8")
    keymap, problems = load_keymap(path)
    assert keymap == {} and len(problems) == 1 and problems[0].startswith(f"{path}: ")
    assert load_keymap(tmp_path / "absent.toml") == ({}, [])



# -- capabilities ---------------------------------------------------------------------------------


def test_a_directory_declares_it_has_no_contexts_envoy_logs_or_proxies(demo_dir: Path) -> None:
    caps = FilesSource(str(demo_dir)).capabilities
    assert (caps.contexts, caps.envoy_admin, caps.logs, caps.live_proxies, caps.read_only) == (
        False, False, False, False, None)
    assert FilesSource(str(demo_dir), read_only=True).capabilities.read_only == "read-only: started with --read-only"
    assert FilesSource(str(demo_dir)).contexts() == []


def test_a_cluster_declares_contexts_envoy_logs_and_proxies(sandbox: Any) -> None:
    from meshtui.sources.kube import KubeSource

    source = KubeSource.from_kubeconfig(str(sandbox.kubeconfig_path), read_only=True)
    try:
        caps = source.capabilities
        assert caps.contexts and caps.envoy_admin and caps.logs and caps.live_proxies
        assert caps.read_only == "--read-only"
        assert "meshtui-sandbox-readonly" in source.contexts()
    finally:
        source.close()
