"""Istio's ``ValidateServiceEntry``, ``ValidateWorkloadEntry`` and ``ValidateWorkloadGroup``."""

from __future__ import annotations

from typing import Any

from meshtui.analysis.validation.common import (
    UNIX_PREFIX, Result, check_alpha_workload_selector, check_export_to, check_fqdn, check_ip_subnet, check_labels,
    check_partial_wildcard, check_port, check_port_name, check_protocol, check_unix_address, check_wildcard_domain,
    is_http, is_ip, is_tcp, is_tls, items, num, obj, parse_protocol, text,
)
from meshtui.analysis.validation.headers import (
    check_probe_header_name,
)

AUTOALLOCATE_LABEL = "networking.istio.io/enable-autoallocate-ip"
USE_WAYPOINT_LABEL = "istio.io/use-waypoint"
_RESOLUTIONS = ("NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS")


def check_workload_entry(result: Result, we: dict[str, Any], service_ports: set[str] | None, allow_fqdn: bool,
                         path: str) -> None:
    """``validateWorkloadEntry`` (a WorkloadEntry's spec, or a STATIC ServiceEntry endpoint)."""
    addr = text(we.get("address"))
    if not addr:
        if not text(we.get("network")):
            result.error("address is required", f"{path}.address")
            return
        result.warn(f'address is unset with network "{we["network"]}"', f"{path}.address")
    unix = False
    if addr.startswith(UNIX_PREFIX):
        unix = True
        result.add(check_unix_address(addr[len(UNIX_PREFIX):]), f"{path}.address")
        if obj(we.get("ports")):
            result.error(f"unix endpoint {addr} must not include ports", f"{path}.ports")
    elif addr and not is_ip(addr):
        if not allow_fqdn:
            result.error(f'endpoint address "{addr}" is not a valid IP address', f"{path}.address")
        elif check_fqdn(addr):
            result.error(f'endpoint address "{addr}" is not a valid FQDN or an IP address', f"{path}.address")
    for name, port in obj(we.get("ports")).items():
        if service_ports is not None and str(name) not in service_ports:
            result.error(f"endpoint port {port} is not defined by the service entry", f"{path}.ports")
        result.add(check_port_name(str(name)), f"{path}.ports")
        result.add(check_port(port), f"{path}.ports")
    result.add_all(check_labels(we.get("labels")), f"{path}.labels")
    if unix and service_ports is not None and len(service_ports) != 1:
        result.error("exactly 1 service port required for unix endpoints", path)


def validate_workload_entry(spec: dict[str, Any]) -> Result:
    """``ValidateWorkloadEntry``."""
    result = Result()
    check_workload_entry(result, spec, None, True, "spec")
    return result


def _check_probe(result: Result, probe: Any, path: str) -> None:
    if not isinstance(probe, dict):
        return
    for key in ("periodSeconds", "initialDelaySeconds", "timeoutSeconds", "successThreshold", "failureThreshold"):
        if num(probe.get(key)) < 0:
            result.error(f"{key} must be non-negative", f"{path}.{key}")
    if "httpGet" in probe:
        h = probe["httpGet"]
        if not isinstance(h, dict):
            result.error("httpGet may not be nil", f"{path}.httpGet")
            return
        result.add(check_port(h.get("port")), f"{path}.httpGet.port")
        scheme = text(h.get("scheme"))
        if scheme and scheme not in ("HTTPS", "HTTP"):
            result.error('httpGet.scheme must be one of "HTTPS", "HTTP"', f"{path}.httpGet.scheme")
        for header in items(h.get("httpHeaders")):
            if not isinstance(header, dict):
                result.error("invalid nil header", f"{path}.httpGet.httpHeaders")
                continue
            result.add(check_probe_header_name(text(header.get("name"))), f"{path}.httpGet.httpHeaders")
    elif "tcpSocket" in probe:
        h = probe["tcpSocket"]
        if not isinstance(h, dict):
            result.error("tcpSocket may not be nil", f"{path}.tcpSocket")
            return
        result.add(check_port(h.get("port")), f"{path}.tcpSocket.port")
    elif "exec" in probe:
        h = probe["exec"]
        if not isinstance(h, dict):
            result.error("exec may not be nil", f"{path}.exec")
            return
        if not items(h.get("command")):
            result.error("exec.command is required", f"{path}.exec.command")
    else:
        result.error("unknown health check method <nil>", path)


def validate_workload_group(spec: dict[str, Any]) -> Result:
    """``ValidateWorkloadGroup``: a template is required; labels and the readiness probe are checked."""
    result = Result()
    if not isinstance(spec.get("template"), dict):
        result.error("template is required", "spec.template")
        return result
    meta = spec.get("metadata")
    if isinstance(meta, dict):
        errs = check_labels(meta.get("labels"))
        if errs:
            result.error(f"invalid labels: {errs[0]}", "spec.metadata.labels")
            return result
    _check_probe(result, spec.get("probe"), "spec.probe")
    return result


def _auto_allocates(labels: dict[str, str], spec: dict[str, Any], resolution: str) -> bool:
    """``ShouldV2AutoAllocateIPFromConfig`` with Istio's default (auto-allocation on)."""
    if resolution == "NONE":
        return False
    if labels.get(AUTOALLOCATE_LABEL, "").lower() == "false":
        return False
    return not items(spec.get("addresses"))


def validate_service_entry(namespace: str, labels: dict[str, str], spec: dict[str, Any]) -> Result:
    """``ValidateServiceEntry``."""
    result = Result()
    selector = spec.get("workloadSelector")
    warning, errors = check_alpha_workload_selector(selector)
    if errors:
        result.add_all(errors, "spec.workloadSelector")
        return result
    if warning:
        result.warn(f"service entry: {warning}, will be applied to all services in namespace", "spec.workloadSelector")
    endpoints = spec.get("endpoints")
    if isinstance(selector, dict) and endpoints is not None:
        result.error("only one of WorkloadSelector or Endpoints is allowed in Service Entry", "spec")
    endpoints = items(endpoints)
    hosts = [str(h) for h in items(spec.get("hosts"))]
    resolution = text(spec.get("resolution")) or "NONE"
    if not hosts:
        result.error("service entry must have at least one host", "spec.hosts")
    for i, h in enumerate(hosts):
        if h == "*":
            result.error(f"invalid host {h}", f"spec.hosts[{i}]")
            continue
        result.add(check_wildcard_domain(h), f"spec.hosts[{i}]")
        if resolution != "DYNAMIC_DNS":
            partial = check_partial_wildcard(h)
            if partial:
                result.warn(partial, f"spec.hosts[{i}]")
    addresses = [str(a) for a in items(spec.get("addresses"))]
    for i, a in enumerate(addresses):
        result.add(check_ip_subnet(a), f"spec.addresses[{i}]")
    if any("/" in a for a in addresses) and resolution not in ("NONE", "STATIC"):
        result.error("CIDR addresses are allowed only for NONE/STATIC resolution types", "spec.addresses")
    auto = _auto_allocates(labels, spec, resolution)
    names: set[str] = set()
    numbers: set[int] = set()
    ports = items(spec.get("ports"))
    for i, port in enumerate(ports):
        p = f"spec.ports[{i}]"
        if not isinstance(port, dict):
            result.error("service entry port may not be null", p)
            continue
        name, number, protocol = text(port.get("name")), int(num(port.get("number"))), text(port.get("protocol"))
        if name in names:
            result.error(f'service entry port name "{name}" already defined', f"{p}.name")
        names.add(name)
        if number in numbers:
            result.error(f"service entry port {number} already defined", f"{p}.number")
        numbers.add(number)
        if num(port.get("targetPort")):
            result.add(check_port(port.get("targetPort")), f"{p}.targetPort")
        if not addresses and not auto and protocol in ("", "TCP"):
            result.warn("addresses are required for ports serving TCP (or unset) protocol when IP Autoallocation is "
                        "not enabled", p)
        result.add(check_port_name(name), f"{p}.name")
        result.add(check_protocol(protocol), f"{p}.protocol")
        result.add(check_port(port.get("number")), f"{p}.number")
    if resolution == "NONE":
        if endpoints:
            result.error("no endpoints should be provided for resolution type none", "spec.endpoints")
        if isinstance(selector, dict):
            result.warn("workloadSelector should not be set when resolution mode is NONE", "spec.workloadSelector")
    elif resolution == "STATIC":
        for i, ep in enumerate(endpoints):
            if not isinstance(ep, dict):
                result.error("endpoint cannot be nil", f"spec.endpoints[{i}]")
                continue
            check_workload_entry(result, ep, names, False, f"spec.endpoints[{i}]")
    elif resolution in ("DNS", "DNS_ROUND_ROBIN"):
        if not endpoints:
            for i, h in enumerate(hosts):
                err = check_fqdn(h)
                if err:
                    result.error("hosts must be FQDN or contain only prefix wildcards if no endpoints are provided for "
                                 f"resolution mode {resolution}, {err}", f"spec.hosts[{i}]")
                    break
        if resolution == "DNS_ROUND_ROBIN" and len(endpoints) > 1:
            result.error(f"there must only be 0 or 1 endpoint for resolution mode {resolution}", "spec.endpoints")
        for i, ep in enumerate(endpoints):
            p = f"spec.endpoints[{i}]"
            if not isinstance(ep, dict):
                result.error("endpoint cannot be nil", p)
                continue
            addr = text(ep.get("address"))
            if not is_ip(addr) and check_fqdn(addr):
                result.error(f'endpoint address "{addr}" is not a valid FQDN or an IP address', f"{p}.address")
            result.add_all(check_labels(ep.get("labels")), f"{p}.labels")
            for name, port in obj(ep.get("ports")).items():
                if str(name) not in names:
                    result.error(f"endpoint port {port} is not defined by the service entry", f"{p}.ports")
                result.add(check_port_name(str(name)), f"{p}.ports")
                result.add(check_port(port), f"{p}.ports")
        if addresses:
            for port in ports:
                if isinstance(port, dict) and is_tcp(text(port.get("protocol"))):
                    if len(hosts) > 1:
                        result.warn("service entry can not have more than one host specified simultaneously with "
                                    "address and tcp port", "spec.hosts")
                    break
    elif resolution == "DYNAMIC_DNS":
        for h in hosts:
            if not h.startswith("*"):
                result.error(f"host must be wildcarded for resolution mode {resolution}", "spec.hosts")
        if addresses:
            result.error(f"addresses cannot be set for resolution type {resolution}. HTTP route domains will only be "
                         "generatedfrom the hosts field values", "spec.addresses")
        if endpoints:
            result.error(f"endpoints cannot be set for resolution type {resolution}. Destination IP address "
                         "determined from hostsfield values", "spec.endpoints")
        for i, port in enumerate(ports):
            if isinstance(port, dict) and parse_protocol(text(port.get("protocol"))) not in ("HTTP", "TLS", "GRPC",
                                                                                              "HTTP2"):
                result.error(f"only HTTP, TLS, GRPC, and HTTP2 protocols are supported for resolution type {resolution}",
                             f"spec.ports[{i}].protocol")
        location = text(spec.get("location")) or "MESH_EXTERNAL"
        if location not in ("MESH_EXTERNAL", "MESH_INTERNAL"):
            result.error(f"location must be MESH_EXTERNAL or MESH_INTERNAL for resolution type {resolution}",
                         "spec.location")
        waypoint = labels.get(USE_WAYPOINT_LABEL, "")
        if location == "MESH_INTERNAL" and waypoint and waypoint.lower() != "none":
            result.error(f"location MESH_INTERNAL with resolution type {resolution} is not supported when using "
                         "waypoints", "spec.location")
    else:
        result.error(f"unsupported resolution type {resolution}", "spec.resolution")
    if resolution != "NONE" and len(hosts) > 1:
        for port in ports:
            if isinstance(port, dict):
                protocol = text(port.get("protocol"))
                if not is_http(protocol) and not is_tls(protocol):
                    result.error("multiple hosts provided with non-HTTP, non-TLS ports", "spec.ports")
                    break
    result.add_all(check_export_to(namespace, spec.get("exportTo"), True, False), "spec.exportTo")
    return result

