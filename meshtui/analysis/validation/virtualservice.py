"""Istio's ``ValidateVirtualService`` (root, delegate and independent routes).

The unreachable-rule and ineffective-match warnings of the same validation are reported by
``meshtui.analysis.vsvalidation`` with their own codes (IST0130, IST0131), as Istio's analyzer
reports them.
"""

from __future__ import annotations

from typing import Any

from meshtui.analysis.validation.common import (
    Result, check_destination, check_duration, check_export_to, check_fqdn, check_ip_subnet, check_labels,
    check_percentage, check_port, check_regex, check_string_match, check_wildcard_domain,
    check_wildcard_domain_for_gateway, go_float_f, is_dns1123_label, is_ip, items, num, obj, string_map, text,
    wrapped,
)
from meshtui.analysis.validation.headers import (
    check_cors_header_name, check_header_name, check_header_value, is_authority_header, is_internal_header,
    is_jwt_claim,
)

ROUTE_SEMANTICS = "internal.istio.io/route-semantics"
_CORS_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "*"}
_GRPC_STATUS = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
                "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
                "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}
_RETRY_ON = {"5xx", "gateway-error", "reset", "reset-before-request", "connect-failure", "retriable-4xx",
             "refused-stream", "retriable-status-codes", "retriable-headers", "envoy-ratelimited",
             "http3-post-connect-failure", "cancelled", "deadline-exceeded", "internal", "resource-exhausted",
             "unavailable"}
# net/http.StatusText: the codes Go knows a text for (a retryOn entry may be one).
_HTTP_STATUS = {100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305,
                307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417,
                418, 421, 422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508,
                510, 511}
_KB = 1024
_MB = 1024 * _KB


def _go_str_list(values: list[str]) -> str:
    return "[" + " ".join(values) + "]"


def check_gateway_names(result: Result, names: list[Any], semantics: bool, path: str) -> None:
    """``validateGatewayNames``."""
    for i, raw in enumerate(names):
        name = str(raw)
        p = f"{path}[{i}]"
        parts = name.split("/", 1)
        if len(parts) != 2:
            if "." in name:
                dotted = name.split(".")
                result.warn(f'using legacy gatewayName format "{name}"; prefer the <namespace>/<name> format: '
                            f'"{dotted[1]}/{dotted[0]}"', p)
            result.add(check_fqdn(name), p)
            return
        ns, gw = parts
        if not ns or not gw:
            result.error("config namespace and gateway name cannot be empty", p)
        if not is_dns1123_label(ns):
            result.error(f'invalid value for namespace: "{ns}"', p)
        if not is_dns1123_label(gw) and not semantics:
            result.error(f'invalid value for gateway name: "{gw}"', p)


def _check_header_ops(result: Result, headers: Any, path: str) -> None:
    """Header manipulation names and values of a route or destination."""
    if not headers or not isinstance(headers, dict):
        return
    for side in ("request", "response"):
        ops = obj(headers.get(side))
        for op in ("add", "set"):
            for name, value in string_map(ops.get(op)).items():
                if side == "request":
                    result.add(_with_authority_name(name), f"{path}.{side}.{op}")
                else:
                    result.add(_operation_name(name), f"{path}.{side}.{op}")
                result.add(check_header_value(value), f"{path}.{side}.{op}")
        for name in items(ops.get("remove")):
            result.add(_operation_name(str(name)), f"{path}.{side}.remove")


def _with_authority_name(name: str) -> str | None:
    if not name:
        return "header name cannot be empty"
    if is_internal_header(name) and not is_authority_header(name):
        return f'invalid header "{name}": header cannot have ":" prefix'
    return None


def _operation_name(name: str) -> str | None:
    if not name:
        return "header name cannot be empty"
    if name.lower() == "host":
        return f'invalid header "{name}": cannot set Host header'
    if is_internal_header(name):
        return f'invalid header "{name}": header cannot have ":" prefix'
    return None


def _check_route_destinations(result: Result, dests: list[Any], http: bool, semantics: bool, path: str) -> None:
    """``validateHTTPRouteDestinations`` / ``validateRouteDestinations``."""
    total = 0.0
    for j, d in enumerate(dests):
        p = f"{path}[{j}]"
        if not isinstance(d, dict):
            result.error("weight may not be nil", p)
            continue
        if not isinstance(d.get("destination"), dict):
            result.error("destination is required", p)
        if http:
            _check_header_ops(result, d.get("headers"), f"{p}.headers")
        if not semantics:
            check_destination(result, d.get("destination"), f"{p}.destination")
        weight = num(d.get("weight"))
        if weight < 0:
            result.error(f"weight {int(weight)} < 0", f"{p}.weight")
        total += weight
    if len(dests) > 1 and total == 0:
        result.error("total destination weight = 0", path)


def _check_retry(result: Result, retries: Any, path: str) -> None:
    if not isinstance(retries, dict):
        return
    attempts = num(retries.get("attempts"))
    if attempts < 0:
        result.error("attempts cannot be negative", f"{path}.attempts")
    if attempts == 0 and ("perTryTimeout" in retries or text(retries.get("retryOn"))
                          or "retryRemoteLocalities" in retries):
        result.error("http retry policy configured when attempts are set to 0 (disabled)", path)
    if "perTryTimeout" in retries:
        result.add(check_duration(retries["perTryTimeout"]), f"{path}.perTryTimeout")
    for policy in text(retries.get("retryOn")).split(",") if text(retries.get("retryOn")) else []:
        code = int(policy) if policy.isdigit() else 0
        if code not in _HTTP_STATUS and policy not in _RETRY_ON:
            result.error(f'"{policy}" is not a valid retryOn policy', f"{path}.retryOn")
    if "backoff" in retries:
        result.add(check_duration(retries["backoff"]), f"{path}.backoff")


def _check_fault(result: Result, fault: Any, path: str) -> None:
    if not isinstance(fault, dict):
        return
    abort, delay = fault.get("abort"), fault.get("delay")
    if not isinstance(abort, dict) and not isinstance(delay, dict):
        result.error("HTTP fault injection must have an abort and/or a delay", path)
    if isinstance(abort, dict):
        result.add(check_percentage(abort.get("percentage")), f"{path}.abort.percentage")
        if "grpcStatus" in abort:
            status = text(abort.get("grpcStatus"))
            if status not in _GRPC_STATUS:
                result.error(f'gRPC status "{status}" is not supported. See '
                             "https://github.com/grpc/grpc/blob/master/doc/statuscodes.md for a list of supported "
                             "codes, for example 'NOT_FOUND'", f"{path}.abort.grpcStatus")
        elif "http2Error" in abort:
            result.error("HTTP/2 abort fault injection not supported yet", f"{path}.abort.http2Error")
        elif "httpStatus" in abort:
            result.add(_check_http_status(num(abort.get("httpStatus"))), f"{path}.abort.httpStatus")
        else:
            result.warn("abort configured, but error type not set", f"{path}.abort")
    if isinstance(delay, dict):
        result.add(check_percentage(delay.get("percentage")), f"{path}.delay.percentage")
        if "fixedDelay" in delay:
            result.add(check_duration(delay["fixedDelay"]), f"{path}.delay.fixedDelay")
        elif "exponentialDelay" in delay:
            result.add(check_duration(delay["exponentialDelay"]), f"{path}.delay.exponentialDelay")
            result.error("exponentialDelay not supported yet", f"{path}.delay.exponentialDelay")


def _check_http_status(status: int | float) -> str | None:
    if status < 200 or status > 600:
        return f"HTTP status {int(status)} is not in range 200-599"
    return None


def _check_cors(result: Result, cors: Any, path: str) -> None:
    if not isinstance(cors, dict):
        return
    for origin in items(cors.get("allowOrigins")):
        origin = obj(origin)
        match = next((text(origin.get(k)) for k in ("exact", "prefix", "regex") if k in origin), "")
        if not match:
            result.error(f"'{match}' is not a valid match type for CORS allow origins", f"{path}.allowOrigins")
        else:
            result.add(check_string_match(origin, "corsPolicy.allowOrigins", regex_only=True), f"{path}.allowOrigins")
    for method in items(cors.get("allowMethods")):
        if str(method) not in _CORS_METHODS:
            result.error(f'"{method}" is not a supported HTTP method', f"{path}.allowMethods")
    for key in ("allowHeaders", "exposeHeaders"):
        for name in items(cors.get(key)):
            result.add(check_cors_header_name(str(name)), f"{path}.{key}")
    if "maxAge" in cors:
        result.add(check_duration(cors["maxAge"]), f"{path}.maxAge")
        from meshtui.analysis.validation.common import parse_duration

        seconds = parse_duration(cors["maxAge"])
        if seconds is not None and round(seconds * 1e9) % 1_000_000_000:
            result.error("max_age duration is accurate only to seconds precision", f"{path}.maxAge")


def _check_redirect(result: Result, redirect: Any, matches: list[Any], path: str) -> None:
    if not isinstance(redirect, dict):
        return
    uri, prefix = text(redirect.get("uri")), text(redirect.get("prefixRewrite"))
    if uri and prefix:
        result.error("redirect may only specify one of uri or prefix_rewrite", path)
        return
    if prefix:
        for m in matches:
            u = obj(m).get("uri")
            if isinstance(u, dict) and "prefix" not in u:
                result.error("redirect prefix_rewrite requires all URI matches to use prefix match type", path)
                return
    port = redirect.get("port")
    has_port = "port" in redirect or "derivePort" in redirect
    if not uri and not prefix and not text(redirect.get("authority")) and not has_port \
            and not text(redirect.get("scheme")):
        result.error("redirect must specify URI, authority, scheme, or port", path)
        return
    code = num(redirect.get("redirectCode"))
    if code and (code < 300 or code > 399):
        result.error(f"{int(code)} is not a valid redirect code, must be 3xx", f"{path}.redirectCode")
        return
    scheme = text(redirect.get("scheme"))
    if scheme and scheme not in ("http", "https"):
        result.error('invalid redirect scheme, must be "http" or "https"', f"{path}.scheme")
        return
    if num(port) > 0:
        result.add(check_port(port), f"{path}.port")


def _check_direct_response(result: Result, direct: Any, path: str) -> None:
    if not isinstance(direct, dict):
        return
    body = direct.get("body")
    if isinstance(body, dict):
        size = len(text(body.get("string")).encode()) if "string" in body else len(text(body.get("bytes"))) * 3 // 4
        if size > _MB:
            result.error("large direct_responses may impact control plane performance, must be less than 1MB",
                         f"{path}.body")
        elif size > 100 * _KB:
            result.warn("large direct_responses may impact control plane performance", f"{path}.body")
    result.add(_check_http_status(num(direct.get("status"))), f"{path}.status")


def _check_mirrors(result: Result, mirrors: list[Any], path: str) -> None:
    for i, m in enumerate(mirrors):
        p = f"{path}[{i}]"
        if not isinstance(m, dict):
            result.error("mirror cannot be null", p)
            continue
        if not isinstance(m.get("destination"), dict):
            result.error("destination is required for mirrors", p)
            continue
        check_destination(result, m["destination"], f"{p}.destination")
        if "percentage" in m:
            value = wrapped(m.get("percentage"))
            if value > 100:
                result.error(f"mirror percentage must have a max value of 100 (it has {go_float_f(value)})",
                             f"{p}.percentage")
            if value < 0:
                result.error(f"mirror percentage must have a min value of 0 (it has {go_float_f(value)})",
                             f"{p}.percentage")


def _check_rewrite(result: Result, rewrite: Any, headers: Any, path: str) -> None:
    if isinstance(rewrite, dict):
        uri, regex = text(rewrite.get("uri")), rewrite.get("uriRegexRewrite")
        if uri and isinstance(regex, dict):
            result.error("rewrite may only contain one of URI or UriRegexRewrite", path)
        elif not uri and not isinstance(regex, dict) and not text(rewrite.get("authority")):
            result.error("rewrite must specify at least one of URI, UriRegexRewrite, or authority. Only one of URI or "
                         "UriRegexRewrite may be specified", path)
        elif isinstance(regex, dict):
            err: str | None
            if not text(regex.get("match")) or not text(regex.get("rewrite")):
                err = "UriRegexRewrite requires both Rewrite and Match fields to be specified"
            else:
                err = check_regex(text(regex["match"]), "HTTPRewrite.UriRegexRewrite.Match")
            if err:
                result.error(f"UriRegexRewrite has errors\n{err}", f"{path}.uriRegexRewrite")
    current = text(obj(rewrite).get("authority"))
    request = obj(obj(headers).get("request"))
    for op in ("set", "add"):
        for k, v in string_map(request.get(op)).items():
            if not is_authority_header(k):
                continue
            if current:
                result.error(f'authority header cannot be set multiple times: have "{current}", attempting to set "{v}"',
                             path)
                return
            current = v


def _check_matches(result: Result, matches: list[Any], path: str) -> None:
    for i, m in enumerate(matches):
        if not isinstance(m, dict):
            continue
        p = f"{path}[{i}]"
        for name, header in obj(m.get("headers")).items():
            if header is None:
                result.error(f"header match {name} cannot be null", f"{p}.headers")
            result.add(check_header_name(str(name)), f"{p}.headers")
            result.add(check_string_match(header, "headers"), f"{p}.headers")
        for name, header in obj(m.get("withoutHeaders")).items():
            result.add(check_header_name(str(name)), f"{p}.withoutHeaders")
            # "*" is not a regular expression here: Istio reads it as "header present".
            if isinstance(header, dict) and header.get("regex") != "*":
                result.add(check_string_match(header, "withoutHeaders"), f"{p}.withoutHeaders")
        result.add(check_string_match(m.get("uri"), "uri", regex_only=True), f"{p}.uri")
        for key in ("scheme", "method", "authority"):
            result.add(check_string_match(m.get(key), key), f"{p}.{key}")
        for qp in obj(m.get("queryParams")).values():
            result.add(check_string_match(qp, "queryParams"), f"{p}.queryParams")
    for i, m in enumerate(matches):
        if not isinstance(m, dict):
            continue
        p = f"{path}[{i}]"
        if num(m.get("port")):
            result.add(check_port(m.get("port")), f"{p}.port")
        result.add_all(check_labels(m.get("sourceLabels")), f"{p}.sourceLabels")
        check_gateway_names(result, items(m.get("gateways")), False, f"{p}.gateways")
        ns = text(m.get("sourceNamespace"))
        if ns and not is_dns1123_label(ns):
            result.error(f"sourceNamespace match {ns} is invalid", f"{p}.sourceNamespace")


def _check_http_route(result: Result, route: dict[str, Any], delegate: bool, semantics: bool, path: str) -> None:
    """``validateHTTPRoute``."""
    name = text(route.get("name"))
    dests = items(route.get("route"))
    has = {k: isinstance(route.get(k), dict) for k in ("redirect", "fault", "rewrite", "directResponse", "mirror",
                                                         "delegate")}
    if has["delegate"] and not delegate:
        # A root rule hands the request to a delegate; it may only say which.
        if has["redirect"]:
            result.error(f"root HTTP route {name} must not specify redirect", path)
        if "route" in route and route["route"] is not None:
            result.error(f"root HTTP route {name} must not specify route", path)
    else:
        if delegate and has["delegate"]:
            result.error("delegate HTTP route cannot contain delegate", f"{path}.delegate")
        if has["redirect"]:
            if dests:
                result.error("HTTP route cannot contain both route and redirect", path)
            if has["fault"]:
                result.error("HTTP route cannot contain both fault and redirect", path)
            if has["rewrite"]:
                result.error("HTTP route rule cannot contain both rewrite and redirect", path)
            if has["directResponse"]:
                result.error("HTTP route rule cannot contain both direct_response and redirect", path)
        elif has["directResponse"]:
            if dests:
                result.error("HTTP route cannot contain both route and direct_response", path)
            if has["fault"]:
                result.error("HTTP route cannot contain both fault and direct_response", path)
            if has["rewrite"]:
                result.error("HTTP route rule cannot contain both rewrite and direct_response", path)
        elif not dests:
            result.error("HTTP route, redirect or direct_response is required", path)
        if has["mirror"] and items(route.get("mirrors")):
            result.error("HTTP route cannot contain both mirror and mirrors", path)
    matches = items(route.get("match"))
    _check_matches(result, matches, f"{path}.match")
    _check_header_ops(result, route.get("headers"), f"{path}.headers")
    _check_cors(result, route.get("corsPolicy"), f"{path}.corsPolicy")
    _check_fault(result, route.get("fault"), f"{path}.fault")
    if "mirrorPercent" in route and route["mirrorPercent"] is not None:
        value = wrapped(route["mirrorPercent"])
        if value > 100:
            result.error(f"mirror_percent must have a max value of 100 (it has {int(value)})", f"{path}.mirrorPercent")
        result.warn('using deprecated setting "mirrorPercent", use "mirrorPercentage" instead', f"{path}.mirrorPercent")
    if "mirrorPercentage" in route and route["mirrorPercentage"] is not None:
        value = wrapped(route["mirrorPercentage"])
        if value > 100:
            result.error(f"mirror_percentage must have a max value of 100 (it has {go_float_f(value)})",
                         f"{path}.mirrorPercentage")
        if value < 0:
            result.error(f"mirror_percentage must have a min value of 0 (it has {go_float_f(value)})",
                         f"{path}.mirrorPercentage")
    check_destination(result, route.get("mirror"), f"{path}.mirror")
    _check_mirrors(result, items(route.get("mirrors")), f"{path}.mirrors")
    _check_redirect(result, route.get("redirect"), matches, f"{path}.redirect")
    _check_direct_response(result, route.get("directResponse"), f"{path}.directResponse")
    _check_retry(result, route.get("retries"), f"{path}.retries")
    _check_rewrite(result, route.get("rewrite"), route.get("headers"), f"{path}.rewrite")
    _check_route_destinations(result, dests, True, semantics, f"{path}.route")
    if "timeout" in route:
        result.add(check_duration(route["timeout"]), f"{path}.timeout")


def _host_subset_of(a: str, b: str) -> bool:
    """``host.Name.SubsetOf``: every name ``a`` matches, ``b`` matches too."""
    if b.startswith("*"):
        if a.startswith("*"):
            return a[1:].endswith(b[1:])
        return a.endswith(b[1:])
    return not a.startswith("*") and a == b


def _host_matches(a: str, b: str) -> bool:
    """``host.Name.Matches``: whether the two (wildcard) hosts overlap."""
    if a.startswith("*") and b.startswith("*"):
        return a[1:].endswith(b[1:]) or b[1:].endswith(a[1:])
    if a.startswith("*"):
        return b.endswith(a[1:])
    if b.startswith("*"):
        return a.endswith(b[1:])
    return a == b


def _check_tls_route(result: Result, tls: dict[str, Any], spec: dict[str, Any], to_gateway: bool, semantics: bool,
                     path: str) -> None:
    matches = items(tls.get("match"))
    if not matches:
        result.error("TLS route must have at least one match condition", path)
    hosts = [str(h) for h in items(spec.get("hosts"))]
    for i, m in enumerate(matches):
        p = f"{path}.match[{i}]"
        if not isinstance(m, dict):
            result.error("TLS match may not be null", p)
            continue
        sni_hosts = [str(h) for h in items(m.get("sniHosts"))]
        if not sni_hosts:
            result.error("TLS match must have at least one SNI host", p)
        for sni in sni_hosts:
            err = check_wildcard_domain_for_gateway(True, sni) if to_gateway else check_wildcard_domain(sni)
            if err:
                if is_ip(sni):
                    result.warn(f'using an IP address ("{sni}") goes against SNI spec and most clients do not support '
                                "this", f"{p}.sniHosts")
                else:
                    result.error(err, f"{p}.sniHosts")
                continue
            if not any(_host_subset_of(sni, h) for h in hosts):
                result.error(f'SNI host "{sni}" is not a compatible subset of any of the virtual service hosts: '
                             f"[{', '.join(hosts)}]", f"{p}.sniHosts")
        _check_l4_match(result, m, p)
    dests = items(tls.get("route"))
    if not dests:
        result.error("TLS route is required", f"{path}.route")
    _check_route_destinations(result, dests, False, semantics, f"{path}.route")


def _check_l4_match(result: Result, m: dict[str, Any], p: str) -> None:
    for subnet in items(m.get("destinationSubnets")):
        result.add(check_ip_subnet(str(subnet)), f"{p}.destinationSubnets")
    if num(m.get("port")):
        result.add(check_port(m.get("port")), f"{p}.port")
    result.add_all(check_labels(m.get("sourceLabels")), f"{p}.sourceLabels")
    check_gateway_names(result, items(m.get("gateways")), False, f"{p}.gateways")


def validate_virtual_service(namespace: str, annotations: dict[str, str], spec: dict[str, Any]) -> Result:
    """``ValidateVirtualService``."""
    result = Result()
    hosts = [str(h) for h in items(spec.get("hosts"))]
    gateways = items(spec.get("gateways"))
    if not hosts:
        if gateways:
            result.error("delegate virtual service must have no gateways specified", "spec.gateways")
        if items(spec.get("tls")):
            result.error("delegate virtual service must have no tls route specified", "spec.tls")
        if items(spec.get("tcp")):
            result.error("delegate virtual service must have no tcp route specified", "spec.tcp")
    semantics = annotations.get(ROUTE_SEMANTICS) == "gateway"
    to_gateway = False
    if gateways:
        check_gateway_names(result, gateways, semantics, "spec.gateways")
        to_gateway = "mesh" not in gateways
    to_mesh = not to_gateway
    if not to_gateway:
        for i, route in enumerate(items(spec.get("http"))):
            for m in items(obj(route).get("match")):
                for key in ("headers", "withoutHeaders"):
                    for name in obj(obj(m).get(key)):
                        if is_jwt_claim(str(name)):
                            result.error(f"JWT claim based routing (key: {name}) is only supported for gateway, found "
                                         f"no gateways: {_go_str_list([str(g) for g in gateways])}",
                                         f"spec.http[{i}].match")
    sni = any(items(obj(m).get("sniHosts")) for t in items(spec.get("tls")) for m in items(obj(t).get("match")))
    all_valid = True
    for i, h in enumerate(hosts):
        err = check_wildcard_domain_for_gateway(sni, h) if to_gateway else check_wildcard_domain(h)
        if err:
            if not is_ip(h):
                result.error(err, f"spec.hosts[{i}]")
                all_valid = False
        elif to_mesh and h == "*":
            result.error("wildcard host * is not allowed for virtual services bound to the mesh gateway",
                         f"spec.hosts[{i}]")
            all_valid = False
    if all_valid:
        for i, a in enumerate(hosts):
            for b in hosts[i + 1:]:
                if _host_matches(a, b):
                    result.error(f"duplicate hosts in virtual service: {a} & {b}", "spec.hosts")
    http, tcp, tls = items(spec.get("http")), items(spec.get("tcp")), items(spec.get("tls"))
    if not http and not tcp and not tls:
        result.error("http, tcp or tls must be provided in virtual service", "spec")
    for i, route in enumerate(http):
        if not isinstance(route, dict):
            result.error("http route may not be null", f"spec.http[{i}]")
            continue
        _check_http_route(result, route, not hosts, semantics, f"spec.http[{i}]")
    for i, route in enumerate(tls):
        if isinstance(route, dict):
            _check_tls_route(result, route, spec, to_gateway, semantics, f"spec.tls[{i}]")
    for i, route in enumerate(tcp):
        if not isinstance(route, dict):
            continue
        for j, m in enumerate(items(route.get("match"))):
            if not isinstance(m, dict):
                result.error("tcp match may not be nil", f"spec.tcp[{i}].match[{j}]")
                continue
            _check_l4_match(result, m, f"spec.tcp[{i}].match[{j}]")
        dests = items(route.get("route"))
        if not dests:
            result.error("TCP route is required", f"spec.tcp[{i}].route")
        _check_route_destinations(result, dests, False, semantics, f"spec.tcp[{i}].route")
    result.add_all(check_export_to(namespace, spec.get("exportTo"), False, False), "spec.exportTo")
    return result
