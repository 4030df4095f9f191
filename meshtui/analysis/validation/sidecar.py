"""Istio's ``ValidateSidecar``."""

from __future__ import annotations

from typing import Any

from meshtui.analysis.validation.common import (
    UNIX_PREFIX, Result, check_alpha_workload_selector, check_destination, check_fqdn, check_ip,
    check_namespace_slash_host, check_port, check_port_name, check_protocol, check_unix_address, is_http, is_tls,
    items, num, text,
)
from meshtui.analysis.validation.destinationrule import check_connection_pool
from meshtui.analysis.validation.gateway import check_tls_options


def _check_ingress(result: Result, ingress: list[Any]) -> None:
    ports: set[int] = set()
    for i, listener in enumerate(ingress):
        path = f"spec.ingress[{i}]"
        if not isinstance(listener, dict):
            result.error("sidecar: ingress may not be null", path)
            continue
        port = listener.get("port")
        if not isinstance(port, dict):
            result.error("sidecar: port is required for ingress listeners", f"{path}.port")
            continue
        if num(port.get("targetPort")) > 0:
            result.error("targetPort has no impact on Sidecars", f"{path}.port.targetPort")
        bind = text(listener.get("bind"))
        if text(port.get("name")):
            result.add(check_port_name(text(port["name"])), f"{path}.port.name")
        result.add(check_protocol(text(port.get("protocol"))), f"{path}.port.protocol")
        result.add(check_port(port.get("number")), f"{path}.port.number")
        if bind:
            result.add(check_ip(bind), f"{path}.bind")
        number = int(num(port.get("number")))
        if number in ports:
            result.error("sidecar: ports on IP bound listeners must be unique", f"{path}.port.number")
        ports.add(number)
        endpoint = text(listener.get("defaultEndpoint"))
        if endpoint:
            _check_default_endpoint(result, endpoint, f"{path}.defaultEndpoint")
        tls = listener.get("tls")
        if isinstance(tls, dict):
            if items(tls.get("subjectAltNames")):
                result.error("sidecar: subjectAltNames is not supported in ingress tls", f"{path}.tls")
            if tls.get("httpsRedirect") is True:
                result.error("sidecar: httpsRedirect is not supported", f"{path}.tls")
            if text(tls.get("credentialName")):
                result.error("sidecar: credentialName is not currently supported", f"{path}.tls")
            if items(tls.get("credentialNames")):
                result.error("sidecar: credentialNames is not currently supported", f"{path}.tls")
            if items(tls.get("tlsCertificates")):
                result.error("sidecar: tls_certificates is not currently supported", f"{path}.tls")
            mode = text(tls.get("mode")) or "PASSTHROUGH"
            if mode in ("ISTIO_MUTUAL", "AUTO_PASSTHROUGH"):
                result.error(f"configuration is invalid: cannot set mode to {mode} in sidecar ingress tls",
                             f"{path}.tls.mode")
            if not is_tls(text(port.get("protocol"))):
                result.error("server cannot have TLS settings for non HTTPS/TLS ports", f"{path}.tls")
            check_tls_options(result, tls, f"{path}.tls")
        pool = listener.get("connectionPool")
        check_connection_pool(result, pool, f"{path}.connectionPool")
        if isinstance(pool, dict) and isinstance(pool.get("http"), dict) and not is_http(text(port.get("protocol"))):
            result.warn(f"sidecar: HTTP connection pool settings are configured for port {number} "
                        f'("{text(port.get("name"))}") but its protocol is not HTTP ({text(port.get("protocol"))}); '
                        "only TCP settings will apply", f"{path}.connectionPool.http")


def _split_host_port(value: str) -> tuple[str, str, str | None]:
    """Go's ``net.SplitHostPort``: (host, port, error text)."""
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return "", "", f"address {value}: missing ']' in address"
        host, rest = value[1:end], value[end + 1:]
        if not rest.startswith(":"):
            return "", "", f"address {value}: missing port in address"
        return host, rest[1:], None
    if ":" not in value:
        return "", "", f"address {value}: missing port in address"
    host, _, port = value.rpartition(":")
    if ":" in host:
        return "", "", f"address {value}: too many colons in address"
    return host, port, None


def _check_default_endpoint(result: Result, endpoint: str, path: str) -> None:
    if endpoint.startswith(UNIX_PREFIX):
        result.add(check_unix_address(endpoint[len(UNIX_PREFIX):]), path)
        return
    host, port, err = _split_host_port(endpoint)
    if err:
        result.error(err, path)
    if host and host not in ("127.0.0.1", "0.0.0.0", "::1", "::"):
        result.error("sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,"
                     "unix://filepath or unset", path)
    if not port.lstrip("+-").isdigit():
        result.error(f'sidecar: defaultEndpoint port ({port}) is not a number: strconv.Atoi: parsing "{port}": '
                     "invalid syntax", path)
    else:
        result.add(check_port(int(port)), path)


def _check_egress_hosts(result: Result, namespace: str, hosts: list[str], path: str) -> None:
    by_ns: dict[str, set[str]] = {}
    for i, hostname in enumerate(hosts):
        parts = hostname.split("/", 1)
        if len(parts) == 2 and not parts[0].startswith("~"):
            ns = namespace if parts[0] == "." else parts[0]
            svc = parts[1]
            seen = by_ns.setdefault(ns, set())
            if (svc != "*" and (svc in seen or "*" in seen)) or (svc == "*" and seen):
                result.warn(f"duplicated egress host: {hostname}", f"{path}[{i}]")
            seen.add(svc)
        result.add_all(check_namespace_slash_host(hostname, False, False), f"{path}[{i}]")
    if "*" in by_ns.get("*", set()) and len(by_ns) != 1:
        result.warn("`*/*` host select all resources, no other hosts can be added", path)


def _check_egress(result: Result, namespace: str, egress: list[Any]) -> None:
    ports: set[int] = set()
    sockets: set[str] = set()
    catch_all = False
    for i, listener in enumerate(egress):
        path = f"spec.egress[{i}]"
        if not isinstance(listener, dict):
            result.error("egress listener may not be null", path)
            continue
        port = listener.get("port")
        if not isinstance(port, dict):
            if not catch_all:
                if i == len(egress) - 1:
                    catch_all = True
                else:
                    result.error("sidecar: the egress listener with empty port should be the last listener in the list",
                                 path)
            else:
                result.error("sidecar: egress can have only one listener with empty port", path)
                continue
        else:
            if num(port.get("targetPort")) > 0:
                result.error("targetPort has no impact on Sidecars", f"{path}.port.targetPort")
            bind = text(listener.get("bind"))
            capture = text(listener.get("captureMode")) or "DEFAULT"
            if text(port.get("name")):
                result.add(check_port_name(text(port["name"])), f"{path}.port.name")
            number = int(num(port.get("number")))
            result.add(check_protocol(text(port.get("protocol"))), f"{path}.port.protocol")
            if number == 0:
                if not bind.startswith(UNIX_PREFIX):
                    result.error("sidecar: ports with 0 value must have a unix domain socket bind address", f"{path}.bind")
                else:
                    result.add(check_unix_address(bind[len(UNIX_PREFIX):]), f"{path}.bind")
                if capture not in ("DEFAULT", "NONE"):
                    result.error("sidecar: captureMode must be DEFAULT/NONE for unix domain socket listeners",
                                 f"{path}.captureMode")
                if bind in sockets:
                    result.error("sidecar: unix domain socket values for listeners must be unique", f"{path}.bind")
                sockets.add(bind)
            else:
                result.add(check_port(number), f"{path}.port.number")
                if bind:
                    result.add(check_ip(bind), f"{path}.bind")
                if number in ports:
                    result.error("sidecar: ports on IP bound listeners must be unique", f"{path}.port.number")
                ports.add(number)
        hosts = [str(h) for h in items(listener.get("hosts"))]
        if not hosts:
            result.error("sidecar: egress listener must contain at least one host", f"{path}.hosts")
        else:
            _check_egress_hosts(result, namespace, hosts, f"{path}.hosts")


def _check_outbound_policy(result: Result, policy: Any) -> None:
    if not isinstance(policy, dict):
        return
    mode = text(policy.get("mode")) or "REGISTRY_ONLY"
    path = "spec.outboundTrafficPolicy"
    if mode == "ALLOW_ANY_DYNAMIC_DNS":
        result.error("sidecar: ALLOW_ANY_DYNAMIC_DNS mode is only supported in MeshConfig, not in Sidecar resource",
                     f"{path}.mode")
        return
    proxy = policy.get("egressProxy")
    if isinstance(proxy, dict):
        if mode != "ALLOW_ANY":
            result.error("sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode",
                         f"{path}.egressProxy")
            return
        result.add(check_fqdn(text(proxy.get("host"))), f"{path}.egressProxy.host")
        if not isinstance(proxy.get("port"), dict):
            result.error("sidecar: egress_proxy port must be non-nil", f"{path}.egressProxy.port")
            return
        check_destination(result, proxy, f"{path}.egressProxy")


def validate_sidecar(namespace: str, spec: dict[str, Any]) -> Result:
    """``ValidateSidecar``."""
    result = Result()
    warning, errors = check_alpha_workload_selector(spec.get("workloadSelector"))
    if errors:
        result.add_all(errors, "spec.workloadSelector")
        return result
    if warning:
        result.warn(f"sidecar: {warning}, will be applied to all services in namespace", "spec.workloadSelector")
    ingress, egress = items(spec.get("ingress")), items(spec.get("egress"))
    if not ingress and not egress and not isinstance(spec.get("outboundTrafficPolicy"), dict) \
            and not isinstance(spec.get("inboundConnectionPool"), dict):
        # Istio returns this error alone, without the selector warning.
        empty = Result()
        empty.error("sidecar: empty configuration provided", "spec")
        return empty
    _check_ingress(result, ingress)
    check_connection_pool(result, spec.get("inboundConnectionPool"), "spec.inboundConnectionPool")
    _check_egress(result, namespace, egress)
    _check_outbound_policy(result, spec.get("outboundTrafficPolicy"))
    return result
