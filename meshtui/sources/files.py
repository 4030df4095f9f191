"""The files source: a directory of YAML manifests, as an SRE keeps them in a GitOps repository.

Reading (``snapshot``) walks the directory and parses every file with PyYAML's fast loader,
remembering for each object its file, document index and the file's SHA-256. Writing (``apply``)
edits the one document in place with ruamel.yaml's round-trip loader so that only the edited
values change (see :mod:`meshtui.sources.yamlio`), refuses when the file changed on disk since it
was read, and replaces the file atomically. ``watch`` polls the directory.

What ``watch`` yields:

- ``ObjectEvent`` ADDED / MODIFIED / DELETED for objects that appear, change or disappear
  (including a file created, edited or removed by another program, and this source's own writes);
- a file that stops parsing keeps its last good objects (an editor saving half a change should
  not make services vanish) and the source reports ``LoadErrorsEvent`` with every current
  problem (``file:line:column: cause``); the other files stay live. When the problems change
  again (the file parses, an object is defined twice, a name is missing) it reports the new
  list, empty when all is well. ``FilesSource.errors`` always holds the current list.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml

from meshtui.sources.base import (
    ApplyResult,
    Capabilities,
    ConflictError,
    ForbiddenError,
    InvalidObjectError,
    LoadError,
    LoadErrorsEvent,
    NotFoundError,
    ObjectEvent,
    ObjectKey,
    RawObject,
    Snapshot,
    SourceError,
    SourceEvent,
    WriteFailedError,
)
from meshtui.sources.saved_logs import has_saved_logs, saved_log_stream
from meshtui.sources.files_index import (
    CLUSTER_SCOPED,
    FileState,
    Location,
    build_index,
    decode,
    object_problem,
    read_file,
    scan,
    sha256,
)
from meshtui.sources.line_endings import with_line_endings
from meshtui.sources.yamlio import (
    ChangedUnderneathError,
    EditError,
    atomic_write,
    detect_indent,
    document_spans,
    dump_new,
    edit_document,
    fingerprint,
    load_all,
)

READ_ONLY_REASON = "read-only: started with --read-only"
_NO_PODS = "a directory of manifests has no pods: {what} needs a cluster or --demo"
# A file modified this recently is re-hashed on every poll even when its mtime and size look
# unchanged: a second write within the filesystem's timestamp granularity would otherwise hide.
_RACY_SECONDS = 2.0
# How long a write waits for another program's lock on the file before giving up (exit 3).
_LOCK_WAIT_SECONDS = 10.0


class FilesSource:
    """A ``Source`` over a directory of multi-document YAML manifests."""

    def __init__(
        self,
        path: str,
        read_only: bool = False,
        *,
        poll_interval: float = 1.0,
        default_namespace: str = "default",
    ) -> None:
        self.root = os.path.abspath(path)
        #: What the status bar shows: the directory as given.
        self.description = path
        self.read_only = read_only
        self.poll_interval = poll_interval
        self.default_namespace = default_namespace
        self._lock = threading.RLock()
        # One write at a time: the hash check and the rename must not interleave with another
        # apply from this process (other processes are caught by the hash check).
        self._write_lock = threading.Lock()
        self._files: dict[str, FileState] = {}
        self._objects: dict[ObjectKey, tuple[RawObject, Location]] = {}
        self._errors: list[LoadError] = []
        self._loaded = False

    # ---- reading -----------------------------------------------------------------------------

    def read_only_reason(self) -> str | None:
        """``read-only: started with --read-only`` when writes are refused, else ``None``."""
        return READ_ONLY_REASON if self.read_only else None

    @property
    def errors(self) -> list[LoadError]:
        """The load problems as of the last read (parse errors, duplicates, malformed objects)."""
        with self._lock:
            return list(self._errors)

    def location(self, key: ObjectKey) -> Location | None:
        """Where the object ``key`` is written (file, document), e.g. to open it in an editor."""
        with self._lock:
            entry = self._objects.get(key)
            return entry[1] if entry else None

    def snapshot(self) -> Snapshot:
        """Read every manifest below the directory. Objects are shared: do not modify them."""
        if not os.path.isdir(self.root):
            raise NotFoundError(f"{self.description}: not a directory")
        files: dict[str, FileState] = {}
        for p in scan(self.root):
            state = read_file(p, self.default_namespace)
            assert state is not None  # only None when a hash to skip is given
            files[p] = state
        with self._lock:
            self._files = files
            self._reindex()
            self._loaded = True
            return Snapshot(objects=[obj for obj, _ in self._objects.values()], errors=list(self._errors))

    def _reindex(self) -> None:
        self._objects, self._errors = build_index(self._files, self.root)

    # ---- watching ----------------------------------------------------------------------------

    def watch(self, stop: threading.Event, resume: dict[str, str] | None = None) -> Iterator[SourceEvent]:
        """Poll the directory every ``poll_interval`` seconds and yield what changed since the
        last ``snapshot()``, this source's own writes included (``resume`` is unused: the files
        are their own state)."""
        if not self._loaded:
            self.snapshot()
        with self._lock:
            seen = dict(self._objects)
            reported = tuple(self._errors)
        while not stop.wait(self.poll_interval):
            self.refresh()
            with self._lock:
                now = dict(self._objects)
                errors = tuple(self._errors)
            events = _diff(seen, now)
            seen = now
            yield from events
            if errors != reported:
                reported = errors
                yield LoadErrorsEvent(errors)

    def refresh(self) -> None:
        """Look at the directory once and re-read the files that changed since the last read."""
        current = scan(self.root)
        now = time.time()
        with self._lock:
            known = dict(self._files)
        changed: dict[str, FileState] = {}
        for path, (mtime_ns, size) in current.items():
            old = known.get(path)
            racy = now - mtime_ns / 1e9 < _RACY_SECONDS
            if old is not None and (old.mtime_ns, old.size) == (mtime_ns, size) and not racy:
                continue
            state = read_file(path, self.default_namespace, old.sha256 if old is not None else None)
            if state is None and old is not None:  # touched, not changed
                old.mtime_ns, old.size = mtime_ns, size
                continue
            assert state is not None
            if state.parse_failed and old is not None:
                state.objects = old.objects  # keep the last good objects while the file is broken
            changed[path] = state
        removed = [p for p in known if p not in current]
        if not changed and not removed:
            return
        with self._lock:
            for path in removed:
                self._files.pop(path, None)
            self._files.update(changed)
            self._reindex()

    # ---- writing -----------------------------------------------------------------------------

    def apply(
        self,
        obj: RawObject,
        *,
        base: RawObject | None = None,
        dry_run: bool = False,
        path: str | None = None,
    ) -> ApplyResult:
        """Write ``obj`` into its file in place, if the file still holds ``base`` as read.

        Only the values that differ between ``base`` and ``obj`` change in the file. With no
        ``base`` the object is new: it is appended as a document to ``path`` (relative to the
        directory) or to ``<kind>-<name>.yaml``. ``dry_run`` does everything but the write.
        Raises ``ForbiddenError`` (read-only), ``ConflictError`` (changed since read, or exists),
        ``NotFoundError`` (base no longer in the directory), ``InvalidObjectError``.
        """
        if self.read_only:
            raise ForbiddenError(READ_ONLY_REASON)
        problem = object_problem(obj)
        if problem:
            raise InvalidObjectError(f"cannot write: {problem}")
        if not self._loaded:
            self.snapshot()
        with self._write_lock:
            if base is None:
                return self._create(obj, dry_run, path)
            return self._update(obj, base, dry_run)

    def _update(self, obj: RawObject, base: RawObject, dry_run: bool) -> ApplyResult:
        key = ObjectKey.of(base)
        with self._lock:
            entry = self._objects.get(key)
            state = self._files.get(entry[1].path) if entry else None
            taken = self._objects.get(ObjectKey.of(obj)) if ObjectKey.of(obj) != key else None
        if entry is None or state is None:
            raise NotFoundError(f"{key} is no longer in {self.description}")
        current, where = entry
        shown = where.describe(self.root)
        if taken is not None:
            raise ConflictError(f"{ObjectKey.of(obj)} already exists in {taken[1].describe(self.root)}", taken[0])
        if fingerprint(current) != fingerprint(base):
            raise ConflictError(f"{key} changed since it was read ({shown}); nothing was written", current)
        if state.parse_failed:
            raise SourceError(f"{_rel(where.path, self.root)} does not parse: {state.errors[0]}; fix it first")
        real = self._writable_target(where.path)
        with _file_lock(real, _rel(where.path, self.root)):
            return self._update_locked(obj, base, dry_run, key, state, where, real)

    def _update_locked(
        self, obj: RawObject, base: RawObject, dry_run: bool, key: ObjectKey, state: FileState, where: Location,
        real: str,
    ) -> ApplyResult:
        shown = where.describe(self.root)
        text, style = self._read_checked(where.path, state.sha256, key)
        spans = document_spans(text)
        if where.doc >= len(spans):
            raise ConflictError(f"{shown} is gone; nothing was written", None)
        start, end = spans[where.doc]
        doc_text = text[start:end]
        try:
            new_doc = edit_document(doc_text, base, obj, where.item, detect_indent(doc_text, fallback=text))
        except EditError as exc:
            raise SourceError(f"{shown}: {exc}") from exc
        # The document is checked on its own: the spans cut the file at document boundaries,
        # so the rest of the file reads exactly as before.
        stored = self._check_reads_back(new_doc, Location(where.path, 0, where.item), obj, shown)
        if not dry_run:
            written = self._write(real, where.path, text[:start] + new_doc + text[end:], style, state.sha256, key)
            self._replace_object(state, where, stored, written)
        return ApplyResult(stored, dry_run)

    def _create(self, obj: RawObject, dry_run: bool, path: str | None) -> ApplyResult:
        key = ObjectKey.of(obj)
        with self._lock:
            existing = self._objects.get(key)
        if existing is not None:
            raise ConflictError(f"{key} already exists in {existing[1].describe(self.root)}", existing[0])
        name = path or f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
        target = os.path.abspath(os.path.join(self.root, name))
        if os.path.commonpath([target, self.root]) != self.root:
            raise SourceError(f"{name}: outside {self.description}")
        text, style, indent = "", ("", False), (2, 2, 0)
        real, known_sha = target, None
        if os.path.lexists(target):
            real = self._writable_target(target)
            with self._lock:
                known = self._files.get(target)
            known_sha = known.sha256 if known else None
            text, style = self._read_checked(target, known_sha, key)
            indent = detect_indent(text) if text.strip() else indent
        if target.endswith(".json"):
            if text.strip():
                raise SourceError(f"{name}: a JSON file holds one object, and it has one; nothing was written")
            new_text = json.dumps(obj, indent=2, ensure_ascii=False) + "\n"
        else:
            prefix = text
            if prefix and not prefix.endswith("\n"):
                prefix += "\n"
            lines = [ln.strip() for ln in prefix.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
            if lines and lines[-1] != "---":
                prefix += "---\n"
            new_text = prefix + dump_new(obj, indent)
        docs = len(document_spans(new_text))
        where = Location(target, docs - 1)
        stored = self._check_reads_back(new_text, where, obj, where.describe(self.root), whole_file=True)
        if not dry_run:
            try:
                os.makedirs(os.path.dirname(target), exist_ok=True)
            except OSError as exc:
                raise WriteFailedError(_os_failure(name, exc)) from exc
            self._write(real, target, new_text, style, known_sha, key)
            self._refresh(target)
        return ApplyResult(stored, dry_run)

    def _writable_target(self, path: str) -> str:
        """The real file a write to ``path`` goes to (a link is written through): refused when it
        lies outside the directory or is read-only by its mode bits (0444 is refused even for
        root, who could write it: the mode says the owner does not want it changed)."""
        rel = _rel(path, self.root)
        real = os.path.realpath(path)
        real_root = os.path.realpath(self.root)
        if os.path.commonpath([real, real_root]) != real_root:
            raise ForbiddenError(f"read-only: {rel} links outside {self.description} (to {real}); nothing was written")
        try:
            mode = os.stat(real).st_mode
        except FileNotFoundError:
            return real
        except OSError as exc:
            raise WriteFailedError(_os_failure(rel, exc)) from exc
        if not stat.S_ISREG(mode):
            raise ForbiddenError(f"read-only: {rel} is not a regular file; nothing was written")
        if mode & 0o222 == 0 or (os.geteuid() != 0 and not os.access(real, os.W_OK)):
            raise ForbiddenError(f"read-only: {rel} is not writable (mode {mode & 0o777:04o}); nothing was written")
        return real

    def _write(
        self, real: str, path: str, text: str, style: tuple[str, bool], expected: str | None, key: ObjectKey
    ) -> tuple[int, int, str]:
        """Replace ``real`` (what ``path`` names) with ``text`` (LF newlines), each line keeping
        the ending it had in the file as read (``style``: that text and whether it had a BOM);
        an OS failure is a ``WriteFailedError``, a file another program changed in the window a
        ``ConflictError``."""
        rel = _rel(path, self.root)
        as_read, bom = style
        try:
            return atomic_write(real, with_line_endings(as_read, text), bom=bom, expected_sha256=expected)
        except ChangedUnderneathError:
            fresh = read_file(real, self.default_namespace)
            current = next((o for o, _ in fresh.objects if ObjectKey.of(o) == key), None) if fresh else None
            raise ConflictError(
                f"{rel} was changed by another program while meshtui wrote it; its version was kept, nothing was written",
                current,
            ) from None
        except OSError as exc:
            raise WriteFailedError(_os_failure(rel, exc)) from exc

    def _read_checked(self, path: str, expected: str | None, key: ObjectKey) -> tuple[str, tuple[str, bool]]:
        """The file's text (LF newlines) and its style (the text as read, with its line endings,
        and whether it starts with a BOM); ``ConflictError`` when its hash is no longer ``expected``."""
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            raise ConflictError(f"{_rel(path, self.root)} was removed since it was read; nothing was written") from None
        if expected is not None and sha256(data) != expected:
            fresh = read_file(path, self.default_namespace)
            current = next((o for o, _ in fresh.objects if ObjectKey.of(o) == key), None) if fresh else None
            raise ConflictError(
                f"{_rel(path, self.root)} changed on disk since it was read; nothing was written", current
            )
        text = decode(data)
        return text.replace("\r\n", "\n"), (text, data.startswith(b"\xef\xbb\xbf"))

    def _check_reads_back(
        self, new_text: str, where: Location, obj: RawObject, shown: str, whole_file: bool = False
    ) -> RawObject:
        """Parse the would-be text (one document, or the ``whole_file``) with the reading loader
        and return the object it holds; refuse (nothing written) unless that is exactly ``obj``."""
        try:
            docs = load_all(new_text)
            if not whole_file and len(docs) != 1:
                raise IndexError("the document split in two")
            doc: Any = docs[where.doc]
            stored = doc["items"][where.item] if where.item is not None else doc
        except (yaml.YAMLError, IndexError, KeyError, TypeError) as exc:
            raise SourceError(f"{shown}: the edit would break the file; nothing was written") from exc
        expected = self._with_namespace(obj)
        stored = self._with_namespace(stored)
        if fingerprint(stored) != fingerprint(expected):
            raise SourceError(f"{shown}: the edited file would not read back as the object; nothing was written")
        return stored

    def _with_namespace(self, obj: RawObject) -> RawObject:
        meta = obj.get("metadata") or {}
        if meta.get("namespace") or obj.get("kind") in CLUSTER_SCOPED:
            return obj
        return {**obj, "metadata": {**meta, "namespace": self.default_namespace}}

    def _refresh(self, path: str) -> None:
        state = read_file(path, self.default_namespace)
        assert state is not None
        with self._lock:
            self._files[path] = state
            self._reindex()

    def _replace_object(self, old: FileState, where: Location, stored: RawObject, written: tuple[int, int, str]) -> None:
        """Record our own write without re-parsing the file: only one object in it changed."""
        mtime_ns, size, digest = written
        objects = [(stored, loc) if loc == where else (o, loc) for o, loc in old.objects]
        state = FileState(old.path, mtime_ns, size, digest, objects, list(old.errors))
        with self._lock:
            self._files[old.path] = state
            self._reindex()

    # ---- saved logs, and what a directory does not have ---------------------------------------

    def logs(
        self,
        namespace: str,
        pod: str,
        *,
        container: str = "istio-proxy",
        follow: bool = True,
        tail_lines: int | None = None,
        since_seconds: int | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[str]:
        """The pod's logs saved below the directory (``NS/POD/logs.txt``, as ``kubectl
        cluster-info dump`` writes them); ``since_seconds`` does not apply to saved lines.
        ``NotFoundError`` when the directory holds no logs at all or none for this pod."""
        if not has_saved_logs(self.root):
            raise NotFoundError(_NO_PODS.format(what="logs of " + f"{namespace}/{pod}"))
        return saved_log_stream(self.root, namespace, pod, container=container, follow=follow,
                                tail_lines=tail_lines, stop=stop)

    def envoy_admin(self, namespace: str, pod: str, path: str) -> bytes:
        """Always ``NotFoundError``: manifests on disk have no Envoy to ask."""
        raise NotFoundError(_NO_PODS.format(what=f"Envoy admin of {namespace}/{pod}"))

    def pods(self, namespace: str, *, label_selector: str = "", field_selector: str = "") -> list[RawObject]:
        """Always ``NotFoundError``: manifests on disk say nothing of running pods."""
        raise NotFoundError(_NO_PODS.format(what=f"the pods of {namespace}"))

    def origin(self, key: ObjectKey) -> str | None:
        """The file and document holding ``key`` (relative to the directory), or None."""
        where = self.location(key)
        return where.describe(self.root) if where is not None else None

    @property
    def capabilities(self) -> Capabilities:
        """A directory: no contexts, Envoy or running proxies; logs when it holds saved ones
        (``NS/POD/logs.txt``); writes unless read-only."""
        return Capabilities(logs=has_saved_logs(self.root), read_only=READ_ONLY_REASON if self.read_only else None)

    def contexts(self) -> list[str]:
        """None: a directory has no kubeconfig."""
        return []

    def with_context(self, context: str) -> "FilesSource":
        """Always ``SourceError``: a directory has no contexts."""
        raise SourceError(f"{self.description}: a directory of manifests has no context {context!r}")

    def close(self) -> None:
        """Nothing to release: the source holds no connections or threads."""


def _rel(path: str, root: str) -> str:
    return os.path.relpath(path, root)


def _os_failure(rel: str, exc: OSError) -> str:
    return f"cannot write {rel}: {exc.strerror or exc}; the file was left as it was"


@contextmanager
def _file_lock(path: str, shown: str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on the file ``path`` names now. meshtui replaces files by
    rename, so a lock taken on an inode that was renamed over meanwhile is retaken on the new one
    (whose changed hash then makes the waiting write a conflict)."""
    deadline = time.monotonic() + _LOCK_WAIT_SECONDS
    while True:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise ConflictError(f"{shown} was removed since it was read; nothing was written") from None
        except OSError as exc:
            raise WriteFailedError(_os_failure(shown, exc)) from exc
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise ConflictError(f"{shown} is locked by another program; nothing was written") from None
                    time.sleep(0.02)  # polling a lock with a deadline; flock has no timeout
            held, now = os.fstat(fd), _stat_or_none(path)
            if now is not None and (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        yield
    finally:
        os.close(fd)


def _stat_or_none(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def _diff(
    before: dict[ObjectKey, tuple[RawObject, Location]], after: dict[ObjectKey, tuple[RawObject, Location]]
) -> list[ObjectEvent]:
    """Events that turn ``before`` into ``after`` (deletions last, so a move reads as a change)."""
    events: list[ObjectEvent] = []
    for key, (obj, _) in after.items():
        old = before.get(key)
        if old is None:
            events.append(ObjectEvent("ADDED", obj))
        elif old[0] is not obj and fingerprint(old[0]) != fingerprint(obj):
            events.append(ObjectEvent("MODIFIED", obj))
    events.extend(ObjectEvent("DELETED", obj) for key, (obj, _) in before.items() if key not in after)
    return events
