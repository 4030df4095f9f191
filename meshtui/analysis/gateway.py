"""Istio's Gateway analyzers (``pkg/config/analysis/analyzers/gateway``).

- ``gateway.IngressGatewayPortAnalyzer``: a Gateway whose selector matches no pod (IST0101), or
  a server port that no Service of the selected pods exposes over TCP (IST0162).
- ``gateway.SecretAnalyzer``: a ``credentialName`` with no Secret in the gateway pods'
  namespace (IST0101), or a Secret without a readable, unexpired certificate (IST0161).
- ``gateway.ConflictingGatewayAnalyzer``: Gateways with the same selector and port whose hosts
  overlap (IST0145).
- ``gateway.CertificateAnalyzer``: the same certificate on Gateways of overlapping selectors
  (IST0138).
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timezone

from meshtui.analysis.context import Context, full_name, labels_match, selector_string
from meshtui.model.base import as_dict
from meshtui.model.istio import Gateway


def _service_tcp_ports(ctx: Context, pod_namespace: str, pod_labels: dict[str, str]) -> set[int]:
    ports: set[int] = set()
    for svc in ctx.services_in(pod_namespace):
        selector = as_dict(svc.spec.get("selector"))
        if not labels_match(selector, pod_labels):
            continue
        for p in svc.spec.get("ports") or []:
            if isinstance(p, dict) and p.get("protocol") == "TCP" and isinstance(p.get("port"), int):
                ports.add(p["port"])
                if isinstance(p.get("targetPort"), int):  # the gateway pod listens on the target port
                    ports.add(p["targetPort"])
    return ports


def ingress_gateway_port_analyzer(ctx: Context) -> None:
    """``gateway.IngressGatewayPortAnalyzer``."""
    for gw in ctx.istio_gateways():
        sel = selector_string(gw.selector)
        pods = ctx.select_workloads(gw.selector)
        if not pods:
            ctx.report("ReferencedResourceNotFound", gw, "selector", sel, path="spec.selector")
            continue
        ports: set[int] = set()
        for pod in pods:
            ports |= _service_tcp_ports(ctx, pod.namespace, pod.labels)
        for i, server in enumerate(gw.servers):
            if not isinstance(server.raw.get("port"), dict):
                continue
            number = server.port.number or 0
            if number not in ports:
                ctx.report("GatewayPortNotDefinedOnService", gw, number, sel, path=f"spec.servers[{i}].port.number")


def _gateway_namespace(ctx: Context, gw: Gateway) -> str | None:
    """Namespace of the first pod the Gateway selects (where its credentials must live)."""
    pods = ctx.select_workloads(gw.selector)
    return pods[0].namespace if pods else None


def _secret_value(secret_raw: dict, key: str) -> bytes | None:
    data = as_dict(secret_raw.get("data"))
    if isinstance(data.get(key), str):
        try:
            return base64.b64decode(data[key], validate=False)
        except (binascii.Error, ValueError):
            return b""
    string_data = as_dict(secret_raw.get("stringData"))
    if isinstance(string_data.get(key), str):
        return string_data[key].encode()
    return None


def valid_tls_secret(secret_raw: dict, now: datetime | None = None) -> bool:
    """Whether a Secret holds a certificate and key Istio can serve: ``tls.crt``/``tls.key``
    (or ``cert``/``key``), the certificate PEM readable and not expired."""
    from meshtui.envoy.x509 import CertError, parse_pem

    for cert_key, key_key in (("tls.crt", "tls.key"), ("cert", "key")):
        cert, key = _secret_value(secret_raw, cert_key), _secret_value(secret_raw, key_key)
        if cert is None or key is None:
            continue
        try:
            parsed = parse_pem(cert)
        except CertError:
            return False
        moment = now or datetime.now(timezone.utc)
        return parsed.not_before <= moment <= parsed.not_after
    return False


def secret_analyzer(ctx: Context) -> None:
    """``gateway.SecretAnalyzer``."""
    for gw in ctx.istio_gateways():
        ns = _gateway_namespace(ctx, gw)
        if ns is None:
            ctx.report("ReferencedResourceNotFound", gw, "selector", selector_string(gw.selector),
                       path="spec.selector")
            continue
        for i, server in enumerate(gw.servers):
            cn = server.tls.credential_name if server.tls is not None else None
            if not cn:
                continue
            sns, _, sname = cn.rpartition("/")
            secret = ctx.find("Secret", sns or ns, sname)
            path = f"spec.servers[{i}].tls.credentialName"
            if secret is None:
                ctx.report("ReferencedResourceNotFound", gw, "credentialName", cn, path=path)
            elif not valid_tls_secret(secret.raw):
                ctx.report("InvalidGatewayCredential", gw, gw.name, ns, path=path)


def conflicting_gateway_analyzer(ctx: Context) -> None:
    """``gateway.ConflictingGatewayAnalyzer``: Gateways whose selectors pick the same pod, on
    one port, with a host (and bind) in common."""
    gateways = ctx.istio_gateways()
    # "selector~port" -> gateway -> {host: bind}; filled as Istio's initGatewaysMap does.
    table: dict[str, dict[str, dict[str, str]]] = {}
    for gw in gateways:
        sel = selector_string(gw.selector)
        for server in gw.servers:
            table.setdefault(f"{sel}~{server.port.number or 0}", {})[full_name(gw)] = {
                h: server.bind or "" for h in server.hosts}
    for gw in gateways:
        sel = selector_string(gw.selector)
        hits: list[str] = []
        for key in table:
            other_sel = key.rsplit("~", 1)[0]
            matched = sel == other_sel
            if not matched and (sel in other_sel or other_sel in sel):
                other = dict(kv.split("=", 1) for kv in other_sel.split(",") if kv.count("=") == 1)
                matched = any(labels_match(other, p.labels) for p in ctx.select_workloads(gw.selector))
            if matched:
                hits.append(key)
        if sel and not hits:
            ctx.report("ReferencedResourceNotFound", gw, "selector", sel, path="spec.selector")
            continue
        for i, server in enumerate(gw.servers):
            port = str(server.port.number or 0)
            others: list[str] = []
            for key in hits:
                if key.rsplit("~", 1)[1] != port:
                    continue
                for other_name, known in table[key].items():
                    if other_name != full_name(gw) and _check_duplicates(server.hosts, server.bind or "", known):
                        others.append(other_name)
            if others:
                ctx.report("ConflictingGateways", gw, ",".join(sorted(others)), sel, port, ",".join(server.hosts),
                           path=f"spec.servers[{i}]")


def _check_duplicates(hosts: list[str], bind: str, known: dict[str, str]) -> bool:
    """Istio's ``model.CheckDuplicates``: hosts already known with the same bind; the others
    are added to ``known`` (Istio mutates the table the same way)."""
    found = False
    for h in hosts:
        if h in known and known[h] == bind:
            found = True
        else:
            known[h] = bind
    return found


def _same_certificate(a: dict, b: dict) -> bool:
    ca, cb = a.get("credentialName") or "", b.get("credentialName") or ""
    if ca and cb:
        return ca == cb
    if not ca and not cb:
        sa, sb = a.get("serverCertificate") or "", b.get("serverCertificate") or ""
        if sa and sb and sa == sb:
            ka, kb = a.get("privateKey") or "", b.get("privateKey") or ""
            return bool(ka and kb and ka == kb)
    return False


def _selector_subset(x: dict[str, str], y: dict[str, str]) -> bool:
    return all(k in y and y[k] == v for k, v in x.items()) and not any(k in y and y[k] != v for k, v in x.items())


def certificate_analyzer(ctx: Context) -> None:
    """``gateway.CertificateAnalyzer`` (PILOT_SCOPE_GATEWAY_TO_NAMESPACE off, Istio's default)."""
    gateways = ctx.istio_gateways()
    for gw in gateways:
        for other in gateways:
            if other is gw or full_name(other) == full_name(gw):
                continue
            if gw.selector and not _selector_subset(gw.selector, other.selector):
                continue
            for server in gw.servers:
                for other_server in other.servers:
                    if server.tls is None or other_server.tls is None:
                        continue
                    if _same_certificate(server.tls.raw, other_server.tls.raw):
                        ctx.report("GatewayDuplicateCertificate", gw, [full_name(gw), full_name(other)],
                                   path="metadata.name")
