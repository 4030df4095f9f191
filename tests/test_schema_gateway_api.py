"""Gateway API objects against the shipped CRD schemas and their CEL rules, as the API server
checks them: the Gateway API project's own examples must be accepted (``valid/``) or rejected
(``invalid/``, each file on its own)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from meshtui.model.schema import has_schema, supported_kinds, validate
from paths import CONFORMANCE_ROOT

TESTS = CONFORMANCE_ROOT / "gateway-api" / "crds" / "validation-tests"
GROUP = "gateway.networking.k8s.io"


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]


VALID = sorted((TESTS / "valid").rglob("*.yaml"))
INVALID = sorted((TESTS / "invalid").rglob("*.yaml"))


def test_the_gateway_api_kinds_have_schemas() -> None:
    kinds = supported_kinds(GROUP)
    for kind in ("Gateway", "GatewayClass", "HTTPRoute", "GRPCRoute", "ReferenceGrant", "TLSRoute", "TCPRoute"):
        assert kind in kinds
    assert "v1beta1" in kinds["ReferenceGrant"] and "v1beta1" in kinds["HTTPRoute"]
    assert has_schema(f"{GROUP}/v1", "HTTPRoute") and not has_schema(f"{GROUP}/v9", "HTTPRoute")


@pytest.mark.parametrize("path", VALID, ids=[str(p.relative_to(TESTS)) for p in VALID])
def test_valid_example_is_accepted(path: Path) -> None:
    for doc in _docs(path):
        assert validate(doc) == [], f"{doc['kind']} {doc['metadata'].get('name')}"


@pytest.mark.parametrize("path", INVALID, ids=[str(p.relative_to(TESTS)) for p in INVALID])
def test_invalid_example_is_rejected(path: Path) -> None:
    errors = [e for doc in _docs(path) for e in validate(doc)]
    assert errors
    assert all(any(w in e.message for w in ("Invalid value", "Required value", "Unsupported value",
                                             "Duplicate value", "Too many", "Too long"))
               for e in errors), errors


def test_defaults_make_a_portless_service_ref_an_error() -> None:
    # A backendRef's kind defaults to Service, which then needs a port (a CEL rule on the default).
    route = {"apiVersion": f"{GROUP}/v1", "kind": "HTTPRoute", "metadata": {"name": "r"},
             "spec": {"rules": [{"backendRefs": [{"name": "svc"}]}]}}
    assert [str(e) for e in validate(route)] == [
        'spec.rules[0].backendRefs[0]: Invalid value: "object": Must have port for Service reference']
    assert "kind" not in route["spec"]["rules"][0]["backendRefs"][0]  # the caller's object is untouched


def test_address_format_is_checked() -> None:
    gw = {"apiVersion": f"{GROUP}/v1", "kind": "Gateway", "metadata": {"name": "g"},
          "spec": {"gatewayClassName": "istio", "addresses": [{"type": "IPAddress", "value": "1.2.3"}],
                   "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}}
    assert validate(gw)
    gw["spec"]["addresses"][0]["value"] = "10.0.0.1"
    assert validate(gw) == []
