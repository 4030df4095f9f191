"""The files source's watch: edits by other programs reach the UI as events."""

from __future__ import annotations

import copy
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from meshtui.sources.base import LoadErrorsEvent, ObjectEvent, ObjectKey, SourceEvent, StateEvent
from meshtui.sources.files import FilesSource

VS = """\
# the backend routes
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: backend
  namespace: default
spec:
  hosts:
  - backend
  http:
  - route:
    - destination: {host: backend, subset: v0}
      weight: 90
    - destination: {host: backend, subset: v1}
      weight: 10
"""
SVC = "apiVersion: v1\nkind: Service\nmetadata:\n  name: backend\n  namespace: default\n"


class Watcher:
    """Runs ``watch`` in a thread and hands its events over a queue."""

    def __init__(self, source: FilesSource) -> None:
        self.events: queue.Queue[SourceEvent] = queue.Queue()
        self.seen: list[SourceEvent] = []
        self.stop = threading.Event()
        source.snapshot()
        self.thread = threading.Thread(target=self._run, args=(source,), daemon=True)
        self.thread.start()

    def _run(self, source: FilesSource) -> None:
        for event in source.watch(self.stop):
            self.events.put(event)

    def until(self, wanted: Callable[[SourceEvent], bool]) -> SourceEvent:
        """The first event ``wanted`` accepts (events before it are dropped)."""
        while True:
            event = self.events.get(timeout=20)  # a bound against hanging, not a speed check
            self.seen.append(event)
            if wanted(event):
                return event

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[FilesSource, Watcher]]:
    (tmp_path / "vs.yaml").write_text(VS)
    source = FilesSource(str(tmp_path), poll_interval=0.05)
    watcher = Watcher(source)
    yield source, watcher
    watcher.close()


def _is(kind: str, name: str, type_: str) -> Callable[[SourceEvent], bool]:
    return lambda e: (
        isinstance(e, ObjectEvent) and e.type == type_ and e.object["kind"] == kind and e.object["metadata"]["name"] == name
    )


def test_an_edit_by_another_process_is_seen(watched: tuple[FilesSource, Watcher], tmp_path: Path) -> None:
    _, watcher = watched
    script = (
        "import pathlib, sys; p = pathlib.Path(sys.argv[1]);"
        "p.write_text(p.read_text().replace('weight: 90', 'weight: 50').replace('weight: 10', 'weight: 50'))"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "vs.yaml")], check=True)

    event = watcher.until(_is("VirtualService", "backend", "MODIFIED"))

    assert isinstance(event, ObjectEvent)
    assert [d["weight"] for d in event.object["spec"]["http"][0]["route"]] == [50, 50]


def test_files_that_appear_and_disappear(watched: tuple[FilesSource, Watcher], tmp_path: Path) -> None:
    _, watcher = watched
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "svc.yml").write_text(SVC)
    added = watcher.until(_is("Service", "backend", "ADDED"))
    assert isinstance(added, ObjectEvent) and added.object["metadata"]["namespace"] == "default"

    (tmp_path / "nested" / "svc.yml").unlink()
    watcher.until(_is("Service", "backend", "DELETED"))


def test_a_file_that_stops_parsing_is_reported_and_keeps_its_objects(
    watched: tuple[FilesSource, Watcher], tmp_path: Path
) -> None:
    source, watcher = watched
    (tmp_path / "vs.yaml").write_text(VS.replace("  hosts:\n", "  hosts: [\n"))

    broken = watcher.until(lambda e: isinstance(e, LoadErrorsEvent))

    # Named file:line:column; the other files stay live (no state change at all).
    assert isinstance(broken, LoadErrorsEvent) and len(broken.errors) == 1
    assert re.match(rf"{re.escape(str(tmp_path / 'vs.yaml'))}:\d+:\d+: ", str(broken.errors[0]))
    assert "invalid YAML" in str(broken.errors[0])
    assert source.location(ObjectKey("VirtualService", "default", "backend")) is not None  # not deleted

    (tmp_path / "vs.yaml").write_text(VS.replace("weight: 90", "weight: 80").replace("weight: 10", "weight: 20"))
    fixed = watcher.until(lambda e: isinstance(e, LoadErrorsEvent) and e is not broken)
    assert isinstance(fixed, LoadErrorsEvent) and fixed.errors == ()
    assert not any(isinstance(e, StateEvent) for e in watcher.seen)
    (modified,) = [e for e in watcher.seen if _is("VirtualService", "backend", "MODIFIED")(e)]
    assert isinstance(modified, ObjectEvent) and modified.object["spec"]["http"][0]["route"][0]["weight"] == 80
    assert not any(isinstance(e, ObjectEvent) and e.type == "DELETED" for e in watcher.seen)


def test_own_writes_are_reported_like_any_other(watched: tuple[FilesSource, Watcher]) -> None:
    source, watcher = watched
    base = next(o for o in source.snapshot().objects if o["kind"] == "VirtualService")
    edited = copy.deepcopy(base)
    edited["spec"]["http"][0]["route"][0]["weight"] = 70
    edited["spec"]["http"][0]["route"][1]["weight"] = 30

    source.apply(edited, base=base)

    event = watcher.until(_is("VirtualService", "backend", "MODIFIED"))
    assert isinstance(event, ObjectEvent) and event.object == edited
