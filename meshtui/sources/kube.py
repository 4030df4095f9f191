"""The kube source: the ``Source`` protocol on a Kubernetes API server via the official client.

Lists and watches travel as raw JSON (decoded with orjson, garbage collector paused) rather than
as the client's typed models, which are 40x slower and 100x bigger on large meshes. Importing
this module is cheap: ``kubernetes`` is imported when a source is opened.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from meshtui.sources.base import (
    ApplyResult,
    Capabilities,
    ConfigurationError,
    ConflictError,
    ForbiddenError,
    InvalidObjectError,
    LoadError,
    NotFoundError,
    ObjectKey,
    OutcomeUnknownError,
    RawObject,
    Snapshot,
    SourceError,
    SourceEvent,
    UnauthorizedError,
    UnavailableError,
)
from meshtui.sources.kube_kinds import (
    ISTIO_GROUP,
    ISTIO_KINDS,
    OPTIONAL_CRDS,
    PAGE_SIZE,
    KindSpec,
    discover,
    list_kind,
)
from meshtui.model.gateway_api import GATEWAY_API_GROUP, GATEWAY_API_KINDS
from meshtui.model.managed_fields import FIELD_MANAGER, last_writer
from meshtui.sources.kube_pods import envoy_admin_get, list_pods, stream_logs
from meshtui.sources.kube_rest import READ_TIMEOUT, HttpError, Rest, one_line
from meshtui.sources.kube_watch import WatchSettings, watch_kinds
from meshtui.util.gcpause import gc_paused

# Kinds meshtui may write, by (group, kind) -> plural. Pods and Endpoints are read-only; a
# Namespace is written only for its labels (ambient enrolment: ``meshtui waypoint use namespace/NS``).
_WRITABLE: dict[tuple[str, str], str] = {
    **{(ISTIO_GROUP, kind): plural for kind, plural in ISTIO_KINDS},
    **{(group, kind): plural for group, kind, plural in OPTIONAL_CRDS},
    # Gateway API routes and gateways (GatewayClass is cluster-scoped: not edited here).
    **{(GATEWAY_API_GROUP, kind): plural for kind, plural in GATEWAY_API_KINDS if kind != "GatewayClass"},
    ("", "Service"): "services",
    ("", "ConfigMap"): "configmaps",
    ("", "Namespace"): "namespaces",
}
_CLUSTER_SCOPED = frozenset({("", "Namespace")})
# Enough pooled connections for one watch per kind plus lists, writes and log streams.
_POOL_SIZE = 32


class KubeSource:
    """A live cluster (kubeconfig context or in-cluster service account) as a ``Source``.

    ``namespace=None`` reads all namespaces. Pods are slimmed to the fields meshtui uses
    (``meshtui.sources.kube_slim``); every other object is kept whole, so unknown fields survive
    a write. Every record carries the ``apiVersion`` it was read with, and writes go back to
    that version.
    """

    description: str

    def __init__(
        self,
        api_client: Any,
        *,
        description: str,
        namespace: str | None = None,
        read_only: bool = False,
        settings: WatchSettings | None = None,
        on_close: Callable[[], None] | None = None,
        page_size: int = PAGE_SIZE,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        self.api_client = api_client
        self.rest = Rest(api_client, read_timeout=read_timeout)
        self.description = description
        self.namespace = namespace or None
        self.read_only = read_only
        self.settings = settings or WatchSettings()
        self.page_size = page_size
        self._on_close = on_close
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._specs: list[KindSpec] | None = None
        self._discovery_errors: list[LoadError] = []
        self._resume: dict[str, str] = {}
        self._rbac_checked = False
        self._rbac_reason: str | None = None
        self._forbidden_reason: str | None = None

    #: The kubeconfig file this source was opened from (None: default location or in-cluster).
    kubeconfig: str | None = None

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def from_kubeconfig(
        cls,
        kubeconfig: str | None = None,
        context: str | None = None,
        read_only: bool = False,
        *,
        namespace: str | None = None,
        settings: WatchSettings | None = None,
        on_close: Callable[[], None] | None = None,
        page_size: int = PAGE_SIZE,
        read_timeout: float = READ_TIMEOUT,
    ) -> "KubeSource":
        """Open the kubeconfig ``context`` (default: current context) of ``kubeconfig`` (default:
        ``$KUBECONFIG`` or ``~/.kube/config``); in a pod without a kubeconfig, the in-cluster
        service account. Nothing is contacted yet. Raises ``ConfigurationError`` with a
        one-line cause."""
        client, config = _kubernetes()

        if kubeconfig is None and context is None and _in_cluster_only():
            return cls.in_cluster(read_only, namespace=namespace, settings=settings, page_size=page_size,
                                  read_timeout=read_timeout)
        _check_kubeconfig_exists(kubeconfig)
        cfg = client.Configuration()
        try:
            contexts, current = config.list_kube_config_contexts(kubeconfig)
            names = [c.get("name") for c in contexts or ()]
            if context is not None and context not in names:
                raise ConfigurationError(f"kubeconfig: no context named {context!r} (have: {', '.join(names)})")
            config.load_kube_config(
                config_file=kubeconfig, context=context, client_configuration=cfg, persist_config=False
            )
        except SourceError:
            raise
        except Exception as exc:  # ConfigException, OSError, YAML errors, malformed entries
            where = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
            cause = str(exc) if isinstance(exc, config.ConfigException) else f"{type(exc).__name__}: {exc}"
            raise ConfigurationError(f"kubeconfig {where}: {one_line(cause, 200)}") from exc
        name = context or (current or {}).get("name") or "kubernetes"
        source = cls(_api_client(cfg), description=name, namespace=namespace, read_only=read_only,
                     settings=settings, on_close=on_close, page_size=page_size, read_timeout=read_timeout)
        source.kubeconfig = kubeconfig
        return source

    @classmethod
    def in_cluster(
        cls, read_only: bool = False, *, namespace: str | None = None,
        settings: WatchSettings | None = None, page_size: int = PAGE_SIZE, read_timeout: float = READ_TIMEOUT,
    ) -> "KubeSource":
        """Open the API server of the pod we run in, with its service account."""
        client, config = _kubernetes()

        cfg = client.Configuration()
        try:
            config.load_incluster_config(client_configuration=cfg)
        except config.ConfigException as exc:
            raise ConfigurationError(f"in-cluster config: {one_line(str(exc), 200)}") from exc
        return cls(_api_client(cfg), description="in-cluster", namespace=namespace,
                   read_only=read_only, settings=settings, page_size=page_size, read_timeout=read_timeout)

    # -- reading -----------------------------------------------------------------------------

    def specs(self) -> list[KindSpec]:
        """The kinds read on this server (discovered once)."""
        with self._lock:
            if self._specs is None:
                try:
                    self._specs, self._discovery_errors = discover(self.rest)
                except HttpError as exc:
                    raise _read_error(exc, self.rest.host) from exc
            return self._specs

    def snapshot(self) -> Snapshot:
        """List every kind meshtui reads, in pages of 500 (see ``KubeSource`` on pods).

        A kind that cannot be listed (e.g. 403) becomes a ``LoadError``; the rest still loads.
        ``resume`` holds the list resourceVersion of each kind. Raises ``UnavailableError`` when
        the server cannot be reached.
        """
        specs = self.specs()
        errors = list(self._discovery_errors)
        objects: list[RawObject] = []
        resume: dict[str, str] = {}
        # A few lists in flight hide the round trips; decoding is serialised by the GIL anyway.
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="meshtui-list") as pool:
            futures = [
                (spec, pool.submit(list_kind, self.rest, spec, self.namespace, self.page_size))
                for spec in specs
            ]
            for spec, future in futures:
                try:
                    records, rv = future.result()
                except HttpError as exc:
                    if not (spec.optional and exc.status in (403, 404)):
                        errors.append(LoadError(f"cannot list {spec.plural}: {exc.message}"))
                    continue
                objects.extend(records)
                resume[spec.index_kind] = rv
        with self._lock:
            self._resume = dict(resume)
        return Snapshot(objects=objects, errors=errors, resume=resume)

    def watch(self, stop: threading.Event, resume: dict[str, str] | None = None) -> Iterator[SourceEvent]:
        """Yield changes after ``resume`` (default: where the last snapshot or watch got to) until
        ``stop`` is set or the source is closed. One thread per kind; see ``kube_watch``."""
        specs = self.specs()
        with self._lock:
            start = dict(self._resume if resume is None else resume)
        if resume is not None:
            # Kinds a snapshot could not list (e.g. forbidden) are not watched either.
            specs = [s for s in specs if s.index_kind in resume]

        def progress(kind: str, rv: str) -> None:
            with self._lock:
                self._resume[kind] = rv

        return watch_kinds(self.rest, specs, self.namespace, start, (stop, self._closed), self.settings, progress)

    # -- writing -----------------------------------------------------------------------------

    def origin(self, key: ObjectKey) -> str | None:
        """None: the API server names who changed an object (``metadata.managedFields``)."""
        return None

    def read_only_reason(self) -> str | None:
        """``--read-only``, a 403 met on a write, or RBAC denying update on VirtualServices
        (a SelfSubjectAccessReview, asked once); None when writes are allowed."""
        if self.read_only:
            return "--read-only"
        if self._forbidden_reason:
            return self._forbidden_reason
        if not self._rbac_checked:
            self._rbac_reason, self._rbac_checked = self._access_review()
        return self._rbac_reason

    def _access_review(self) -> tuple[str | None, bool]:
        """(reason or None, whether the answer may be cached)."""
        attrs = {"group": ISTIO_GROUP, "resource": "virtualservices", "verb": "update"}
        if self.namespace:
            attrs["namespace"] = self.namespace
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attrs},
        }
        try:
            review = self.rest.json("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", (), body)
        except HttpError:
            return None, True  # the server cannot tell us; a write will
        except UnavailableError:
            return None, False
        status = (review or {}).get("status") or {}
        if status.get("allowed"):
            return None, True
        where = f"in namespace {self.namespace}" if self.namespace else "cluster-wide"
        why = f" ({one_line(status['reason'], 120)})" if status.get("reason") else ""
        return f"RBAC: may not update virtualservices {where}{why}", True

    def apply(self, obj: RawObject, *, base: RawObject, dry_run: bool = False) -> ApplyResult:
        """Replace the object with ``obj`` if it is still at ``base``'s resourceVersion.

        A server-side dry run (``dryRun=All``) always goes first; unless ``dry_run``, the real
        PUT follows with the same precondition. Errors: ``ForbiddenError`` (read-only, 403),
        ``ConflictError`` (409, with the object as it is now), ``InvalidObjectError`` (422/400,
        with field paths), ``NotFoundError`` (deleted meanwhile), ``UnavailableError``, and
        ``OutcomeUnknownError`` when the real PUT went out and no answer came back.
        """
        if self.read_only:
            raise ForbiddenError("read-only (--read-only): nothing was written")
        spec, namespace, name, body = self._write_plan(obj, base)
        key = ObjectKey(spec.kind, namespace, name)
        path = spec.object_path(namespace, name)
        try:
            try:
                result = self.rest.json("PUT", path, [("dryRun", "All"), ("fieldManager", FIELD_MANAGER)], body)
            except OutcomeUnknownError as exc:  # a dry run writes nothing: its lost answer is just that
                raise UnavailableError(str(exc)) from exc
            if not dry_run:
                result = self.rest.json("PUT", path, [("fieldManager", FIELD_MANAGER)], body)
        except HttpError as exc:
            raise self._write_error(exc, spec, key, body["metadata"]["resourceVersion"]) from exc
        return ApplyResult(object=spec.record(result or {}), dry_run=dry_run)

    def _write_plan(self, obj: RawObject, base: RawObject) -> tuple[KindSpec, str, str, RawObject]:
        """The kind, namespace, name and request body of a write, or InvalidObjectError."""
        api_version = str(base.get("apiVersion") or obj.get("apiVersion") or "")
        kind = str(base.get("kind") or obj.get("kind") or "")
        group, _, version = api_version.rpartition("/")
        plural = _WRITABLE.get((group, kind))
        if plural is None or not version:
            raise InvalidObjectError(f"cannot write {kind or 'an object without kind'} ({api_version}) here")
        bmeta, meta = base.get("metadata") or {}, obj.get("metadata") or {}
        name = str(bmeta.get("name") or "")
        namespace = str(bmeta.get("namespace") or meta.get("namespace") or "")
        if meta.get("name", name) != name or meta.get("namespace", namespace) != namespace:
            raise InvalidObjectError(f"{kind} {namespace}/{name}: name and namespace cannot change")
        rv = bmeta.get("resourceVersion")
        namespaced = (group, kind) not in _CLUSTER_SCOPED
        if not (name and (namespace or not namespaced) and rv):
            raise InvalidObjectError(f"{kind} {namespace}/{name}: base lacks name, namespace or resourceVersion")
        # Only apiVersion, kind and the precondition are set; every other field is sent as given.
        where = {"namespace": namespace} if namespaced else {}
        body = {**obj, "apiVersion": api_version, "kind": kind,
                "metadata": {**meta, "name": name, **where, "resourceVersion": rv}}
        return KindSpec(kind, group, version, plural, namespaced=namespaced), namespace, name, body

    def _write_error(self, exc: HttpError, spec: KindSpec, key: ObjectKey, rv: str) -> SourceError:
        if exc.status == 409:
            current = self._get(spec, key)
            now = ((current or {}).get("metadata") or {}).get("resourceVersion")
            change = f"resourceVersion {rv} -> {now}" if current else "it was deleted"
            writer = last_writer(current) if current else None
            if writer is not None:
                change += f", by {writer}"
            return ConflictError(f"{key} changed since it was read ({change}); nothing was written", current)
        if exc.status in (401, 403):
            self._forbidden_reason = f"forbidden: {exc.message}"
            return ForbiddenError(f"{key}: forbidden: {exc.message}")
        if exc.status in (400, 422):
            causes = [str(c.get("field")) for c in exc.causes if c.get("field")]
            return InvalidObjectError(f"{key}: {exc.message}", causes)
        if exc.status == 404:
            return NotFoundError(f"{key} no longer exists; nothing was written")
        return UnavailableError(f"{key}: HTTP {exc.status}: {exc.message}")

    def _get(self, spec: KindSpec, key: ObjectKey) -> RawObject | None:
        try:
            obj = self.rest.json("GET", spec.object_path(key.namespace, key.name))
        except (HttpError, UnavailableError):
            return None
        return spec.record(obj) if isinstance(obj, dict) else None

    # -- pods ----------------------------------------------------------------------------------

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
        """Yield the container's log lines; follow until ``stop`` is set or the source closes."""
        stops = (stop, self._closed) if stop is not None else (self._closed,)
        return stream_logs(self.rest, namespace, pod, container=container, follow=follow,
                           tail_lines=tail_lines, since_seconds=since_seconds, stops=stops)

    def envoy_admin(self, namespace: str, pod: str, path: str) -> bytes:
        """GET ``path`` from the pod's Envoy admin (port 15000) through the API server."""
        return envoy_admin_get(self.rest, namespace, pod, path)

    def pods(self, namespace: str, *, label_selector: str = "", field_selector: str = "") -> list[RawObject]:
        """The pods of ``namespace`` matching the selectors, listed now (whatever this source's scope)."""
        return list_pods(self.rest, namespace, label_selector=label_selector, field_selector=field_selector)

    @property
    def capabilities(self) -> Capabilities:
        """A cluster has everything; contexts only when opened from a kubeconfig."""
        return Capabilities(contexts=self.description != "in-cluster", envoy_admin=True, logs=True,
                            live_proxies=True, read_only="--read-only" if self.read_only else None)

    def contexts(self) -> list[str]:
        """The context names of this source's kubeconfig (empty in-cluster)."""
        from kubernetes import config

        if self.description == "in-cluster":
            return []
        try:
            contexts, _ = config.list_kube_config_contexts(self.kubeconfig)
        except Exception:  # noqa: BLE001 - an unreadable kubeconfig simply offers no contexts
            return []
        return [c.get("name") for c in contexts or () if c.get("name")]

    def with_context(self, context: str) -> "KubeSource":
        """A new source on another context of the same kubeconfig, with the same scope and
        read-only setting. It takes over ``on_close`` (the demo's sandbox lives on); close this
        one afterwards. Raises ``SourceError`` with a one-line cause."""
        new = KubeSource.from_kubeconfig(
            self.kubeconfig, context=context, read_only=self.read_only, namespace=self.namespace,
            settings=self.settings, on_close=self._on_close, page_size=self.page_size,
            read_timeout=self.rest.read_timeout,
        )
        self._on_close = None
        return new

    def close(self) -> None:
        """End watches and log streams, close pooled connections, then run ``on_close``."""
        if self._closed.is_set():
            return
        self._closed.set()
        try:
            self.api_client.close()
        finally:
            if self._on_close is not None:
                self._on_close()


def _kubernetes() -> tuple[Any, Any]:
    """The ``kubernetes.client`` and ``kubernetes.config`` modules.

    The first import builds a few hundred thousand objects (every generated model class) that
    live as long as the process. With the collector on, a generation-2 pass triggered midway
    walks them all in one go: a 60 ms stall of the UI's event loop (measured at the start of a
    load). The import runs with the collector paused and what it made is frozen afterwards.
    """
    with gc_paused(freeze="kubernetes.client" not in sys.modules):
        from kubernetes import client, config
    return client, config


def _api_client(cfg: Any) -> Any:
    """An ApiClient on ``cfg`` with a pool big enough for our concurrent watches and safe retries."""
    from kubernetes import client

    import urllib3

    cfg.connection_pool_maxsize = _POOL_SIZE
    # Retry connection failures, but never resend a PUT/POST whose answer was lost: a replayed
    # write would meet its own new resourceVersion and look like somebody else's conflict.
    cfg.retries = urllib3.Retry(total=3, allowed_methods=frozenset({"GET", "HEAD", "OPTIONS"}))
    if hasattr(cfg, "keep_alive"):
        # TCP keepalive (as client-go) notices a dead network under a quiet log stream.
        cfg.keep_alive = True
    return client.ApiClient(cfg)


def _read_error(exc: HttpError, host: str) -> SourceError:
    """The error for a failed discovery read: 401 means the credentials, anything else the server."""
    if exc.status == 401:
        return UnauthorizedError(f"{host}: unauthorized (HTTP 401: {exc.message}): the token or "
                                 "certificate of this context is not accepted")
    return UnavailableError(f"{host}: HTTP {exc.status}: {exc.message}")


def _check_kubeconfig_exists(kubeconfig: str | None) -> None:
    """A one-line ``ConfigurationError`` for a kubeconfig that is not there at all (the client
    says "No configuration found", which does not name the file)."""
    if kubeconfig is not None:
        if not os.path.exists(kubeconfig):
            raise ConfigurationError(f"kubeconfig {kubeconfig}: no such file")
        if os.path.isdir(kubeconfig):
            raise ConfigurationError(f"kubeconfig {kubeconfig}: is a directory")
        return
    paths = [p for p in (os.environ.get("KUBECONFIG") or "").split(os.pathsep) if p]
    if paths:
        if not any(os.path.isfile(os.path.expanduser(p)) for p in paths):
            raise ConfigurationError(f"kubeconfig $KUBECONFIG={os.environ['KUBECONFIG']}: no such file")
        return
    if not os.path.isfile(os.path.expanduser("~/.kube/config")):
        raise ConfigurationError("no kubeconfig: ~/.kube/config does not exist and $KUBECONFIG is not set "
                                 "(give --kubeconfig FILE, or use --demo or --files DIR)")


def _in_cluster_only() -> bool:
    """True in a pod with a service account and no kubeconfig to prefer."""
    if os.environ.get("KUBECONFIG") or os.path.exists(os.path.expanduser("~/.kube/config")):
        return False
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and os.path.exists(
        "/var/run/secrets/kubernetes.io/serviceaccount/token"
    )
