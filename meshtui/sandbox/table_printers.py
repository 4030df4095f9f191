"""Server-side printers of the core kinds the sandbox serves, after Kubernetes'
``pkg/printers/internalversion/printers.go``: the columns ``kubectl get`` shows against a real
cluster (priority-1 columns are the ``-o wide`` ones) and the same cell logic (pod READY, STATUS
and RESTARTS, service EXTERNAL-IP and PORT(S), endpoints "+ N more...", ages as
``HumanDuration``). Also the duration and timestamp helpers ``meshtui.sandbox.tables`` uses.

A printer is ``(column definitions, row function)``; a row function returns the cells and the
row conditions (pods that completed) of one object.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

Row = tuple[list[Any], list[dict[str, str]] | None]  # cells, row conditions
RowFunc = Callable[[dict[str, Any], datetime], Row]
NAME_DOC = ("Name must be unique within a namespace. Is required when creating resources, although some "
            "resources may allow a client to request the generation of an appropriate name automatically. "
            "Name is primarily intended for creation idempotence and configuration definition. Cannot be "
            "updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")
AGE_DOC = ("CreationTimestamp is a timestamp representing the server time when this object was created. "
           "It is not guaranteed to be set in happens-before order across separate operations. Clients may "
           "not set this value. It is represented in RFC3339 form and is in UTC.")


def column(name: str, type_: str = "string", description: str = "", priority: int = 0,
           format_: str = "") -> dict[str, Any]:
    """A ``TableColumnDefinition`` (every field present, as Go serializes it)."""
    return {"name": name, "type": type_, "format": format_, "description": description, "priority": priority}


NAME_COL = column("Name", "string", NAME_DOC, 0, "name")
AGE_COL = column("Age", "string", AGE_DOC)


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as an aware datetime, or None when absent or malformed."""
    if not isinstance(value, str) or not value:
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def human_duration(d: timedelta) -> str:
    """apimachinery's ``duration.HumanDuration`` (core AGE cells: ``5m10s``, ``3h20m``, ``2d4h``)."""
    s = d.total_seconds()
    if int(s) < -1:
        return "<invalid>"
    if int(s) < 0:
        return "0s"
    if int(s) < 120:
        return f"{int(s)}s"
    minutes, hours = int(s // 60), int(s // 3600)
    if minutes < 10:
        return f"{minutes}m" + (f"{int(s) % 60}s" if int(s) % 60 else "")
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h" + (f"{minutes % 60}m" if minutes % 60 else "")
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" + (f"{hours % 24}h" if hours % 24 else "")
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" + (f"{days}d" if days else "")
    return f"{hours // 24 // 365}y"


def short_human_duration(d: timedelta) -> str:
    """apimachinery's ``duration.ShortHumanDuration`` (custom resources' date cells: ``5m``, ``3h``)."""
    s = d.total_seconds()
    if int(s) < -1:
        return "<invalid>"
    if int(s) < 0:
        return "0s"
    if int(s) < 60:
        return f"{int(s)}s"
    if int(s / 60) < 60:
        return f"{int(s / 60)}m"
    if int(s / 3600) < 24:
        return f"{int(s / 3600)}h"
    if int(s / 3600) < 24 * 365:
        return f"{int(s / 3600) // 24}d"
    return f"{int(s / 3600 / 24 / 365)}y"


def _name(obj: dict[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("name", "")


def _age(obj: dict[str, Any], now: datetime) -> str:
    t = parse_time((obj.get("metadata") or {}).get("creationTimestamp"))
    return "<unknown>" if t is None else human_duration(now - t)


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if b is not None and (a is None or b > a) else a


def _finished_at(cs: dict[str, Any]) -> datetime | None:
    return parse_time(((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt"))


def _condition_true(status: dict[str, Any], type_: str) -> bool:
    return any(c.get("type") == type_ and c.get("status") == "True" for c in status.get("conditions") or [])


def _exit_reason(term: dict[str, Any], prefix: str) -> str:
    if term.get("signal"):
        return f"{prefix}Signal:{term['signal']}"
    return f"{prefix}ExitCode:{term.get('exitCode', 0)}"


_POD_DONE = {"Succeeded": [{"type": "Completed", "status": "True", "reason": "Succeeded",
                            "message": "The pod has completed successfully."}],
             "Failed": [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]}


def pod_row(pod: dict[str, Any], now: datetime) -> Row:
    """``printPod``: READY counts sidecar (restartable init) containers, STATUS is the first
    init failure or the last container's waiting/terminated reason, RESTARTS notes the last one."""
    spec, status, meta = pod.get("spec") or {}, pod.get("status") or {}, pod.get("metadata") or {}
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for c in status.get("conditions") or []:
        if c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    inits = spec.get("initContainers") or []
    init_by_name = {c.get("name"): c for c in inits}

    def sidecar(name: Any) -> bool:
        return (init_by_name.get(name) or {}).get("restartPolicy") == "Always"

    total = len(spec.get("containers") or []) + sum(1 for c in inits if c.get("restartPolicy") == "Always")
    ready = restarts = sidecar_restarts = 0
    last: datetime | None = None
    last_sidecar: datetime | None = None
    initializing = False
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        restarts += cs.get("restartCount") or 0
        last = _later(last, _finished_at(cs))
        if sidecar(cs.get("name")):
            sidecar_restarts += cs.get("restartCount") or 0
            last_sidecar = _later(last_sidecar, _finished_at(cs))
        state = cs.get("state") or {}
        term, wait = state.get("terminated"), state.get("waiting")
        if term is not None and not term.get("exitCode"):
            continue
        if sidecar(cs.get("name")) and cs.get("started"):
            ready += 1 if cs.get("ready") else 0
            continue
        if term is not None:
            reason = "Init:" + term["reason"] if term.get("reason") else _exit_reason(term, "Init:")
        elif wait is not None and wait.get("reason") and wait["reason"] != "PodInitializing":
            reason = "Init:" + wait["reason"]
        else:
            reason = f"Init:{i}/{len(inits)}"
        initializing = True
        break
    if not initializing or _condition_true(status, "Initialized"):
        restarts, last = sidecar_restarts, last_sidecar
        running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += cs.get("restartCount") or 0
            last = _later(last, _finished_at(cs))
            state = cs.get("state") or {}
            term, wait = state.get("terminated"), state.get("waiting")
            if wait is not None and wait.get("reason"):
                reason = wait["reason"]
            elif term is not None:
                reason = term.get("reason") or _exit_reason(term, "")
            elif cs.get("ready") and state.get("running") is not None:
                running = True
                ready += 1
        if reason == "Completed" and running:
            reason = "Running" if _condition_true(status, "Ready") else "NotReady"
    if meta.get("deletionTimestamp") and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif meta.get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"
    restarts_cell = f"{restarts} ({human_duration(now - last)} ago)" if restarts and last else str(restarts)
    ips = status.get("podIPs") or []
    gates = spec.get("readinessGates") or []
    gates_cell = "<none>"
    if gates:
        conds: dict[Any, Any] = {}
        for c in status.get("conditions") or []:
            conds.setdefault(c.get("type"), c.get("status"))
        gates_cell = f"{sum(1 for g in gates if conds.get(g.get('conditionType')) == 'True')}/{len(gates)}"
    cells = [_name(pod), f"{ready}/{total}", reason, restarts_cell, _age(pod, now),
             (ips[0].get("ip") if ips else "") or "<none>", spec.get("nodeName") or "<none>",
             status.get("nominatedNodeName") or "<none>", gates_cell]
    return cells, _POD_DONE.get(phase)


def format_labels(labels: dict[str, Any] | None) -> str:
    """``labels.FormatLabels``: ``k=v`` sorted by key, comma-joined; ``<none>`` when empty."""
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels)) if labels else "<none>"


def _external_ip(spec: dict[str, Any], status: dict[str, Any]) -> str:
    type_, external = spec.get("type"), spec.get("externalIPs") or []
    if type_ in ("ClusterIP", "NodePort"):
        return ",".join(external) or "<none>"
    if type_ == "LoadBalancer":
        lb: list[str] = []
        for ing in (status.get("loadBalancer") or {}).get("ingress") or []:
            addr = ing.get("ip") or ing.get("hostname")
            if addr and addr not in lb:
                lb.append(addr)
        return ",".join(lb + external) or "<pending>"
    if type_ == "ExternalName":
        return spec.get("externalName") or ""
    return "<unknown>"


def service_row(svc: dict[str, Any], now: datetime) -> Row:
    """``printService``: TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S) (``port[:nodePort]/proto``), SELECTOR."""
    spec = svc.get("spec") or {}
    # clusterIPs is defaulted from clusterIP by a real API server; accept either.
    ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    ports = ",".join(f"{p.get('port')}:{p['nodePort']}/{p.get('protocol', '')}" if p.get("nodePort")
                     else f"{p.get('port')}/{p.get('protocol', '')}" for p in spec.get("ports") or [])
    return [_name(svc), spec.get("type") or "", ips[0] if ips else "<none>",
            _external_ip(spec, svc.get("status") or {}), ports or "<none>", _age(svc, now),
            format_labels(spec.get("selector"))], None


def _more(items: list[str], count: int, maximum: int = 3, empty: str = "<unset>") -> str:
    text = ",".join(items[:maximum])
    return f"{text} + {count - maximum} more..." if count > maximum else (text or empty)


def _host_port(ip: str, port: Any) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def endpoints_row(ep: dict[str, Any], now: datetime) -> Row:
    """``printEndpoints``: up to three ``ip:port`` then ``+ N more...``; ``<none>`` without subsets."""
    subsets = ep.get("subsets") or []
    items: list[str] = []
    count = 0
    for ss in subsets:
        addrs = [a.get("ip", "") for a in ss.get("addresses") or []]
        for port in ss.get("ports") or [None]:
            count += len(addrs)
            items += [a if port is None else _host_port(a, port.get("port")) for a in addrs]
    return [_name(ep), _more(items, count, empty="") if subsets else "<none>", _age(ep, now)], None


def endpointslice_row(es: dict[str, Any], now: datetime) -> Row:
    """``printEndpointSlice``: ADDRESSTYPE, PORTS, ENDPOINTS (three then ``+ N more...``)."""
    ports = [str(p["port"]) if p.get("port") is not None else (p.get("name") or "*") for p in es.get("ports") or []]
    addrs = [a for e in es.get("endpoints") or [] for a in e.get("addresses") or []]
    return [_name(es), es.get("addressType", ""), _more(ports, len(ports)), _more(addrs, len(addrs)),
            _age(es, now)], None


def _selector(sel: dict[str, Any] | None) -> str:
    """``LabelSelectorAsSelector(...).String()``: requirements sorted by key."""
    if sel is None:
        return ""
    reqs = [(k, f"{k}={v}") for k, v in (sel.get("matchLabels") or {}).items()]
    for e in sel.get("matchExpressions") or []:
        key, op, values = e.get("key", ""), e.get("operator"), ",".join(sorted(e.get("values") or []))
        text = {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})",
                "Exists": key, "DoesNotExist": f"!{key}"}.get(op)
        if text is None:
            return "<invalid>"
        reqs.append((key, text))
    return ",".join(t for _, t in sorted(reqs))


def deployment_row(d: dict[str, Any], now: datetime) -> Row:
    """``printDeployment``: READY ``ready/desired``, UP-TO-DATE, AVAILABLE; wide CONTAINERS, IMAGES, SELECTOR."""
    spec, status = d.get("spec") or {}, d.get("status") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    return [_name(d), f"{status.get('readyReplicas') or 0}/{spec.get('replicas') or 0}",
            status.get("updatedReplicas") or 0, status.get("availableReplicas") or 0, _age(d, now),
            ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers),
            _selector(spec.get("selector"))], None


CORE_PRINTERS: dict[str, tuple[list[dict[str, Any]], RowFunc]] = {
    "pods": ([NAME_COL, column("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
              column("Status", description="The aggregate status of the containers in this pod."),
              column("Restarts", description="The number of times the containers in this pod have been "
                                             "restarted and when the last container in this pod has restarted."),
              AGE_COL, column("IP", description="IP address allocated to the pod.", priority=1),
              column("Node", description="The node the pod is scheduled onto.", priority=1),
              column("Nominated Node", description="The node the scheduler nominated for preemption.", priority=1),
              column("Readiness Gates", description="Pod readiness gates that are true.", priority=1)], pod_row),
    "services": ([NAME_COL, column("Type", description="How the Service is exposed."),
                  column("Cluster-IP", description="The IP address of the service."),
                  column("External-IP", description="External IPs or load-balancer ingress of the service."),
                  column("Port(s)", description="The list of ports that are exposed by this service."), AGE_COL,
                  column("Selector", description="Route service traffic to pods with label keys and values "
                                                 "matching this selector.", priority=1)], service_row),
    "endpoints": ([NAME_COL, column("Endpoints", description="The set of all endpoints is the union of all subsets."),
                   AGE_COL], endpoints_row),
    "endpointslices": ([NAME_COL, column("AddressType", description="The type of address carried by this slice."),
                        column("Ports", description="Network ports exposed by each endpoint in this slice."),
                        column("Endpoints", description="Unique endpoints in this slice."), AGE_COL],
                       endpointslice_row),
    "namespaces": ([NAME_COL, column("Status", description="The status of the namespace"), AGE_COL],
                   lambda o, now: ([_name(o), (o.get("status") or {}).get("phase", ""), _age(o, now)], None)),
    "configmaps": ([NAME_COL, column("Data", description="Number of data and binaryData keys."), AGE_COL],
                   lambda o, now: ([_name(o), len(o.get("data") or {}) + len(o.get("binaryData") or {}),
                                    _age(o, now)], None)),
    "deployments": ([NAME_COL, column("Ready", description="Number of the pod with ready state"),
                     column("Up-to-date", description="Total number of non-terminated pods targeted by this "
                                                      "deployment that have the desired template spec."),
                     column("Available", description="Total number of available pods targeted by this deployment."),
                     AGE_COL, column("Containers", description="Names of each container in the template.", priority=1),
                     column("Images", description="Images referenced by each container in the template.", priority=1),
                     column("Selector", description="Label selector for pods.", priority=1)], deployment_row),
}
