"""The kube source's fast pod decoder gives exactly the records ``slim_pod`` makes of full pods.

Pod list pages are decoded straight into slim records (``meshtui.sources.kube_fastpod``); the
plain path decodes the whole page and slims each pod. Whatever a pod holds, both must keep the
same fields with the same values, or the browser would show pods differently by decoder.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshtui.sources.kube_slim import slim_pod

fastpod = pytest.importorskip("meshtui.sources.kube_fastpod")

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_text = st.sampled_from(["", "app", "istio-proxy", "Running", "Ready", "True", "10.0.0.7"])
_scalar = st.one_of(st.none(), _text, st.booleans(), st.integers(0, 5))


def _optional(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Mappings holding any subset of ``fields`` (a JSON null where a value may be null)."""
    return st.fixed_dictionaries({}, optional=fields)


_labels = st.dictionaries(st.sampled_from(["app", "version", LAST_APPLIED, "sidecar.istio.io/status"]), _text)
_container = _optional({"name": st.one_of(_text, st.none()), "restartPolicy": st.one_of(_scalar, _text),
                        "image": _text, "env": st.just([{"name": "X", "value": "1"}])})
_containers = st.one_of(st.none(), st.lists(_container, max_size=3))
_status_item = _optional({"name": _text, "ready": _scalar, "restartCount": _scalar, "image": _text})
_statuses = st.one_of(st.none(), st.lists(_status_item, max_size=3))
_condition = _optional({"type": st.sampled_from(["Ready", "PodScheduled", "ContainersReady"]),
                        "status": st.one_of(st.none(), _text), "lastProbeTime": st.none()})

_pod = _optional({
    "apiVersion": st.sampled_from(["v1"]),
    "kind": st.just("Pod"),
    "metadata": st.one_of(st.none(), _optional({
        "name": _scalar, "namespace": _scalar, "labels": st.one_of(st.none(), _labels),
        "annotations": st.one_of(st.none(), _labels), "ownerReferences": st.just([{"kind": "ReplicaSet"}]),
        "resourceVersion": _scalar, "uid": _scalar, "creationTimestamp": _scalar,
        "deletionTimestamp": _scalar, "generateName": _text, "managedFields": st.just([{"manager": "x"}]),
    })),
    "spec": st.one_of(st.none(), _optional({
        "containers": _containers, "initContainers": _containers, "nodeName": _scalar,
        "hostNetwork": _scalar, "serviceAccountName": _text, "volumes": st.just([{"name": "v"}]),
    })),
    "status": st.one_of(st.none(), _optional({
        "phase": _scalar, "podIP": _scalar, "hostIP": _text,
        "conditions": st.one_of(st.none(), st.lists(_condition, max_size=3)),
        "containerStatuses": _statuses, "initContainerStatuses": _statuses,
    })),
})


@settings(max_examples=300, deadline=None)
@given(st.lists(_pod, max_size=4))
def test_fast_decoder_keeps_what_slim_pod_keeps(pods: list[dict[str, Any]]) -> None:
    body = json.dumps({"kind": "PodList", "metadata": {"resourceVersion": "7", "continue": "abc"},
                       "items": pods}).encode()
    page = fastpod.decode_page(body)
    assert page is not None
    assert page["metadata"] == {"resourceVersion": "7", "continue": "abc"}
    # json.dumps compares key order too: the records must be the same dicts, built the same way.
    assert json.dumps(page["items"]) == json.dumps([slim_pod(p) for p in pods])


def test_a_page_of_another_shape_is_left_to_the_full_decoder() -> None:
    assert fastpod.decode_page(b'{"items": [{"metadata": 5}]}') is None
    assert fastpod.decode_page(b"not json") is None
