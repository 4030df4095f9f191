"""Istio's ``ValidateDestinationRule`` and its traffic policy checks."""

from __future__ import annotations

import math
from typing import Any

from meshtui.analysis.validation.common import (
    Result, check_duration, check_export_to, check_fqdn, check_ip, check_labels, check_percent, check_port,
    check_subset_name, check_wildcard_domain, check_workload_selector, items, num, obj, parse_duration, text,
    wrapped,
)

_TOPOLOGY = ("topology.kubernetes.io/region", "topology.kubernetes.io/zone", "topology.istio.io/subzone")


def _is_prime(x: int) -> bool:
    """Envoy's (and Istio's) primality test for a Maglev table size."""
    if x != 0 and x < 4:
        return True
    if x & 1 == 0:
        return False
    return all(x % f for f in range(3, math.isqrt(x) + 1, 2))


def check_client_tls(result: Result, namespace: str, tls: Any, path: str) -> None:
    """``agent.ValidateTLS`` of a ``ClientTLSSettings``."""
    if not isinstance(tls, dict):
        return
    mode = text(tls.get("mode"))
    cred = text(tls.get("credentialName"))
    if cred.startswith("configmap://"):
        rest = cred[len("configmap://"):]
        ns = rest.split("/", 1)[0] if "/" in rest else namespace
        if ns != namespace or not namespace:
            result.error('invalid configmap:// credentialName: namespace must match the configuration namespace '
                         f'"{namespace}"', f"{path}.credentialName")
    skip = tls.get("insecureSkipVerify")
    if (skip.get("value") if isinstance(skip, dict) else skip) is True:
        if mode == "SIMPLE" and (text(tls.get("caCertificates")) or cred or "subjectAltNames" in tls):
            result.error("cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify "
                         "is set true", path)
        if mode == "MUTUAL" and (text(tls.get("caCertificates")) or "subjectAltNames" in tls):
            result.error("cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true", path)
    if mode in ("SIMPLE", "MUTUAL") and cred:
        if any(text(tls.get(k)) for k in ("clientCertificate", "caCertificates", "privateKey", "caCrl")):
            result.error("cannot specify client certificates or CA certificate or CA CRL If credentialName is set", path)
        return
    if mode == "MUTUAL":
        if not text(tls.get("clientCertificate")):
            result.error("client certificate required for mutual tls", path)
        if not text(tls.get("privateKey")):
            result.error("private key required for mutual tls", path)


def check_outlier(result: Result, outlier: Any, path: str) -> None:
    """``validateOutlierDetection``."""
    if not isinstance(outlier, dict):
        return
    for key in ("baseEjectionTime", "interval"):
        if key in outlier:
            result.add(check_duration(outlier[key]), f"{path}.{key}")
    if num(outlier.get("consecutiveErrors")):
        result.warn("outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or "
                    "consecutive5xxErrors instead", f"{path}.consecutiveErrors")
    if outlier.get("splitExternalLocalOriginErrors") is not True and wrapped(outlier.get("consecutiveLocalOriginFailures")) > 0:
        result.error("outlier detection consecutive local origin failures is specified, but split external local "
                     "origin errors is set to false", f"{path}.consecutiveLocalOriginFailures")
    result.add(check_percent(outlier.get("maxEjectionPercent")), f"{path}.maxEjectionPercent")
    result.add(check_percent(outlier.get("minHealthPercent")), f"{path}.minHealthPercent")


def check_connection_pool(result: Result, pool: Any, path: str) -> None:
    """``validateConnectionPool``."""
    if not isinstance(pool, dict):
        return
    http, tcp = pool.get("http"), pool.get("tcp")
    if not isinstance(http, dict) and not isinstance(tcp, dict):
        result.error("connection pool must have at least one field", path)
        return
    if isinstance(http, dict):
        for key, what in (("http1MaxPendingRequests", "http1 max pending requests"),
                          ("http2MaxRequests", "http2 max requests"),
                          ("maxRequestsPerConnection", "max requests per connection"),
                          ("maxRetries", "max retries"), ("maxConcurrentStreams", "max concurrent streams")):
            if num(http.get(key)) < 0:
                result.error(f"{what} must be non-negative", f"{path}.http.{key}")
        if "idleTimeout" in http:
            result.add(check_duration(http["idleTimeout"]), f"{path}.http.idleTimeout")
        if text(http.get("h2UpgradePolicy")) == "UPGRADE" and http.get("useClientProtocol") is True:
            result.error("use client protocol must not be true when H2UpgradePolicy is UPGRADE", f"{path}.http")
        keepalive = http.get("http2KeepAlive")
        if isinstance(keepalive, dict):
            for key in ("interval", "timeout"):
                if key not in keepalive:
                    result.error(f"http2 keepalive {key} is required", f"{path}.http.http2KeepAlive")
                else:
                    result.add(check_duration(keepalive[key]), f"{path}.http.http2KeepAlive.{key}")
    if isinstance(tcp, dict):
        if num(tcp.get("maxConnections")) < 0:
            result.error("max connections must be non-negative", f"{path}.tcp.maxConnections")
        for key in ("connectTimeout", "maxConnectionDuration"):
            if key in tcp:
                result.add(check_duration(tcp[key]), f"{path}.tcp.{key}")
        if "idleTimeout" in tcp and round((parse_duration(tcp["idleTimeout"]) or 0) * 1000) != 0:
            result.add(check_duration(tcp["idleTimeout"]), f"{path}.tcp.idleTimeout")
        keepalive = tcp.get("tcpKeepalive")
        if isinstance(keepalive, dict):
            for key in ("time", "interval"):
                if key in keepalive:
                    result.add(check_duration(keepalive[key]), f"{path}.tcp.tcpKeepalive.{key}")


def _check_localities(localities: list[str]) -> str | None:
    seen: set[str] = set()
    for loc in localities:
        stars = loc.count("*")
        if stars and (stars > 1 or not loc.endswith("*")):
            return f"locality {loc} wildcard '*' number can not exceed 1 and must be in the end"
        if "*" in seen:
            return f"locality {loc} overlap with previous specified ones"
        if any(part == "" for part in loc.split("/", 2)):
            return f"locality {loc} must not contain empty region/zone/subzone info"
        if loc in seen:
            return f"locality {loc} overlap with previous specified ones"
        seen.add(loc)
    return None


def _check_locality_lb(result: Result, lb: Any, outlier: Any, path: str) -> None:
    if not isinstance(lb, dict):
        return
    distribute, failover = items(lb.get("distribute")), items(lb.get("failover"))
    priority = [str(p) for p in items(lb.get("failoverPriority"))]
    if distribute and failover:
        result.error("can not simultaneously specify 'distribute' and 'failover'", path)
        return
    if failover and priority:
        for p in priority:
            if p in _TOPOLOGY:
                result.error(f"can not simultaneously set 'failover' and topology label '{p}' in 'failover_priority'",
                             path)
                return
    sources: list[str] = []
    for d in distribute:
        d = obj(d)
        sources.append(text(d.get("from")))
        total = 0.0
        for w in obj(d.get("to")).values():
            w = num(w)
            if w <= 0 or w > 100:
                result.error("locality weight must be in range [1, 100]", f"{path}.distribute")
                return
            total += w
        if total != 100:
            result.error(f"total locality weight {int(total)} != 100", f"{path}.distribute")
            return
        result.add(_check_localities([str(k) for k in obj(d.get("to"))]), f"{path}.distribute")
    result.add(_check_localities(sources), f"{path}.distribute")
    if (failover or priority) and outlier is None:
        result.warn("outlier detection policy must be provided for failover", path)
    for f in failover:
        f = obj(f)
        src, dst = text(f.get("from")), text(f.get("to"))
        if src == dst:
            result.error("locality lb failover settings must specify different regions", f"{path}.failover")
        if "/" in src or "/" in dst:
            result.error("locality lb failover only specify region", f"{path}.failover")
        if "*" in src or "*" in dst:
            result.error("locality lb failover region should not contain '*' wildcard", f"{path}.failover")


def check_load_balancer(result: Result, lb: Any, outlier: Any, path: str) -> None:
    """``validateLoadBalancer``."""
    if not isinstance(lb, dict):
        return
    ch = lb.get("consistentHash")
    if isinstance(ch, dict):
        cookie = ch.get("httpCookie")
        if isinstance(cookie, dict):
            if not text(cookie.get("name")):
                result.error("name required for HttpCookie", f"{path}.consistentHash.httpCookie")
            names: set[str] = set()
            for attr in items(cookie.get("attributes")):
                attr_name = text(obj(attr).get("name"))
                if not attr_name:
                    result.error("cookie attribute name cannot be empty", f"{path}.consistentHash.httpCookie")
                elif attr_name in names:
                    result.error(f"duplicate cookie attribute name: {attr_name}", f"{path}.consistentHash.httpCookie")
                names.add(attr_name)
        ring = num(ch.get("minimumRingSize"))
        if ring:
            result.warn("consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash "
                        "configuration instead", f"{path}.consistentHash.minimumRingSize")
            if "maglev" in ch or "ringHash" in ch:
                result.error("only one of MinimumRingSize or Maglev/Ringhash can be specified", f"{path}.consistentHash")
        maglev = ch.get("maglev")
        if isinstance(maglev, dict):
            size = int(num(maglev.get("tableSize")))
            if size == 0:
                result.error("tableSize must be set for maglev", f"{path}.consistentHash.maglev")
            if size >= 5000011:
                result.error("tableSize must be less than 5000011 for maglev", f"{path}.consistentHash.maglev")
            if not _is_prime(size):
                result.error("tableSize must be a prime number for maglev", f"{path}.consistentHash.maglev")
    if isinstance(lb.get("localityLbSetting"), dict) and isinstance(lb.get("zoneAwareLbSetting"), dict):
        result.error("only one of localityLbSetting and zoneAwareLbSetting can be set", path)
    _check_locality_lb(result, lb.get("localityLbSetting"), outlier, f"{path}.localityLbSetting")
    warm = lb.get("warmup")
    if isinstance(warm, dict):
        if "duration" not in warm:
            result.error("duration is required", f"{path}.warmup")
        else:
            result.add(check_duration(warm["duration"]), f"{path}.warmup.duration")
        if wrapped(warm.get("minimumPercent")) > 100:
            result.error("minimumPercent value should be less than or equal to 100", f"{path}.warmup.minimumPercent")
        if "aggression" in warm and wrapped(warm.get("aggression")) <= 0:
            result.error("aggression should be greater than 0", f"{path}.warmup.aggression")


def _check_tunnel(result: Result, tunnel: Any, path: str) -> None:
    if not isinstance(tunnel, dict):
        return
    protocol = text(tunnel.get("protocol"))
    if protocol and protocol not in ("CONNECT", "POST"):
        result.error('tunnel protocol must be "CONNECT" or "POST"', f"{path}.protocol")
    host = text(tunnel.get("targetHost"))
    fqdn_err, ip_err = check_fqdn(host), check_ip(host)
    if fqdn_err and ip_err:
        result.error(f"tunnel target host must be valid FQDN or IP address: {fqdn_err}; {ip_err}", f"{path}.targetHost")
    port_err = check_port(tunnel.get("targetPort"))
    if port_err:
        result.error(f"tunnel target port is invalid: {port_err}", f"{path}.targetPort")


def check_traffic_policy(result: Result, namespace: str, policy: Any, path: str) -> None:
    """``validateTrafficPolicy``."""
    if not isinstance(policy, dict):
        return
    known = ("outlierDetection", "connectionPool", "loadBalancer", "tls", "portLevelSettings", "tunnel",
             "proxyProtocol", "retryBudget")
    if not any(k in policy and policy[k] is not None for k in known):
        result.error("traffic policy must have at least one field", path)
        return
    if isinstance(policy.get("tunnel"), dict) and isinstance(policy.get("proxyProtocol"), dict):
        result.error("tunnel and proxyProtocol must not be set together", path)
        return
    outlier = policy.get("outlierDetection")
    check_outlier(result, outlier, f"{path}.outlierDetection")
    check_connection_pool(result, policy.get("connectionPool"), f"{path}.connectionPool")
    check_load_balancer(result, policy.get("loadBalancer"), outlier if isinstance(outlier, dict) else None,
                        f"{path}.loadBalancer")
    check_client_tls(result, namespace, policy.get("tls"), f"{path}.tls")
    for i, pl in enumerate(items(policy.get("portLevelSettings"))):
        p = f"{path}.portLevelSettings[{i}]"
        if not isinstance(pl, dict):
            result.error("traffic policy may not be null", p)
            continue
        if not isinstance(pl.get("port"), dict):
            result.error("portTrafficPolicy must have valid port", p)
        if not any(isinstance(pl.get(k), dict) for k in ("outlierDetection", "connectionPool", "loadBalancer", "tls")):
            result.error("port traffic policy must have at least one field", p)
            continue
        pl_outlier = pl.get("outlierDetection")
        check_outlier(result, pl_outlier, f"{p}.outlierDetection")
        check_connection_pool(result, pl.get("connectionPool"), f"{p}.connectionPool")
        check_load_balancer(result, pl.get("loadBalancer"), pl_outlier if isinstance(pl_outlier, dict) else None,
                            f"{p}.loadBalancer")
        check_client_tls(result, namespace, pl.get("tls"), f"{p}.tls")
    _check_tunnel(result, policy.get("tunnel"), f"{path}.tunnel")
    pp = policy.get("proxyProtocol")
    if isinstance(pp, dict):
        version = pp.get("version")
        if version not in (None, 0, 1, "V1", "V2"):
            result.error(f"proxy protocol version is invalid: {version}", f"{path}.proxyProtocol.version")


def validate_destination_rule(namespace: str, spec: dict[str, Any]) -> Result:
    """``ValidateDestinationRule``."""
    result = Result()
    result.add(check_wildcard_domain(text(spec.get("host"))), "spec.host")
    check_traffic_policy(result, namespace, spec.get("trafficPolicy"), "spec.trafficPolicy")
    names: set[str] = set()
    for i, subset in enumerate(items(spec.get("subsets"))):
        path = f"spec.subsets[{i}]"
        if not isinstance(subset, dict):
            result.error("subset may not be null", path)
            continue
        name = text(subset.get("name"))
        if name in names:
            result.error(f"duplicate subset names: {name}", f"{path}.name")
        names.add(name)
        result.add(check_subset_name(name), f"{path}.name")
        result.add_all(check_labels(subset.get("labels")), f"{path}.labels")
        check_traffic_policy(result, namespace, subset.get("trafficPolicy"), f"{path}.trafficPolicy")
    selector = spec.get("workloadSelector")
    result.add_all(check_export_to(namespace, spec.get("exportTo"), False, isinstance(selector, dict)), "spec.exportTo")
    check_workload_selector(result, selector, "spec.workloadSelector")
    return result
