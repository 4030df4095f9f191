"""The effective waypoint of services and workloads follows istiod's precedence, checks and messages."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from paths import CONFORMANCE_ROOT

from meshtui.model import ambient
from meshtui.model.index import MeshIndex
from meshtui.model.kube import Pod
from meshtui.routing.waypoint_binding import find_waypoint, service_binding, waypoints, workload_binding

AMBIENT = CONFORMANCE_ROOT / "ambient"


def _ns(name: str, labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": labels or {}, "annotations": annotations or {}}}


def _waypoint(name: str, ns: str = "app", *, ready: bool = True, labels: dict[str, str] | None = None,
              allowed: dict[str, Any] | None = None, cls: str = "istio-waypoint") -> dict[str, Any]:
    listener: dict[str, Any] = {"name": "mesh", "port": 15008, "protocol": "HBONE"}
    if allowed is not None:
        listener["allowedRoutes"] = {"namespaces": allowed}
    gw: dict[str, Any] = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
                          "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
                          "spec": {"gatewayClassName": cls, "listeners": [listener]}}
    if ready:
        gw["status"] = {"addresses": [{"type": "Hostname", "value": f"{name}.{ns}.svc.cluster.local"}]}
    return gw


def _svc(name: str, ns: str = "app", labels: dict[str, str] | None = None,
         annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns, "labels": labels or {}, "annotations": annotations or {}},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80}]}}


def _pod(name: str, ns: str = "app", labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None,
         host_network: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "app"}]}
    if host_network:
        spec["hostNetwork"] = True
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": labels or {}, "annotations": annotations or {}},
            "spec": spec}


def _index(*objs: dict[str, Any]) -> MeshIndex:
    return MeshIndex(objs)


def _get(index: MeshIndex, kind: str, name: str, ns: str = "app") -> Any:
    obj = index.get(kind, ns, name)
    assert obj is not None
    return obj


# -- dataplane mode -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ns_labels", "pod_labels", "annotations", "host_network", "mode"),
    [
        ({"istio.io/dataplane-mode": "ambient"}, {}, {}, False, "ambient"),
        ({"istio.io/dataplane-mode": "ambient"}, {"istio.io/dataplane-mode": "none"}, {}, False, "none"),
        ({}, {"istio.io/dataplane-mode": "ambient"}, {}, False, "ambient"),
        ({}, {}, {}, False, "none"),
        ({"istio.io/dataplane-mode": "ambient"}, {}, {"sidecar.istio.io/status": "{}"}, False, "sidecar"),
        ({"istio.io/dataplane-mode": "ambient"}, {}, {}, True, "none"),
    ],
)
def test_pod_dataplane_mode_follows_istio_cni_default_selectors(
    ns_labels: dict[str, str], pod_labels: dict[str, str], annotations: dict[str, str], host_network: bool, mode: str
) -> None:
    pod = Pod.parse(_pod("p", labels=pod_labels, annotations=annotations, host_network=host_network))
    assert ambient.pod_dataplane_mode(pod, ns_labels) == mode


def test_label_and_annotation_names_are_istios() -> None:
    labels = {x["name"] for x in yaml.safe_load((AMBIENT / "labels-annotations" / "labels.yaml").read_text())["labels"]}
    annotations = {x["name"] for x in
                   yaml.safe_load((AMBIENT / "labels-annotations" / "annotations.yaml").read_text())["annotations"]}
    for name in (ambient.DATAPLANE_MODE, ambient.USE_WAYPOINT, ambient.USE_WAYPOINT_NAMESPACE,
                 ambient.USE_WAYPOINT_CANARY, ambient.USE_WAYPOINT_CANARY_NAMESPACE, ambient.WAYPOINT_FOR):
        assert name in labels
    assert ambient.USE_WAYPOINT_CANARY_WEIGHT in annotations
    assert ambient.AMBIENT_REDIRECTION in annotations


# -- precedence -------------------------------------------------------------------------------------


def test_namespace_label_applies_and_the_services_own_label_wins() -> None:
    index = _index(_ns("app", {"istio.io/use-waypoint": "ns-wp"}), _waypoint("ns-wp"), _waypoint("svc-wp"),
                   _svc("a"), _svc("b", labels={"istio.io/use-waypoint": "svc-wp"}))
    a = service_binding(index, _get(index, "Service", "a"))
    b = service_binding(index, _get(index, "Service", "b"))
    assert a.waypoint is not None and a.waypoint.name == "ns-wp" and a.ref is not None and a.ref.source == "Namespace"
    assert b.waypoint is not None and b.waypoint.name == "svc-wp" and b.ref is not None and b.ref.source == "Service"


def test_none_on_the_service_opts_out_of_the_namespace_waypoint() -> None:
    index = _index(_ns("app", {"istio.io/use-waypoint": "ns-wp"}), _waypoint("ns-wp"),
                   _svc("a", labels={"istio.io/use-waypoint": "none"}))
    binding = service_binding(index, _get(index, "Service", "a"))
    assert binding.waypoint is None and binding.opted_out and binding.error is None


def test_use_waypoint_namespace_names_a_waypoint_elsewhere_that_must_admit_the_namespace() -> None:
    labels = {"istio.io/use-waypoint": "shared", "istio.io/use-waypoint-namespace": "infra"}
    denied = _index(_ns("app"), _ns("infra"), _waypoint("shared", "infra"), _svc("a", labels=labels))
    binding = service_binding(denied, _get(denied, "Service", "a"))
    assert binding.waypoint is None and binding.error is not None
    assert binding.error.reason == "AttachmentDenied"
    assert binding.error.message == 'we are not permitted to attach to waypoint "infra/shared" (missing allowedRoutes?)'
    allowed = _index(_ns("app"), _ns("infra"), _waypoint("shared", "infra", allowed={"from": "All"}),
                     _svc("a", labels=labels))
    assert service_binding(allowed, _get(allowed, "Service", "a")).waypoint is not None
    selected = _index(_ns("app", {"team": "x"}), _ns("infra"), _svc("a", labels=labels),
                      _waypoint("shared", "infra", allowed={"from": "Selector", "selector": {"matchLabels": {"team": "x"}}}))
    assert service_binding(selected, _get(selected, "Service", "a")).waypoint is not None


def test_a_waypoint_without_a_status_address_or_missing_is_not_ready() -> None:
    index = _index(_ns("app"), _waypoint("wp", ready=False), _svc("a", labels={"istio.io/use-waypoint": "wp"}),
                   _svc("b", labels={"istio.io/use-waypoint": "ghost"}))
    for name, wp in (("a", "app/wp"), ("b", "app/ghost")):
        binding = service_binding(index, _get(index, "Service", name))
        assert binding.waypoint is None and binding.error is not None
        assert (binding.error.reason, binding.error.message) == ("WaypointIsNotReady", f'waypoint "{wp}" is not ready')


def test_traffic_type_gateway_label_overrides_its_class_and_gates_binding() -> None:
    cls = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
           "metadata": {"name": "istio-waypoint", "labels": {"istio.io/waypoint-for": "workload"}},
           "spec": {"controllerName": "istio.io/mesh-controller"}}
    index = _index(cls, _ns("app", {"istio.io/use-waypoint": "by-class"}), _waypoint("by-class"),
                   _waypoint("all", labels={"istio.io/waypoint-for": "all"}),
                   _svc("a"), _svc("b", labels={"istio.io/use-waypoint": "all"}),
                   _pod("p", labels={"app": "a"}))
    by_class = find_waypoint(index, "app", "by-class")
    assert by_class is not None and by_class.traffic_type == "workload"
    a = service_binding(index, _get(index, "Service", "a"))
    assert a.waypoint is None and a.error is not None and a.error.reason == "UnsupportedTrafficType"
    assert a.error.message == 'attempting to bind to traffic type "service" which the waypoint "app/by-class" does not support'
    assert service_binding(index, _get(index, "Service", "b")).waypoint is not None
    pod = workload_binding(index, _get(index, "Pod", "p"))
    assert pod.waypoint is not None and pod.waypoint.name == "by-class"


def test_pod_inheriting_a_service_waypoint_has_none_silently_but_its_own_label_errs() -> None:
    index = _index(_ns("app", {"istio.io/use-waypoint": "wp"}), _waypoint("wp"),
                   _pod("inherits"), _pod("asks", labels={"istio.io/use-waypoint": "wp"}))
    inherits = workload_binding(index, _get(index, "Pod", "inherits"))
    assert inherits.waypoint is None and inherits.error is None
    asks = workload_binding(index, _get(index, "Pod", "asks"))
    assert asks.error is not None and asks.error.reason == "UnsupportedTrafficType" and '"workload"' in asks.error.message


def test_a_waypoints_own_service_and_pods_get_no_waypoint() -> None:
    index = _index(_ns("app", {"istio.io/use-waypoint": "wp"}),
                   _waypoint("wp", labels={"istio.io/waypoint-for": "all"}),
                   _svc("wp", labels={"gateway.istio.io/managed": "istio.io-mesh-controller"}),
                   _pod("wp-123", labels={"gateway.networking.k8s.io/gateway-name": "wp"}))
    assert service_binding(index, _get(index, "Service", "wp")).waypoint is None
    assert workload_binding(index, _get(index, "Pod", "wp-123")).waypoint is None


def test_waypoints_lists_only_istio_waypoint_gateways() -> None:
    index = _index(_waypoint("wp"), _waypoint("ingress", cls="istio"))
    assert [w.name for w in waypoints(index)] == ["wp"]


# -- weighted canary (Istio 1.31) ---------------------------------------------------------------------


def test_canary_splits_new_connections_by_its_weight() -> None:
    index = _index(_ns("app"), _waypoint("wp"), _waypoint("wp-v2"),
                   _svc("reviews", labels={"istio.io/use-waypoint": "wp", "istio.io/use-waypoint-canary": "wp-v2"},
                        annotations={"istio.io/use-waypoint-canary-weight": "5"}))
    binding = service_binding(index, _get(index, "Service", "reviews"))
    assert [(w.name, weight) for w, weight in binding.weights] == [("wp", 95), ("wp-v2", 5)]


def test_canary_weight_defaults_to_zero() -> None:
    index = _index(_ns("app"), _waypoint("wp"), _waypoint("wp-v2"),
                   _svc("r", labels={"istio.io/use-waypoint": "wp", "istio.io/use-waypoint-canary": "wp-v2"}))
    assert [weight for _, weight in service_binding(index, _get(index, "Service", "r")).weights] == [100, 0]


@pytest.mark.parametrize("weight", ["101", "-1", "abc", "5%", " 5"])
def test_invalid_canary_weight_keeps_the_primary(weight: str) -> None:
    index = _index(_ns("app"), _waypoint("wp"), _waypoint("wp-v2"),
                   _svc("r", labels={"istio.io/use-waypoint": "wp", "istio.io/use-waypoint-canary": "wp-v2"},
                        annotations={"istio.io/use-waypoint-canary-weight": weight}))
    binding = service_binding(index, _get(index, "Service", "r"))
    assert [(w.name, x) for w, x in binding.weights] == [("wp", 100)]
    assert binding.canary is not None and binding.canary.error is not None
    assert binding.canary.error.reason == "CanaryInvalidWeight"
    assert binding.canary.error.message == 'canary waypoint "app/wp-v2" has an invalid weight; must be an integer in [0,100]'


def test_canary_same_as_primary_and_missing_canary_are_reported() -> None:
    index = _index(_ns("app"), _waypoint("wp"),
                   _svc("same", labels={"istio.io/use-waypoint": "wp", "istio.io/use-waypoint-canary": "wp"}),
                   _svc("gone", labels={"istio.io/use-waypoint": "wp", "istio.io/use-waypoint-canary": "nope"},
                        annotations={"istio.io/use-waypoint-canary-weight": "10"}))
    same = service_binding(index, _get(index, "Service", "same"))
    assert same.canary is not None and same.canary.error is not None
    assert same.canary.error.message == 'canary waypoint "app/wp" must differ from the primary waypoint'
    gone = service_binding(index, _get(index, "Service", "gone"))
    assert gone.canary is not None and gone.canary.error is not None and gone.canary.error.reason == "WaypointIsNotReady"
    assert [x for _, x in gone.weights] == [100]


def test_namespace_canary_applies_only_to_services_inheriting_the_namespace_primary() -> None:
    index = _index(_ns("app", {"istio.io/use-waypoint": "wp", "istio.io/use-waypoint-canary": "wp-v2"},
                       {"istio.io/use-waypoint-canary-weight": "30"}),
                   _waypoint("wp"), _waypoint("wp-v2"), _waypoint("own"),
                   _svc("inherits"), _svc("own", labels={"istio.io/use-waypoint": "own"}))
    inherits = service_binding(index, _get(index, "Service", "inherits"))
    assert [(w.name, x) for w, x in inherits.weights] == [("wp", 70), ("wp-v2", 30)]
    own = service_binding(index, _get(index, "Service", "own"))
    assert own.canary is None and [(w.name, x) for w, x in own.weights] == [("own", 100)]


def test_argo_sample_waypoints_read_their_revision_and_default_traffic_type() -> None:
    raw = yaml.safe_load((AMBIENT / "samples" / "ambient-argo" / "application" / "reviews-waypoint.yaml").read_text())
    raw["metadata"]["namespace"] = "ambient"
    index = _index(raw)
    wp = find_waypoint(index, "ambient", "bookinfo-reviews")
    assert wp is not None and wp.revision == "rapid" and wp.traffic_type == "service" and not wp.ready


def test_service_entry_binds_like_a_service() -> None:
    se = {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
          "metadata": {"name": "ext", "namespace": "app", "labels": {"istio.io/use-waypoint": "egress"}},
          "spec": {"hosts": ["api.example.com"], "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
                   "resolution": "DNS"}}
    index = _index(_ns("app"), _waypoint("egress"), se)
    binding = service_binding(index, _get(index, "ServiceEntry", "ext"))
    assert binding.waypoint is not None and binding.waypoint.name == "egress"
    assert binding.ref is not None and binding.ref.source == "ServiceEntry"
