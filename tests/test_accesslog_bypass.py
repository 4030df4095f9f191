"""Requests that bypass a service's routes because their Host matches no virtual host (the
Host-header trap), counted from the callers' outbound lines (Istio's default TEXT format)."""

from __future__ import annotations

from meshtui.accesslog.bypass import BypassTally, describe_bypass
from meshtui.accesslog.parser import TextParser

PARSER = TextParser()

# Lines as a sidecar writes them: a proxy forwarding its caller's Host (node IP:NodePort) while
# dialling backend-service's ClusterIP 10.96.0.15:80 takes the catch-all route `allow_any`.
PASSTHROUGH = ('[2026-12-02T22:27:00.754Z] "GET /api/orders HTTP/1.1" {code} - via_upstream - "-" 0 279 4 3 "-" '
               '"Mozilla/5.0" "4fe9902e-a190-49a2-95bb-9a2b026cf0ab" "{host}" "{upstream}" {cluster} '
               '10.244.0.21:51872 10.96.0.15:80 10.244.0.21:35781 - {route}')
ROUTED = ('[2026-12-02T22:26:30.381Z] "GET /api/orders HTTP/1.1" 200 - via_upstream - "-" 0 275 6 6 "-" '
          '"curl/8.16.0" "b2c2fc3c-f04e-4a05-9ec8-75172e14a899" "backend-service" "10.244.0.20:8080" '
          'outbound|80|v1|backend-service.default.svc.cluster.local 10.244.0.33:58823 10.96.0.15:80 '
          '10.244.0.33:40000 - default')


def line(host: str = "10.22.12.178:30785", upstream: str = "10.96.0.15:80", code: int = 200,
         cluster: str = "PassthroughCluster", route: str = "allow_any") -> str:
    return PASSTHROUGH.format(host=host, upstream=upstream, code=code, cluster=cluster, route=route)


def test_catch_all_requests_to_the_service_address_are_counted_per_host() -> None:
    tally = BypassTally({"10.96.0.15:80"})
    lines = [line(), line(), line(code=503), line(host="legacy.example.com"), ROUTED,
             line(upstream="10.96.0.99:80"),  # another service's address: not ours
             line(cluster="BlackHoleCluster", route="block_all", code=502, upstream="-")]
    counted = [tally.add(PARSER.parse(text)) for text in lines]
    assert counted == [True, True, True, True, False, False, True]
    assert [(h.authority, h.requests, h.errors, h.cluster) for h in tally.hosts()] == [
        ("10.22.12.178:30785", 3, 1, "PassthroughCluster"),
        ("10.22.12.178:30785", 1, 1, "BlackHoleCluster"),
        ("legacy.example.com", 1, 0, "PassthroughCluster"),
    ]
    assert tally.total == 5


def test_a_headless_service_has_no_address_to_recognise() -> None:
    tally = BypassTally(set())
    assert not tally.add(PARSER.parse(line()))
    assert tally.hosts() == []


def test_the_warning_names_the_virtual_service_the_hosts_and_the_share() -> None:
    tally = BypassTally({"10.96.0.15:80"})
    for _ in range(3):
        tally.add(PARSER.parse(line()))
    text = describe_bypass("default/backend-service", ["default/backend-service"], tally.hosts(), counted=9)
    assert text.startswith("VirtualService default/backend-service splits traffic to default/backend-service, but 3 request(s) (25% of")
    assert "10.22.12.178:30785 (3)" in text
    assert "do not apply to them" in text
