"""Istio's own validation tables (``pkg/config/validation/validation_test.go``), as data.

Each file of ``tests/data/istio_validation/`` is one Go test table transcribed to YAML (the
file's header names the test and the cases left out). A case must be rejected exactly when
Istio rejects it (no false errors), must warn exactly when Istio warns, and where the Go test
names a fragment of the error text, an error must contain it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from meshtui.analysis import analyze
from meshtui.analysis.validation import validate
from meshtui.model import schema
from meshtui.model.index import MeshIndex
from paths import CONFORMANCE_ROOT

DATA = Path(__file__).parent / "data" / "istio_validation"
API = {"WorkloadEntry": "networking.istio.io/v1", "WorkloadGroup": "networking.istio.io/v1"}


# What meshtui cannot check: Istio builds an EnvoyFilter patch value into its Envoy type, with
# Envoy's protobuf descriptors (unknown and deprecated types, wrong field types).
KNOWN_GAPS = {
    "EnvoyFilter:invalid patch value": "needs Envoy's Cluster type to see that name is a string",
    "EnvoyFilter:deprecated config": "needs Envoy's type registry to know the v2 ExtAuthz type is gone",
    "EnvoyFilter:deprecated type": "needs Envoy's list of deprecated filter names",
}


def _cases() -> list[Any]:
    out = []
    for path in sorted(DATA.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        for case in doc["cases"]:
            case_id = f"{doc['kind']}:{case['name']}"
            marks = [pytest.mark.xfail(reason=KNOWN_GAPS[case_id], strict=True)] if case_id in KNOWN_GAPS else []
            out.append(pytest.param(doc["kind"], case, id=case_id, marks=marks))
    return out


def _object(kind: str, case: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API.get(kind, "networking.istio.io/v1"), "kind": kind,
            "metadata": case.get("metadata") or {}, "spec": case["spec"]}


@pytest.mark.parametrize(("kind", "case"), _cases())
def test_istio_validation_table(kind: str, case: dict[str, Any]) -> None:
    messages = validate(_object(kind, case))
    errors = [m.text for m in messages if m.level == "error"]
    warnings = [m.text for m in messages if m.level == "warning"]
    assert (not errors) == case["valid"], errors
    if case.get("error"):
        assert any(case["error"] in e for e in errors), errors
    if case.get("warning") is False and kind != "EnvoyFilter":
        assert not warnings, warnings
    if case.get("warning_text"):
        assert any(case["warning_text"] in w for w in warnings), warnings


@pytest.mark.parametrize(("kind", "case"), _cases())
def test_istio_validation_table_through_analyzer(kind: str, case: dict[str, Any]) -> None:
    """The same tables through ``schema.ValidationAnalyzer.<Kind>``, as ``meshtui analyze`` runs
    it: errors are IST0106, warnings IST0133 (or IST0130/IST0131 for unreachable rules and
    ineffective matches, which Istio's validation reports as warnings too)."""
    obj = _object(kind, case)
    obj["metadata"] = {"name": "foo", "namespace": "bar", **obj["metadata"]}
    findings = analyze(MeshIndex([obj]), [f"schema.ValidationAnalyzer.{kind}"])
    # The CRD schema is checked too; these tables are about Istio's validation only.
    crd = {f"Schema validation error: {e}" for e in schema.validate(obj)}
    istio = [f for f in findings if f.message not in crd]
    errors = [f for f in istio if f.level == "Error"]
    warnings = [f for f in istio if f.level != "Error"]
    assert all(f.code == "IST0106" for f in errors)
    assert all(f.code in ("IST0133", "IST0130", "IST0131") for f in warnings)
    assert (not errors) == case["valid"], [f.text() for f in errors]
    if kind == "EnvoyFilter":
        # Istio's EnvoyFilter test calls the validation without its blanket notice.
        warnings = [f for f in warnings if "EnvoyFilter exposes internal implementation details" not in f.message]
    if "warning" in case:  # tables that say nothing about warnings are not checked for them
        assert bool(warnings) == case["warning"], [f.text() for f in warnings]
    for f in errors:
        assert f.message.startswith("Schema validation error: ")


def _crd_examples() -> list[Any]:
    from ruamel.yaml import YAML

    # YAML 1.2, as the API server reads it (PyYAML turns "001:db8::" in a flow list into a map).
    loader = YAML(typ="safe", pure=True)
    out = []
    for path in sorted((CONFORMANCE_ROOT / "crds" / "validation-tests").glob("*.yaml")):
        for n, doc in enumerate(d for d in loader.load_all(path.read_text()) if d):
            out.append(pytest.param(doc, path.name.endswith("-valid.yaml"), id=f"{path.stem}[{n}]"))
    return out


@pytest.mark.parametrize(("doc", "valid"), _crd_examples())
def test_crd_examples_istio_and_schema_agree(doc: dict[str, Any], valid: bool) -> None:
    """istio/api's CRD examples: Istio's validation finds no error in a valid one (no false
    errors), and the CRD schema or Istio's validation rejects every invalid one."""
    doc = dict(doc)
    doc.pop("_err", None)
    istio_errors = [m.text for m in validate(doc) if m.level == "error"]
    if valid:
        assert istio_errors == []
    else:
        assert istio_errors or schema.validate(doc)
