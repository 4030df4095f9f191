"""Istio's ``ValidateGateway`` (and the server TLS checks Sidecar ingress listeners share)."""

from __future__ import annotations

from typing import Any

from meshtui.analysis.validation.common import (
    UNIX_PREFIX, Result, check_ip, check_namespace_slash_host, check_port, check_unix_address, is_dns1123_label,
    is_http, is_tls, items, num, obj, parse_protocol, text,
)

GATEWAY_SEMANTICS = "internal.istio.io/gateway-semantics"
CIPHER_SUITES = frozenset({
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    "ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA",
    "AES128-GCM-SHA256", "AES256-GCM-SHA384", "AES128-SHA", "AES256-SHA", "DES-CBC3-SHA",
})


def _valid_cipher(cs: str) -> bool:
    # Istio lets through anything starting with an operator (-, +, !) rather than parse it.
    return cs in ("", "ALL") or not cs[0].isalnum() or cs in CIPHER_SUITES


def _go_list(values: list[str]) -> str:
    return "[" + " ".join(values) + "]"


def check_tls_options(result: Result, tls: Any, path: str) -> None:
    """``validateTLSOptions`` of a server's ``tls``."""
    if not isinstance(tls, dict):
        return
    mode = text(tls.get("mode")) or "PASSTHROUGH"
    ciphers = [str(c) for c in items(tls.get("cipherSuites"))]
    if text(tls.get("minProtocolVersion")) in ("TLSV1_0", "TLSV1_1") and not ciphers:
        result.warn("TLS version below TLSV1_2 require setting compatible ciphers as by default they no longer "
                    "include compatible ciphers.", f"{path}.minProtocolVersion")
    invalid = sorted({c for c in ciphers if not _valid_cipher(c)})
    valid_seen: set[str] = set()
    dups: set[str] = set()
    for c in ciphers:
        if _valid_cipher(c):
            if c in valid_seen:
                dups.add(c)
            valid_seen.add(c)
    if invalid:
        result.warn(f"ignoring invalid cipher suites: {_go_list(invalid)}", f"{path}.cipherSuites")
    if dups:
        result.warn(f"ignoring duplicate cipher suites: {_go_list(sorted(dups))}", f"{path}.cipherSuites")
    server_cert, key, ca = text(tls.get("serverCertificate")), text(tls.get("privateKey")), text(tls.get("caCertificates"))
    cred, creds = text(tls.get("credentialName")), items(tls.get("credentialNames"))
    certs = items(tls.get("tlsCertificates"))
    crl = text(tls.get("caCrl"))
    if mode == "ISTIO_MUTUAL":
        for present, what in ((server_cert, "server certificate"), (key, "private key"), (ca, "CA bundle"),
                              (certs, "tlsCertificates"), (cred, "credentialName"), (creds, "credentialNames")):
            if present:
                result.error(f"ISTIO_MUTUAL TLS cannot have associated {what}", path)
        return
    if mode in ("PASSTHROUGH", "AUTO_PASSTHROUGH") and (crl or server_cert or key or ca or certs or cred or creds):
        result.warn(f"{mode} mode does not use certificates, they will be ignored", path)
    sources = sum(1 for s in ((server_cert and key), cred, creds, certs) if s)
    if sources > 1:
        result.error("only one of credential_name, credential_names, server_certificate/private_key, "
                     "tls_certificates should be specified", path)
    if mode in ("SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL") and (cred or creds):
        return
    to_verify = [obj(c) for c in certs] if certs else [{"serverCertificate": server_cert, "privateKey": key}]
    if mode in ("SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL"):
        prefix = "SIMPLE TLS"
        if mode in ("MUTUAL", "OPTIONAL_MUTUAL"):
            prefix = "MUTUAL TLS"
            if not ca:
                result.error(f"{prefix} requires a client CA bundle", path)
        if len(certs) > 2:
            result.warn(f"{prefix} can support up to 2 server certificates", f"{path}.tlsCertificates")
        for cert in to_verify:
            if not text(cert.get("serverCertificate")):
                result.error(f"{prefix} requires a server certificate", path)
            if not text(cert.get("privateKey")):
                result.error(f"{prefix} requires a private key", path)
    if crl:
        if cred:
            result.error("CRL is not supported with credentialName. CRL has to be specified in the credential", path)
        if mode == "SIMPLE":
            result.error("CRL is not supported with SIMPLE TLS", path)


def _go_port(port: dict[str, Any]) -> str:
    """A ``Port`` message as Go's ``%v`` prints it (proto text form)."""
    parts = []
    if num(port.get("number")):
        parts.append(f"number:{int(num(port['number']))}")
    if text(port.get("protocol")):
        parts.append(f'protocol:"{port["protocol"]}"')
    if text(port.get("name")):
        parts.append(f'name:"{port["name"]}"')
    if num(port.get("targetPort")):
        parts.append(f"target_port:{int(num(port['targetPort']))}")
    return " ".join(parts)


def _check_server_port(result: Result, port: Any, bind: str, path: str) -> bool:
    """``validateServerPort``; whether the port had no error."""
    before = len(result.messages)
    if not isinstance(port, dict):
        result.error("port is required", path)
        return False
    protocol = text(port.get("protocol"))
    if parse_protocol(protocol) == "UnsupportedProtocol":
        result.error(f'invalid protocol "{protocol}", supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, '
                     "REDIS, MYSQL, TCP", f"{path}.protocol")
    if num(port.get("number")) > 0 or not bind.startswith(UNIX_PREFIX):
        result.add(check_port(port.get("number")), f"{path}.number")
    if num(port.get("targetPort")) > 0:
        result.error("targetPort has no impact on Gateways", f"{path}.targetPort")
    if not text(port.get("name")):
        result.error(f"port name must be set: {_go_port(port)}", f"{path}.name")
    return not any(m.level == "error" for m in result.messages[before:])


def _check_server(result: Result, server: dict[str, Any], semantics: bool, path: str) -> None:
    hosts = items(server.get("hosts"))
    if not hosts:
        result.error("server config must contain at least one host", f"{path}.hosts")
    for i, h in enumerate(hosts):
        result.add_all(check_namespace_slash_host(str(h), True, semantics), f"{path}.hosts[{i}]")
    port = server.get("port")
    bind = text(server.get("bind"))
    port_ok = _check_server_port(result, port, bind, f"{path}.port")
    if bind.startswith(UNIX_PREFIX):
        result.add(check_unix_address(bind[len(UNIX_PREFIX):]), f"{path}.bind")
        if isinstance(port, dict) and num(port.get("number")):
            result.error(f"port number must be 0 for unix domain socket: {_go_port(port)}", f"{path}.port")
    elif bind:
        result.add(check_ip(bind), f"{path}.bind")
    tls = server.get("tls")
    check_tls_options(result, tls, f"{path}.tls")
    if port_ok and isinstance(port, dict):
        protocol = text(port.get("protocol"))
        if is_tls(protocol) and not isinstance(tls, dict):
            result.error("server must have TLS settings for HTTPS/TLS protocols", path)
        elif not is_tls(protocol) and isinstance(tls, dict):
            if is_http(protocol):
                # Only an HTTP -> HTTPS redirect (and nothing else) is allowed on a plain text port.
                passthrough = text(tls.get("mode")) in ("", "PASSTHROUGH", "AUTO_PASSTHROUGH")
                if not passthrough or text(tls.get("caCertificates")) or text(tls.get("privateKey")) \
                        or text(tls.get("serverCertificate")):
                    result.error("server cannot have TLS settings for plain text HTTP ports", f"{path}.tls")
            else:
                result.error("server cannot have TLS settings for non HTTPS/TLS ports", f"{path}.tls")


def validate_gateway(name: str, annotations: dict[str, str], spec: dict[str, Any]) -> Result:
    """``ValidateGateway``."""
    result = Result()
    semantics = annotations.get(GATEWAY_SEMANTICS) == "gateway"
    if not is_dns1123_label(name) and not semantics:
        result.error(f'invalid gateway name: "{name}"', "metadata.name")
    servers = items(spec.get("servers"))
    if not servers:
        result.error("gateway must have at least one server", "spec.servers")
    for i, s in enumerate(servers):
        if not isinstance(s, dict):
            result.error("cannot have nil server", f"spec.servers[{i}]")
            continue
        _check_server(result, s, semantics, f"spec.servers[{i}]")
    names: set[str] = set()
    for i, s in enumerate(servers):
        if not isinstance(s, dict):
            result.error("server may not be nil", f"spec.servers[{i}]")
            continue
        port = s.get("port")
        if isinstance(port, dict):
            port_name = text(port.get("name"))
            if port_name in names:
                result.error(f"port names in servers must be unique: duplicate name {port_name}",
                             f"spec.servers[{i}].port.name")
            names.add(port_name)
            if not is_http(text(port.get("protocol"))) and obj(s.get("tls")).get("httpsRedirect") is True:
                result.warn("tls.httpsRedirect should only be used with http servers", f"spec.servers[{i}].tls")
    return result
