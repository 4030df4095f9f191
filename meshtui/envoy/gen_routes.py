"""Outbound RouteConfigurations as istiod builds them for a sidecar (pure, approximate).

One route configuration per HTTP service port (named after the port, ``"9080"``), one virtual
host per reachable host on that port (``reviews.bookinfo.svc.cluster.local:9080``), routes
translated from the host's VirtualService (``pilot/pkg/networking/core/route/route.go``:
``translateRoute``, ``translateRouteMatch``, ``GetDestinationCluster``), or Istio's default
route when no VirtualService applies; a catch-all ``allow_any`` (or ``block_all`` under
REGISTRY_ONLY) virtual host last.
"""

from __future__ import annotations

import re
from typing import Any

from meshtui.envoy.gen_targets import Proxy, Target, config_path, subset_key
from meshtui.model.hostmap import gateway_ref
from meshtui.model.index import MeshIndex
from meshtui.model.kube import Service
from meshtui.model.route_parts import Destination, StringMatch
from meshtui.model.virtualservice import HTTPMatchRequest, HTTPRoute, VirtualService

#: The annotation istiod puts on VirtualServices it makes of Gateway API routes.
ROUTE_SEMANTICS = "internal.istio.io/route-semantics"

T = "type.googleapis.com/"
Json = dict[str, Any]
# Istio's default retry policy (pilot/pkg/networking/core/route/retry/retry.go DefaultPolicy).
_DEFAULT_RETRY_ON = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"


def _default_retry() -> Json:
    return {
        "retry_on": _DEFAULT_RETRY_ON, "num_retries": 2,
        "retry_host_predicate": [{"name": "envoy.retry_host_predicates.previous_hosts", "typed_config": {
            "@type": T + "envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"}}],
        "host_selection_retry_max_attempts": "5", "retriable_status_codes": [503],
    }


def vhost_domains(host: str, port: int, address: str | None, proxy: Proxy) -> list[str]:
    """Istio's ``generateVirtualHostDomains`` with port suffixes (each name with and without
    ``:port``): the FQDN, the short forms the proxy's namespace may use, the service address."""
    def both(name: str) -> list[str]:
        return [name, f"{name}:{port}"]

    domains = both(host)
    dns = proxy.dns_domain
    ih, idd = host.find(".svc."), dns.find(".svc.")
    if ih > 0 and host.endswith(dns[idd:]):
        ns_dot = host.find(".")
        if host[ns_dot + 1:ih] == dns[:idd]:  # same namespace: name, name.ns.svc, name.ns
            domains += both(host[:ns_dot]) + both(host[:ih] + ".svc") + both(host[:ih])
        else:  # another namespace: never the bare name (it would mean a local service)
            domains += both(host[:ih]) + both(host[:ih] + ".svc")
    if address:
        domains += both(address)
    return domains


def _string_match(sm: StringMatch) -> Json:
    if sm.kind == "regex":
        return {"safe_regex": {"regex": sm.value}}
    if sm.kind == "present":
        return {"safe_regex": {"regex": ".*"}}
    return {sm.kind: sm.value}


def _header(name: str, sm: StringMatch, invert: bool = False) -> Json:
    h: Json = {"name": name}
    if sm.kind == "present":
        h["present_match"] = True
    else:
        h["string_match"] = _string_match(sm)
    if invert:
        h["invert_match"] = True
    return h


def translate_match(m: HTTPMatchRequest | None, gateway_semantics: bool = False) -> Json:
    """Istio's ``translateRouteMatch``: path, headers (incl. ``:authority``/``:method``), query.
    With ``gateway_semantics`` (a VirtualService istiod made of Gateway API routes) a prefix
    other than ``/`` matches whole path segments: Envoy's ``path_separated_prefix``."""
    out: Json = {}
    uri = m.uri if m is not None else None
    if uri is None or uri.kind == "present":
        out["prefix"] = "/"
    elif uri.kind == "exact":
        out["path"] = uri.value
    elif uri.kind == "prefix" and gateway_semantics and uri.value != "/":
        out["path_separated_prefix"] = uri.value.rstrip("/")
    elif uri.kind == "prefix":
        out["prefix"] = uri.value
    else:
        out["safe_regex"] = {"regex": uri.value}
    if m is None:
        return out
    if m.ignore_uri_case:
        out["case_sensitive"] = False
    headers = [_header(k, v) for k, v in m.headers.items()]
    headers += [_header(k, v, invert=True) for k, v in m.without_headers.items()]
    for pseudo, sm in ((":authority", m.authority), (":method", m.method), (":scheme", m.scheme)):
        if sm is not None:
            headers.append(_header(pseudo, sm))
    if headers:
        out["headers"] = headers
    query = []
    for k, v in m.query_params.items():
        q: Json = {"name": k}
        if v.kind == "present":
            q["present_match"] = True
        else:
            q["string_match"] = _string_match(v)
        query.append(q)
    if query:
        out["query_parameters"] = query
    return out


def _applies(m: HTTPMatchRequest, port: int, proxy: Proxy, gateway: str | None, vs_ns: str) -> bool:
    """Whether a match block can apply to this proxy on this port (Istio drops the others): a
    sidecar takes the blocks bound to ``mesh``, a gateway's server those bound to its Gateway."""
    if m.port is not None and m.port != port:
        return False
    if gateway is None and m.gateways and "mesh" not in m.gateways:
        return False
    if gateway is not None and m.gateways and gateway not in {gateway_ref(g, vs_ns) for g in m.gateways}:
        return False
    if m.source_namespace and m.source_namespace != proxy.namespace:
        return False
    return all(proxy.labels.get(k) == v for k, v in m.source_labels.items())


def route_operation(route: Json, vs_name: str, port: int) -> str:
    """Istio's ``GetRouteOperation`` (the tracing decorator): ``host:port`` of the route's one
    cluster, else ``<VirtualService>:<listener port>``, then the path match (``prefix*``, the
    exact path or the regex; ``/*`` for anything else)."""
    m = route.get("match") or {}
    if "prefix" in m:
        path = f"{m['prefix']}*"
    elif "path" in m:
        path = str(m["path"])
    elif "safe_regex" in m:
        path = str(m["safe_regex"].get("regex", ""))
    else:
        path = "/*"
    parts = str((route.get("route") or {}).get("cluster") or "").split("|")
    if len(parts) == 4 and parts[1].isdigit():
        return f"{parts[3]}:{parts[1]}{path}"
    return f"{vs_name}:{port}{path}"


def _percent(value: float | None) -> Json:
    pct = 100.0 if value is None else value
    return {"numerator": int(round(pct * 10000)), "denominator": "MILLION"}


class RouteBuilder:
    """Builds the route configurations of one proxy."""

    def __init__(self, index: MeshIndex, proxy: Proxy) -> None:
        self.index, self.proxy = index, proxy

    def cluster_for(self, dest: Destination, vs_ns: str, port: int) -> str:
        """``GetDestinationCluster``: the destination's port, else the service's only port,
        else the listener port."""
        host = self.index.resolve(dest.host, vs_ns)
        p = dest.port
        if p is None:
            svcs = [s for s in self.index.services_for_host(host) if isinstance(s, Service)]
            p = svcs[0].ports[0].port if len(svcs) == 1 and len(svcs[0].ports) == 1 else port
        return subset_key("outbound", p or port, dest.subset or "", host)

    def _action(self, rule: HTTPRoute, vs_ns: str, port: int) -> Json:
        dests = [d for d in rule.route if (d.weight or 0) > 0] if len(rule.route) > 1 else list(rule.route)
        action: Json = {}
        if len(dests) == 1:
            action["cluster"] = self.cluster_for(dests[0].destination, vs_ns, port)
        elif dests:
            action["weighted_clusters"] = {"clusters": [
                {"name": self.cluster_for(d.destination, vs_ns, port), "weight": d.weight or 0} for d in dests]}
        action["timeout"] = rule.timeout or "0s"
        if rule.retries is None:
            action["retry_policy"] = _default_retry()
        elif rule.retries.attempts:
            tokens = [t.strip() for t in (rule.retries.retry_on or "connect-failure,refused-stream,unavailable,"
                                          "cancelled,503").split(",") if t.strip()]
            codes = [int(t) for t in tokens if t.isdigit()]
            on = [t for t in tokens if not t.isdigit()]
            if codes and "retriable-status-codes" not in on:
                on.append("retriable-status-codes")
            policy: Json = {"retry_on": ",".join(on), "num_retries": rule.retries.attempts,
                            "retry_host_predicate": _default_retry()["retry_host_predicate"],
                            "host_selection_retry_max_attempts": "5"}
            if codes:
                policy["retriable_status_codes"] = codes
            if rule.retries.per_try_timeout:
                policy["per_try_timeout"] = rule.retries.per_try_timeout
            action["retry_policy"] = policy
        if rule.rewrite is not None:
            if rule.rewrite.uri is not None:
                action["prefix_rewrite"] = rule.rewrite.uri
            if rule.rewrite.authority:
                action["host_rewrite_literal"] = rule.rewrite.authority
            if rule.rewrite.uri_regex_match is not None:
                action["regex_rewrite"] = {"pattern": {"regex": rule.rewrite.uri_regex_match},
                                           "substitution": rule.rewrite.uri_regex_rewrite or ""}
        mirrors = [(m.destination, m.percentage) for m in rule.mirrors]
        if rule.mirror is not None:
            mirrors.insert(0, (rule.mirror, rule.mirror_percentage))
        if mirrors:
            action["request_mirror_policies"] = [
                {"cluster": self.cluster_for(d, vs_ns, port),
                 "runtime_fraction": {"default_value": _percent(pct)}, "trace_sampled": False}
                for d, pct in mirrors]
        action["max_grpc_timeout"] = rule.timeout or "0s"
        return action

    def _fault(self, rule: HTTPRoute) -> Json | None:
        if rule.fault is None:
            return None
        fault: Json = {"@type": T + "envoy.extensions.filters.http.fault.v3.HTTPFault"}
        if rule.fault.delay is not None and rule.fault.delay.fixed_delay:
            fault["delay"] = {"fixed_delay": rule.fault.delay.fixed_delay,
                              "percentage": _percent(rule.fault.delay.percentage)}
        if rule.fault.abort is not None and rule.fault.abort.http_status:
            fault["abort"] = {"http_status": rule.fault.abort.http_status,
                              "percentage": _percent(rule.fault.abort.percentage)}
        return {"envoy.filters.http.fault": fault}

    def translate(self, vs: VirtualService, port: int, gateway: str | None = None) -> list[Json]:
        """The routes of ``vs`` on ``port``, in rule order (stops after a catch-all);
        ``gateway`` (``ns/name``) for a gateway's server, None for a sidecar."""
        vs_ns = vs.namespace or "default"
        meta = {"filter_metadata": {"istio": {"config": config_path("virtual-service", vs_ns, vs.name)}}}
        semantics = vs.annotations.get(ROUTE_SEMANTICS) == "gateway"
        routes: list[Json] = []
        for rule in vs.http:
            if rule.delegate is not None:
                continue  # delegate VirtualServices are not expanded by the generator
            matches: list[HTTPMatchRequest | None] = [m for m in rule.match
                                                       if _applies(m, port, self.proxy, gateway, vs_ns)]
            if rule.match and not matches:
                continue
            if not matches:
                matches = [None]
            for m in matches:
                r: Json = {"match": translate_match(m, semantics)}
                name = rule.name or ""
                if m is not None and m.name:
                    name = f"{name}.{m.name}" if name else m.name
                if name:
                    r = {"name": name, **r}
                if rule.redirect is not None:
                    rd = rule.redirect
                    redirect: Json = {}
                    if rd.uri:
                        redirect["path_redirect"] = rd.uri
                    if rd.authority:
                        redirect["host_redirect"] = rd.authority
                    if rd.scheme:
                        redirect["scheme_redirect"] = rd.scheme
                    codes = {302: "FOUND", 303: "SEE_OTHER", 307: "TEMPORARY_REDIRECT", 308: "PERMANENT_REDIRECT"}
                    if rd.redirect_code in codes:
                        redirect["response_code"] = codes[rd.redirect_code]
                    r["redirect"] = redirect
                elif rule.direct_response is not None:
                    dr: Json = {"status": rule.direct_response.status or 200}
                    if rule.direct_response.body:
                        dr["body"] = {"inline_string": rule.direct_response.body}
                    r["direct_response"] = dr
                else:
                    r["route"] = self._action(rule, vs_ns, port)
                    psp = r["match"].get("path_separated_prefix")
                    if psp and rule.rewrite is not None and rule.rewrite.uri == "/":
                        # Gateway semantics: ReplacePrefixMatch "/" drops the matched segments.
                        r["route"].pop("prefix_rewrite", None)
                        r["route"]["regex_rewrite"] = {"pattern": {"regex": f"^{re.escape(psp)}(/?)(.*)"},
                                                       "substitution": "/\\2"}
                r["metadata"] = meta
                r["decorator"] = {"operation": route_operation(r, vs.name, port)}
                fault = self._fault(rule)
                if fault is not None:
                    r["typed_per_filter_config"] = fault
                routes.append(r)
            if all(m is None or (translate_match(m, semantics) == {"prefix": "/"}) for m in matches):
                break  # a catch-all rule: Istio drops every later rule
        return routes

    def default_route(self, target: Target, port: int) -> Json:
        """Istio's route when no VirtualService applies: everything to ``outbound|port||host``."""
        return {"name": "default", "match": {"prefix": "/"},
                "route": {"cluster": subset_key("outbound", port, "", target.host), "timeout": "0s",
                          "retry_policy": _default_retry(), "max_grpc_timeout": "0s"},
                "decorator": {"operation": f"{target.host}:{port}/*"}}

    def virtual_host(self, target: Target, port: int) -> Json:
        """The virtual host ``host:port`` with its domains and routes."""
        routes: list[Json] = []
        vss = self.index.virtual_services_for_host(target.host, "mesh", from_namespace=self.proxy.namespace)
        if not vss:
            # Mesh (GAMMA) HTTPRoutes reach Envoy as the VirtualService istiod converts them to.
            gamma = self._gamma_virtual_service(target.host)
            vss = [gamma] if gamma is not None else []
        if vss:
            routes = self.translate(vss[0], port)
        if not vss:
            routes = [self.default_route(target, port)]
        return {"name": f"{target.host}:{port}", "domains": vhost_domains(target.host, port, target.address, self.proxy),
                "routes": routes, "include_request_attempt_count": True}

    def _gamma_virtual_service(self, host: str) -> VirtualService | None:
        from meshtui.routing.gateway_api_convert import mesh_virtual_service

        for svc in self.index.services_for_host(host):
            if isinstance(svc, Service):
                return mesh_virtual_service(self.index, svc)
        return None

    def catch_all(self) -> Json:
        """``allow_any`` to PassthroughCluster, or ``block_all`` (502) under REGISTRY_ONLY."""
        if self.index.mesh_config.outbound_traffic_policy == "REGISTRY_ONLY":
            return {"name": "block_all", "domains": ["*"], "include_request_attempt_count": True,
                    "routes": [{"name": "block_all", "match": {"prefix": "/"}, "direct_response": {"status": 502}}]}
        return {"name": "allow_any", "domains": ["*"], "include_request_attempt_count": True,
                "routes": [{"name": "allow_any", "match": {"prefix": "/"},
                            "route": {"cluster": "PassthroughCluster", "timeout": "0s", "max_grpc_timeout": "0s"}}]}

    def route_configs(self, targets: list[Target]) -> list[Json]:
        """One RouteConfiguration per HTTP port, in port order."""
        by_port: dict[int, list[Target]] = {}
        for t in targets:
            for p in t.ports:
                if p.http:
                    by_port.setdefault(p.port, []).append(t)
        out = []
        for port in sorted(by_port):
            vhosts = sorted((self.virtual_host(t, port) for t in by_port[port]), key=lambda v: v["name"])
            out.append({"@type": T + "envoy.config.route.v3.RouteConfiguration", "name": str(port),
                        "virtual_hosts": [*vhosts, self.catch_all()], "validate_clusters": False,
                        "max_direct_response_body_size_bytes": 1048576, "ignore_port_in_host_matching": True})
        return out
