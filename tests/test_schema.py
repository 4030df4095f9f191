"""CRD schema validation: what the API server would reject is rejected, with its field path."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from meshtui.model.schema import SchemaError, has_schema, supported_kinds, validate

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "conformance"
VALIDATION_TESTS = SHARED / "crds" / "validation-tests"
SAMPLES = SHARED / "samples"


def _load_all(path: Path) -> list[dict[str, Any]]:
    # YAML 1.2 (ruamel), like the API server's decoder: PyYAML (YAML 1.1) reads the IPv6
    # address `001:db8::` inside a flow sequence as a mapping.
    return [d for d in YAML(typ="safe").load_all(path.read_text()) if isinstance(d, dict)]


def _vs(**http: Any) -> dict[str, Any]:
    route = {"route": [{"destination": {"host": "reviews", "subset": "v1"}, "weight": 100}]}
    route.update(http)
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "reviews", "namespace": "default"},
        "spec": {"hosts": ["reviews"], "http": [route]},
    }


def _cases(valid: bool) -> list[Any]:
    out = []
    for path in sorted(VALIDATION_TESTS.glob("*-valid.yaml" if valid else "*-invalid.yaml")):
        for i, doc in enumerate(_load_all(path)):
            out.append(pytest.param(doc, id=f"{path.stem}-{i}-{doc['metadata']['name']}"))
    return out


def test_shipped_schemas_cover_the_networking_kinds() -> None:
    kinds = supported_kinds()
    for kind in ("VirtualService", "DestinationRule", "Gateway", "ServiceEntry", "Sidecar"):
        assert sorted(kinds[kind]) == ["v1", "v1alpha3", "v1beta1"]
    assert has_schema("networking.istio.io/v1beta1", "VirtualService")
    assert not has_schema("v1", "Service")


def test_weight_of_the_wrong_type_is_reported_at_its_field() -> None:
    raw = _vs()
    raw["spec"]["http"][0]["route"][0]["weight"] = "80"
    before = copy.deepcopy(raw)
    errors = validate(raw)
    assert [e.path for e in errors] == ["spec.http[0].route[0].weight"]
    assert "must be of type integer" in errors[0].message
    assert raw == before  # validation never touches the object


def test_unknown_match_operator_is_an_unknown_field_in_strict_mode() -> None:
    # StringMatch is a oneOf over required exact|prefix|regex plus a "none set" branch, so a
    # misspelt operator is not a oneOf failure: the API server prunes it (default) or rejects
    # it as an unknown field (fieldValidation=Strict).
    raw = _vs(match=[{"uri": {"prefixx": "/a"}}])
    assert validate(raw) == []
    assert validate(raw, strict=True) == [
        SchemaError("spec.http[0].match[0].uri.prefixx", 'unknown field "prefixx"')
    ]


def test_two_match_operators_at_once_break_the_oneof() -> None:
    errors = validate(_vs(match=[{"uri": {"prefix": "/a", "exact": "/a"}}]))
    assert [e.path for e in errors] == ["spec.http[0].match[0].uri"]
    assert "oneOf" in errors[0].message


def test_malformed_timeout_fails_the_duration_rule() -> None:
    errors = validate(_vs(timeout="5x"))
    assert [str(e) for e in errors] == [
        'spec.http[0].timeout: Invalid value: "string": must be a valid duration greater than 1ms'
    ]
    assert validate(_vs(timeout="1.5s")) == []


def test_enum_and_required_fields() -> None:
    raw = {
        "apiVersion": "networking.istio.io/v1alpha3",
        "kind": "DestinationRule",
        "metadata": {"name": "r"},
        "spec": {"trafficPolicy": {"loadBalancer": {"simple": "FASTEST"}}},
    }
    paths = {e.path: e.message for e in validate(raw)}
    assert paths["spec.host"] == "Required value"
    assert paths["spec.trafficPolicy.loadBalancer.simple"].startswith('Unsupported value: "FASTEST"')


def test_unknown_version_of_a_networking_kind_is_an_error() -> None:
    raw = _vs()
    raw["apiVersion"] = "networking.istio.io/v2"
    [error] = validate(raw)
    assert error.path == "apiVersion"
    assert "v1alpha3" in error.message


def test_objects_outside_the_istio_group_have_no_schema() -> None:
    assert validate({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": 3}) == []


@pytest.mark.parametrize("doc", _cases(valid=True))
def test_istio_valid_crd_examples_pass(doc: dict[str, Any]) -> None:
    assert validate(doc) == []


@pytest.mark.parametrize("doc", _cases(valid=False))
def test_istio_invalid_crd_examples_fail_with_the_expected_error(doc: dict[str, Any]) -> None:
    doc = dict(doc)
    expected = doc.pop("_err")
    errors = [str(e) for e in validate(doc)]
    assert any(expected in e for e in errors), errors


def _sample_networking_objects() -> list[Any]:
    out = []
    for path in sorted(SAMPLES.rglob("*.yaml")):
        for doc in _load_all(path):
            if str(doc.get("apiVersion", "")).startswith("networking.istio.io/"):
                name = f"{path.relative_to(SAMPLES)}:{doc['kind']}/{doc['metadata']['name']}"
                out.append(pytest.param(doc, id=name))
    return out


@pytest.mark.parametrize("doc", _sample_networking_objects())
def test_every_istio_sample_validates(doc: dict[str, Any]) -> None:
    assert validate(doc) == []


def test_strict_mode_flags_the_obsolete_websocket_upgrade_field() -> None:
    [doc] = [d for d in _load_all(SAMPLES / "pilot-test-configs" / "rule-websocket-route.yaml")
             if d["metadata"]["name"] == "websocket-route"]
    assert validate(doc) == []
    assert [e.path for e in validate(doc, strict=True)] == ["spec.http[0].websocketUpgrade"]


def test_prune_drops_unknown_fields_like_the_api_server() -> None:
    from meshtui.model.schema import prune

    raw = _vs(match=[{"uri": {"prefixx": "/a", "prefix": "/b"}}], websocketUpgrade=True)
    raw["spec"]["bogus"] = 1
    pruned = prune(raw)
    assert pruned["spec"]["http"][0]["match"][0]["uri"] == {"prefix": "/b"}
    assert "websocketUpgrade" not in pruned["spec"]["http"][0] and "bogus" not in pruned["spec"]
    assert pruned["metadata"] == raw["metadata"] and "bogus" in raw["spec"]
    assert validate(pruned, strict=True) == []
