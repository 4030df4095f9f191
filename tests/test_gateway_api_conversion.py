"""Istio's Gateway API conversion cases, reproduced: routing outcome and route status.

For every HTTP rule of every VirtualService in a case's config golden (what istiod generates), a
request is built that meets that rule's match; the rule that *Istio's* generated config gives it
(the first of the golden's rules, in order, whose match it meets) says what must happen: which
hosts with which shares, which redirect, which rewrite, which mirrors, a 500. meshtui's
Gateway API tracer, run on the case's *input*, must say the same. Route status conditions
(Accepted / ResolvedRefs with their reasons) are compared with the status golden.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from gateway_api_harness import CONVERSION, DOMAIN, case_objects, index, load, registry_hosts
from meshtui.model.gateway_api import ParentRef
from meshtui.model.index import MeshIndex
from meshtui.routing.gateway_api_binding import route_conditions
from meshtui.routing.request import TraceRequest
from meshtui.routing.trace import trace

# Not modelled by meshtui, so left out: ListenerSet parents and the experimental XBackend kinds
# (cases and status rows), and InferencePool backends, which Istio routes to a synthesised
# shadow Service whose hashed name meshtui does not compute.
_UNMODELLED_CASES = {"xbackend", "reference-policy-inferencepool"}
CASES = [c["id"] for c in index()["cases"] if c["id"] not in _UNMODELLED_CASES]
# Hosts Istio synthesises that meshtui does not model (InferencePool shadow services,
# XBackend ServiceEntries, waypoints, east-west gateways): rules routing there are not probed.
_UNMODELLED = re.compile(r"^infpool-|\.example\.net$|internal\.cluster\.local$")


def _golden_gateways(golden: list[dict[str, Any]]) -> dict[str, tuple[str, str, str, int, list[str]]]:
    """Istio Gateway ``ns/name`` -> (k8s gateway ns, name, listener, port, server hosts)."""
    out = {}
    for d in golden:
        if d["kind"] != "Gateway":
            continue
        parents = d["metadata"].get("annotations", {}).get("internal.istio.io/parents", "")
        m = re.fullmatch(r"Gateway/([^/]+)/([^.]+)\.(.+)", parents)
        server = (d["spec"].get("servers") or [{}])[0]
        if m and server.get("port", {}).get("protocol") in ("HTTP", "HTTPS"):
            hosts = [h.partition("/")[2] for h in server.get("hosts", [])]
            out[f"{d['metadata']['namespace']}/{d['metadata']['name']}"] = (
                m.group(3), m.group(1), m.group(2), server["port"]["number"], hosts)
    return out


def _concrete(host: str, server_hosts: list[str]) -> str:
    """A concrete request host for a VirtualService host (under the server's hosts)."""
    if host != "*":
        return host.replace("*", "probe", 1)
    base = next((h for h in server_hosts if h != "*"), "*.example")
    return base.replace("*", "probe-any", 1)


def _probe(match: dict[str, Any] | None) -> dict[str, Any] | None:
    """Request fields meeting ``match`` (None when it uses a condition not probed: regex)."""
    req: dict[str, Any] = {"path": "/", "headers": [], "method": "GET"}
    if not match:
        return req
    uri = match.get("uri")
    if uri:
        if "exact" in uri or "prefix" in uri:
            req["path"] = uri.get("exact", uri.get("prefix"))
        else:
            return None
    for name, sm in (match.get("headers") or {}).items():
        if "exact" not in sm:
            return None
        req["headers"].append((name, sm["exact"]))
    query = []
    for name, sm in (match.get("queryParams") or {}).items():
        if "exact" not in sm:
            return None
        query.append(f"{name}={sm['exact']}")
    if query:
        req["path"] += "?" + "&".join(query)
    if match.get("method"):
        if "exact" not in match["method"]:
            return None
        req["method"] = match["method"]["exact"]
    return req


def _meets(match: dict[str, Any] | None, req: dict[str, Any]) -> bool:
    """Whether a probe meets a golden match (path-separated prefix: Istio's gateway semantics)."""
    if not match:
        return True
    path, _, query = req["path"].partition("?")
    uri = match.get("uri")
    if uri:
        if "exact" in uri and path != uri["exact"]:
            return False
        if "prefix" in uri:
            p = uri["prefix"]
            if not (p == "/" or path == p or path.startswith(p.rstrip("/") + "/")):
                return False
        if "regex" in uri and not re.fullmatch(uri["regex"], path):
            return False
    headers = {k.lower(): v for k, v in req["headers"]}
    for name, sm in (match.get("headers") or {}).items():
        have = headers.get(name.lower())
        if have is None or ("exact" in sm and have != sm["exact"]) or ("regex" in sm and not re.fullmatch(sm["regex"], have)):
            return False
    params = dict(p.partition("=")[::2] for p in query.split("&") if p)
    for name, sm in (match.get("queryParams") or {}).items():
        have = params.get(name)
        if have is None or ("exact" in sm and have != sm["exact"]) or ("regex" in sm and not re.fullmatch(sm["regex"], have)):
            return False
    if match.get("method") and req["method"] != match["method"].get("exact"):
        return False
    return True


def _expected(rule: dict[str, Any], req: dict[str, Any], host: str) -> dict[str, Any]:
    """What Istio's generated rule does with the probe, read from the golden."""
    if "directResponse" in rule:
        return {"outcome": "direct", "status": rule["directResponse"]["status"]}
    if "redirect" in rule:
        rd = rule["redirect"]
        scheme = rd.get("scheme", "http")
        authority = rd.get("authority", host)
        port = rd.get("port")
        if port and not ((port == 80 and scheme == "http") or (port == 443 and scheme == "https")):
            authority += f":{port}"
        path = req["path"].partition("?")[0]
        if "uri" in rd:
            path = rd["uri"]
        elif "prefixRewrite" in rd:
            path = rd["prefixRewrite"] or "/"
        return {"outcome": "redirect", "status": rd.get("redirectCode", 301), "location": f"{scheme}://{authority}{path}"}
    routes = rule.get("route") or []
    weights = [r.get("weight", 100 if len(routes) == 1 else 0) for r in routes]
    total = sum(weights)
    known = registry_hosts()
    dests = sorted(
        ((r["destination"].get("host", ""), round(w / total, 6), r["destination"].get("host", "") not in known)
         for r, w in zip(routes, weights) if w > 0),
    )
    out: dict[str, Any] = {"outcome": "route", "destinations": dests,
                           "mirrors": sorted((m["destination"]["host"], float(m.get("percentage", {}).get("value", 100)))
                                             for m in rule.get("mirrors") or [])}
    rw = rule.get("rewrite")
    if rw:
        uri = rw.get("uri")
        if "uriRegexRewrite" in rw:
            uri = rw["uriRegexRewrite"]["rewrite"]
        out["rewrite"] = {"uri": uri or req["path"], "authority": rw.get("authority")}
    return out


def _actual(result: Any) -> dict[str, Any]:
    d = result.to_dict()
    if d["outcome"] == "direct":
        return {"outcome": "direct", "status": d["direct_response"]["status"]}
    if d["outcome"] == "redirect":
        return {"outcome": "redirect", **d["redirect"]}
    out: dict[str, Any] = {
        "outcome": d["outcome"],
        "destinations": sorted((x["host"], x["probability"], x["failure"] is not None) for x in d["destinations"]),
        "mirrors": sorted((m["host"], m["percentage"]) for m in d["mirrors"]),
    }
    if d["rewrite"] is not None:
        out["rewrite"] = d["rewrite"]
    return out


def probes(case: str) -> list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """(label, trace arguments, probe, expected) for every probed rule of the case's golden."""
    golden = load(CONVERSION / f"{case}.yaml.golden")
    gateways = _golden_gateways(golden)
    out = []
    for vs in (d for d in golden if d["kind"] == "VirtualService"):
        spec = vs["spec"]
        rules = spec.get("http") or []
        for gw_ref in spec.get("gateways") or ["mesh"]:
            for vs_host in spec["hosts"]:
                if gw_ref == "mesh":
                    if not vs_host.endswith(DOMAIN):
                        continue
                    export = spec.get("exportTo") or [vs["metadata"]["namespace"]]
                    args = {"gateway": None, "host": vs_host, "source_namespace": export[0], "port": None}
                    concrete = vs_host
                elif gw_ref in gateways:
                    ns, name, _listener, port, server_hosts = gateways[gw_ref]
                    concrete = _concrete(vs_host, server_hosts)
                    args = {"gateway": f"{ns}/{name}", "host": concrete, "source_namespace": None, "port": port}
                else:
                    continue
                for i, rule in enumerate(rules):
                    for j, match in enumerate(rule.get("match") or [None]):
                        req = _probe(match)
                        if req is None:
                            continue
                        taken = next((r for r in rules if any(_meets(m, req) for m in (r.get("match") or [None]))), None)
                        if taken is None:
                            continue
                        hosts = [r["destination"].get("host", "") for r in taken.get("route") or []]
                        hosts += [m["destination"]["host"] for m in taken.get("mirrors") or []]
                        if any(_UNMODELLED.search(h) for h in hosts):
                            continue
                        label = f"{vs['metadata']['name']} http[{i}] match[{j}] at {gw_ref}"
                        out.append((label, args, req, _expected(taken, req, concrete)))
    return out


_ALL = [(case, p) for case in CASES for p in probes(case)]


@pytest.mark.parametrize(("case", "probe"), _ALL, ids=[f"{c}:{p[0]}" for c, p in _ALL])
def test_routing_outcome_matches_istio(case: str, probe: tuple[Any, ...]) -> None:
    """The tracer's outcome on the input equals what Istio's generated config does."""
    _label, args, req, expected = probe
    mesh = MeshIndex(case_objects(case), domain_suffix=DOMAIN)
    request = TraceRequest.build(host=args["host"], path=req["path"], method=req["method"], headers=req["headers"],
                                 gateway=args["gateway"], port=args["port"], source_namespace=args["source_namespace"])
    result = trace(mesh, request)
    assert result.route is not None and result.route["kind"] in ("HTTPRoute", "GRPCRoute"), result.explanation
    actual = _actual(result)
    if expected["outcome"] == "route" and "rewrite" not in expected:
        actual.pop("rewrite", None)  # header-only rewrites are not in the golden's rewrite
    assert actual == expected, "\n".join(result.explanation)


def test_probes_cover_the_http_cases() -> None:
    """The probes reach the cases that route HTTP (a silent empty parametrisation would pass)."""
    covered = {case for case, _ in _ALL}
    assert {"http", "grpc", "weighted", "zero", "route-precedence", "mesh", "invalid",
            "reference-policy-service", "empty-backend-refs", "redirect-only"} <= covered


def _status_rows() -> list[tuple[str, str, str, dict[str, Any], list[dict[str, Any]]]]:
    rows = []
    for case in CASES:
        for d in load(CONVERSION / f"{case}.status.yaml.golden"):
            if d["kind"] not in ("HTTPRoute", "GRPCRoute"):
                continue
            for parent in (d.get("status") or {}).get("parents") or []:
                if parent["parentRef"].get("kind") == "ListenerSet":
                    continue
                rows.append((case, d["kind"], f"{d['metadata']['namespace']}/{d['metadata']['name']}",
                             parent["parentRef"], parent["conditions"]))
    return rows


_STATUS = _status_rows()


@pytest.mark.parametrize(("case", "kind", "name", "parent", "conditions"), _STATUS,
                         ids=[f"{r[0]}:{r[1]}/{r[2]}->{r[3].get('name')}" for r in _STATUS])
def test_route_status_matches_istio(case: str, kind: str, name: str, parent: dict[str, Any],
                                    conditions: list[dict[str, Any]]) -> None:
    """Accepted and ResolvedRefs, with their reasons, as Istio wrote them for each parent."""
    mesh = MeshIndex(case_objects(case), domain_suffix=DOMAIN)
    ns, _, route_name = name.partition("/")
    route = mesh.get(kind, ns, route_name)
    assert route is not None
    ref = ParentRef.parse(parent, ns)
    ours = {c.type: (c.status, c.reason) for c in route_conditions(mesh, route, ref)}
    theirs = {c["type"]: (c["status"], c["reason"]) for c in conditions if c["type"] in ("Accepted", "ResolvedRefs")}
    assert {t: ours[t] for t in theirs} == theirs


def _listener_rows() -> list[tuple[str, str, str, int]]:
    rows = []
    for case in CASES:
        for d in load(CONVERSION / f"{case}.status.yaml.golden"):
            if d["kind"] != "Gateway":
                continue
            for listener in (d.get("status") or {}).get("listeners") or []:
                rows.append((case, f"{d['metadata']['namespace']}/{d['metadata']['name']}", listener["name"],
                             listener["attachedRoutes"]))
    return rows


_LISTENERS = _listener_rows()


@pytest.mark.parametrize(("case", "gateway", "listener", "attached"), _LISTENERS,
                         ids=[f"{r[0]}:{r[1]}/{r[2]}" for r in _LISTENERS])
def test_listener_attached_routes_match_istio(case: str, gateway: str, listener: str, attached: int) -> None:
    """How many routes each listener accepts (``status.listeners[].attachedRoutes``)."""
    from meshtui.routing.gateway_api_binding import attachments

    mesh = MeshIndex(case_objects(case), domain_suffix=DOMAIN)
    ns, _, name = gateway.partition("/")
    gw = mesh.get("Gateway", ns, name, group="gateway.networking.k8s.io")
    assert gw is not None
    routes = {(a.route.kind, a.route.namespace, a.route.name) for a in attachments(mesh, gw) if a.listener.name == listener}
    assert len(routes) == attached
