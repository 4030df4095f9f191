"""The audit log: one JSON line per write attempt, applied or not.

The file is ``$MESHTUI_STATE_DIR/audit.jsonl`` when that variable is set (tests), else
``$XDG_STATE_HOME/meshtui/audit.jsonl``, else ``~/.local/state/meshtui/audit.jsonl``. Each line:

``{"id", "time", "user", "source", "source_id", "object": {"kind", "namespace", "name",
"apiVersion"}, "description", "result", "error", "before", "after", "undoes", "resolves"}``

``result`` is one of ``RESULTS``. ``before`` is the object as read, ``after`` the object as
stored (``applied``) or as it would have been written (every other result); both without
``metadata.managedFields``. Lines are appended under an exclusive ``flock`` in one ``write``,
so two meshtui processes never interleave a line.

``unknown`` is a write that was sent and got no answer: the source may hold it or not. The
line is never rewritten; once the object is read back, a second line records what actually
happened (``applied``, ``unavailable``: not applied, or ``conflict``: someone else wrote) with
``resolves`` naming the ``unknown`` line's id (see ``meshtui.write.in_doubt``).

A line that is not UTF-8 or not a JSON object (a damaged disk, a crash mid-write, an editor) is
skipped by ``entries`` and described in ``AuditLog.damaged``: the other lines still count.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshtui.model.base import as_dict
from meshtui.sources.base import ObjectKey, RawObject
from meshtui.write.plan import plain

if TYPE_CHECKING:
    from meshtui.sources.base import Source

RESULTS = ("applied", "dry-run", "conflict", "forbidden", "invalid", "unavailable", "cancelled", "error",
           "write-failed", "unknown")
FILE_NAME = "audit.jsonl"


def state_dir() -> Path:
    """meshtui's XDG state directory (``MESHTUI_STATE_DIR`` overrides it)."""
    override = os.environ.get("MESHTUI_STATE_DIR")
    if override:
        return Path(override)
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "state"
    return base / "meshtui"


def source_id(source: "Source") -> str:
    """A stable identity of a source across runs, to find its changes again (undo):
    ``files:<absolute directory>``, ``kube:<context>@<server>``, else its description."""
    root = getattr(source, "root", None)
    if isinstance(root, str):
        return f"files:{os.path.abspath(root)}"
    configuration = getattr(getattr(source, "api_client", None), "configuration", None)
    host = getattr(configuration, "host", None)
    if host:
        return f"kube:{source.description}@{host}"
    return str(getattr(source, "description", "?"))


def _strip(obj: RawObject | None) -> RawObject | None:
    if obj is None:
        return None
    out = plain(obj)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
    return out


@dataclass
class AuditEntry:
    """One line of the audit log."""

    result: str
    source: str
    source_id: str
    object: dict[str, str]
    description: str = ""
    before: RawObject | None = None
    after: RawObject | None = None
    error: str | None = None
    undoes: str | None = None
    #: The id of the ``unknown`` entry whose outcome this entry records.
    resolves: str | None = None
    user: str = ""
    time: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @classmethod
    def of(cls, result: str, source: "Source", base: RawObject, after: RawObject | None, *,
           description: str = "", error: str | None = None, undoes: str | None = None,
           resolves: str | None = None) -> "AuditEntry":
        """An entry for a write of ``base`` -> ``after`` at ``source`` (time and user: now, us)."""
        if result not in RESULTS:
            raise ValueError(f"unknown audit result {result!r}")
        key = ObjectKey.of(base)
        return cls(
            result=result, source=str(getattr(source, "description", "?")), source_id=source_id(source),
            object={"kind": key.kind, "namespace": key.namespace, "name": key.name,
                    "apiVersion": str(base.get("apiVersion") or "")},
            description=description, before=_strip(base), after=_strip(after), error=error, undoes=undoes,
            resolves=resolves, user=_user(), time=_now(),
        )

    @property
    def key(self) -> ObjectKey:
        """The object's kind, namespace and name."""
        return ObjectKey(self.object.get("kind", ""), self.object.get("namespace", ""), self.object.get("name", ""))

    def to_dict(self) -> dict[str, Any]:
        """The JSON line's object (field order as documented above)."""
        return {
            "id": self.id, "time": self.time, "user": self.user, "source": self.source,
            "source_id": self.source_id, "object": dict(self.object), "description": self.description,
            "result": self.result, "error": self.error, "undoes": self.undoes, "resolves": self.resolves,
            "before": self.before, "after": self.after,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AuditEntry":
        """Read back a line written by ``to_dict`` (missing fields get defaults)."""
        obj = as_dict(data.get("object"))
        return cls(
            result=str(data.get("result", "")), source=str(data.get("source", "")),
            source_id=str(data.get("source_id", "")), object={k: str(v) for k, v in obj.items()},
            description=str(data.get("description") or ""), before=data.get("before"), after=data.get("after"),
            error=data.get("error"), undoes=_opt_str(data.get("undoes")), resolves=_opt_str(data.get("resolves")),
            user=str(data.get("user") or ""),
            time=str(data.get("time") or ""), id=str(data.get("id") or ""),
        )


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in a bare container: say so rather than fail the write
        return "unknown"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AuditLog:
    """The append-only audit file (``path`` defaults to ``state_dir() / audit.jsonl``)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else state_dir() / FILE_NAME
        #: One line per damaged line met by the last ``entries()`` pass ("LINE N: why; skipped").
        self.damaged: list[str] = []

    def record(self, entry: AuditEntry) -> None:
        """Append ``entry`` as one line; raises ``OSError`` when the file cannot be written."""
        line = json.dumps(entry.to_dict(), separators=(",", ":"), default=str) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            _lock(fd)
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)  # closing releases the lock

    def entries(self) -> Iterator[AuditEntry]:
        """Every entry, oldest first. A damaged line is skipped and described in ``damaged``;
        raises ``OSError`` when the file exists but cannot be read (e.g. its directory is a file)."""
        self.damaged = []
        try:
            fh = open(self.path, "rb")
        except FileNotFoundError:
            return
        with fh:
            for number, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                try:
                    data = json.loads(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    self._damaged(number, "not UTF-8 text")
                    continue
                except json.JSONDecodeError as exc:
                    self._damaged(number, f"not JSON ({exc.msg})")
                    continue
                if not isinstance(data, dict):
                    self._damaged(number, "not a JSON object")
                    continue
                try:
                    yield AuditEntry.from_dict(data)
                except (AttributeError, TypeError) as exc:  # a field of the wrong type
                    self._damaged(number, f"malformed entry ({exc})")

    def _damaged(self, number: int, why: str) -> None:
        if len(self.damaged) < 100:  # a wholly damaged file must not flood the terminal
            self.damaged.append(f"{self.path} line {number}: {why}; skipped")


def _lock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # not POSIX: O_APPEND alone keeps whole small writes together
        return
    fcntl.flock(fd, fcntl.LOCK_EX)
