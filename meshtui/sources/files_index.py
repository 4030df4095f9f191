"""Find and read the manifests of a directory: which objects each file holds, and where.

Rules (the files source documents them to users):

- every ``*.yaml`` / ``*.yml`` / ``*.json`` below the directory is read (a JSON text is one
  document); hidden directories and files
  (``.git``, ``.github``, editor swap files) are skipped;
- a document is a Kubernetes object when it is a mapping with string ``apiVersion`` and ``kind``;
  ``kind: List`` (and ``*List`` from ``kubectl get -o yaml``) is expanded into its ``items``;
  empty documents and YAML that is not a manifest (Helm values, CI files) are ignored;
- a mapping with only one of ``apiVersion``/``kind``, or an object without ``metadata.name``,
  is reported as a ``LoadError``;
- a namespaced object without ``metadata.namespace`` is put in ``default_namespace`` (as
  ``kubectl apply`` would); the file itself is not changed;
- a file that fails to parse is one ``LoadError`` with its 1-based line and column, and gives no
  objects; the same object in two places is reported, and the first (by path) wins.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

import yaml

from meshtui.sources.base import LoadError, ObjectKey, RawObject
from meshtui.sources.yamlio import load_all

#: Kinds that have no namespace; every other kind is namespaced.
CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
        "StorageClass",
        "CustomResourceDefinition",
        "ClusterRole",
        "ClusterRoleBinding",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "PriorityClass",
        "IngressClass",
        "APIService",
        "GatewayClass",
        "RuntimeClass",
    }
)


@dataclass(frozen=True, slots=True)
class Location:
    """Where an object is written: file, 0-based document index, index in a List's ``items``."""

    path: str
    doc: int
    item: int | None = None

    def describe(self, root: str | None = None) -> str:
        """``file.yaml document 3`` (1-based, as a person counts)."""
        shown = os.path.relpath(self.path, root) if root else self.path
        text = f"{shown} document {self.doc + 1}"
        return text + (f" item {self.item + 1}" if self.item is not None else "")


@dataclass(slots=True)
class FileState:
    """One file as last read: its stat and hash, the objects it holds and its problems."""

    path: str
    mtime_ns: int
    size: int
    sha256: str
    objects: list[tuple[RawObject, Location]] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    parse_failed: bool = False


def is_manifest_name(name: str) -> bool:
    """Whether a file name is one the source reads."""
    return not name.startswith(".") and name.endswith((".yaml", ".yml", ".json"))


#: Files larger than this are reported and not read: no manifest is that big, and a mis-named
#: dump would otherwise be read and decoded whole.
MAX_FILE_BYTES = 32 * 1024 * 1024


def scan(root: str) -> dict[str, tuple[int, int]]:
    """path -> (mtime_ns, size) of every manifest below ``root``, hidden directories skipped.

    A directory link is followed only when it leads to a directory inside ``root`` not yet
    walked, so links out of the directory are ignored and links back into it cannot loop.
    """
    found: dict[str, tuple[int, int]] = {}
    real_root = os.path.realpath(root)
    stack = [root]
    visited: set[str] = set()
    while stack:
        directory = stack.pop()
        real = os.path.realpath(directory)
        if real in visited or os.path.commonpath([real, real_root]) != real_root:
            continue
        visited.add(real)
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir():
                    stack.append(entry.path)
                elif entry.is_file() and is_manifest_name(entry.name):
                    st = entry.stat()
                    found[entry.path] = (st.st_mtime_ns, st.st_size)
            except OSError:
                continue
    return found


def sha256(data: bytes) -> str:
    """Hex digest used to tell whether a file changed since it was read."""
    return hashlib.sha256(data).hexdigest()


def decode(data: bytes) -> str:
    """File bytes as text (UTF-8, a BOM dropped); raises ``UnicodeDecodeError``."""
    return data.decode("utf-8-sig")


def read_file(path: str, default_namespace: str = "default", unless_sha256: str | None = None) -> FileState | None:
    """Read, hash and parse one file; problems become ``LoadError``s, never exceptions.

    Returns ``None`` without parsing when the content's hash is ``unless_sha256``.
    """
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if st.st_size > MAX_FILE_BYTES:
                return FileState(path, st.st_mtime_ns, st.st_size, "", errors=[LoadError(
                    f"{st.st_size // (1024 * 1024)} MiB is larger than the {MAX_FILE_BYTES // (1024 * 1024)} MiB "
                    "a manifest may be; skipped", path)], parse_failed=True)
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return FileState(path, 0, 0, "", errors=[LoadError(exc.strerror or str(exc), path)], parse_failed=True)
    digest = sha256(data)
    if digest == unless_sha256:
        return None
    state = FileState(path, st.st_mtime_ns, len(data), digest)
    return parse_into(state, data, default_namespace)


def parse_into(state: FileState, data: bytes, default_namespace: str) -> FileState:
    """Parse ``data`` (the file's bytes) into ``state``'s objects and errors."""
    path = state.path
    try:
        text = decode(data)
        docs = [json.loads(text)] if path.endswith(".json") else load_all(text)
    except UnicodeDecodeError as exc:
        state.errors.append(LoadError(f"not UTF-8 text (byte {exc.start})", path))
        state.parse_failed = True
        return state
    except json.JSONDecodeError as exc:
        state.errors.append(LoadError(f"invalid JSON: {exc.msg}", path, exc.lineno, exc.colno))
        state.parse_failed = True
        return state
    except yaml.YAMLError as exc:
        state.errors.append(yaml_error(exc, path))
        state.parse_failed = True
        return state
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        # PyYAML's constructors raise these unwrapped for a tag whose value does not fit it
        # (``!!int abc``, ``!!float x``) and for nesting deeper than the stack; no mark is known.
        cause = " ".join(str(exc).split())[:200] or type(exc).__name__
        state.errors.append(LoadError(f"invalid YAML: cannot read a value: {cause}", path))
        state.parse_failed = True
        return state
    for doc_index, doc in enumerate(docs):
        objects_of_document(doc, path, doc_index, default_namespace, state)
    return state


def yaml_error(exc: yaml.YAMLError, path: str | None) -> LoadError:
    """A PyYAML error as a one-line ``LoadError`` with a 1-based line and column."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    parts = [getattr(exc, "problem", None), getattr(exc, "context", None)]
    message = "; ".join(p for p in parts if p) or str(exc)
    message = "invalid YAML: " + " ".join(message.split())
    if mark is None:
        return LoadError(message, path)
    return LoadError(message, path, mark.line + 1, mark.column + 1)


def objects_of_document(doc: Any, path: str, doc_index: int, default_namespace: str, state: FileState) -> None:
    """Add the object(s) of one parsed document to ``state`` (expanding ``kind: List``)."""
    if not isinstance(doc, dict):
        return  # empty documents, scalars and top-level lists are not manifests
    has_api, has_kind = isinstance(doc.get("apiVersion"), str), isinstance(doc.get("kind"), str)
    if not has_api and not has_kind:
        return  # some other YAML (Helm values, CI config): not ours to judge
    where = Location(path, doc_index)
    kind = str(doc.get("kind") or "")
    if has_api and has_kind and kind.endswith("List") and isinstance(doc.get("items"), list):
        for item_index, item in enumerate(doc["items"]):
            _add(item, Location(path, doc_index, item_index), default_namespace, state)
        return
    _add(doc, where, default_namespace, state)


def _add(obj: Any, where: Location, default_namespace: str, state: FileState) -> None:
    problem = object_problem(obj)
    if problem:
        item = f" item {where.item + 1}" if where.item is not None else ""
        state.errors.append(LoadError(f"document {where.doc + 1}{item}: {problem}", where.path))
        return
    meta = obj["metadata"]
    if not meta.get("namespace") and obj["kind"] not in CLUSTER_SCOPED:
        meta["namespace"] = default_namespace
    state.objects.append((obj, where))


def object_problem(obj: Any) -> str | None:
    """Why ``obj`` is not a usable Kubernetes object, or ``None``."""
    if not isinstance(obj, dict):
        return "not a mapping"
    if not isinstance(obj.get("apiVersion"), str) or not obj.get("apiVersion"):
        return f"kind {obj.get('kind')!s} has no apiVersion"
    if not isinstance(obj.get("kind"), str) or not obj.get("kind"):
        return f"apiVersion {obj.get('apiVersion')} has no kind"
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta.get("name"):
        return f"{obj['kind']} has no metadata.name"
    if meta.get("namespace") is not None and not isinstance(meta.get("namespace"), str):
        return f"{obj['kind']} {meta['name']}: metadata.namespace is not a string"
    return None


def document_line(path: str, doc_index: int) -> int | None:
    """1-based line where document ``doc_index`` of ``path`` starts (for error messages)."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            text = fh.read()
        starts = [ev.start_mark.line for ev in yaml.parse(text, Loader=yaml.SafeLoader) if isinstance(ev, yaml.DocumentStartEvent)]
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return starts[doc_index] + 1 if doc_index < len(starts) else None


def build_index(
    files: dict[str, FileState], root: str | None = None
) -> tuple[dict[ObjectKey, tuple[RawObject, Location]], list[LoadError]]:
    """Merge the files into key -> (object, location); duplicates become errors, first path wins."""
    objects: dict[ObjectKey, tuple[RawObject, Location]] = {}
    errors: list[LoadError] = []
    for path in sorted(files):
        state = files[path]
        errors.extend(state.errors)
        for obj, where in state.objects:
            key = ObjectKey.of(obj)
            if key in objects:
                first = objects[key][1]
                errors.append(
                    LoadError(
                        f"{key} is defined twice: {first.describe(root)} and {where.describe(root)}; using the first",
                        where.path,
                        document_line(where.path, where.doc),
                    )
                )
                continue
            objects[key] = (obj, where)
    return objects, errors
