"""Istio's Gateway API conversion cases as meshtui sees them: the input objects plus what the
upstream test harness adds (``istio-conversion/index.yaml``: the service registry as Services and
ServiceEntries, a labelled Namespace for every namespace used), and the goldens parsed."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml

from paths import CONFORMANCE_ROOT

CONVERSION = CONFORMANCE_ROOT / "gateway-api" / "istio-conversion"
DOMAIN = "domain.suffix"


@functools.cache
def index() -> dict[str, Any]:
    """The transcribed index of the conversion cases (read once; treat as read-only)."""
    return yaml.safe_load((CONVERSION / "index.yaml").read_text())


def load(path: Path) -> list[dict[str, Any]]:
    """The mapping documents of a YAML stream."""
    return [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]


def _ports(entry: dict[str, Any]) -> list[dict[str, Any]]:
    specs = entry.get("ports") or ["http 80 HTTP", "tcp 34000 TCP", "tcp-other 34001 TCP"]
    out = []
    for spec in specs:
        name, number, protocol = spec.split()
        out.append({"name": name, "port": int(number), "protocol": "TCP" if protocol != "UDP" else "UDP"})
    return out


def harness_objects(inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the harness adds to every case: registry Services / ServiceEntries and Namespaces."""
    out: list[dict[str, Any]] = []
    namespaces = {(d.get("metadata") or {}).get("namespace") or "default" for d in inputs}
    for entry in index()["harness"]["service_registry"]["services"]:
        host, ns = entry["host"], entry["namespace"]
        namespaces.add(ns)
        if host.endswith("." + DOMAIN):
            out.append({"apiVersion": "v1", "kind": "Service",
                        "metadata": {"name": host.split(".")[0], "namespace": ns},
                        "spec": {"ports": _ports(entry)}})
        else:
            out.append({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
                        "metadata": {"name": "registry-" + host.replace(".", "-"), "namespace": ns},
                        "spec": {"hosts": [host], "ports": [{"number": p["port"], "name": p["name"],
                                                             "protocol": "HTTP"} for p in _ports(entry)]}})
    present = {(d.get("metadata") or {}).get("name") for d in inputs if d.get("kind") == "Namespace"}
    for ns in sorted(namespaces - present):
        out.append({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": ns, "labels": {"istio.io/test-name-part": ns.split("-")[0]}}})
    return out


def case_objects(case: str) -> list[dict[str, Any]]:
    """A case's input with the harness objects (first, so an input Service of the same name wins);
    a fresh copy each call."""
    return copy.deepcopy(_case_objects(case))


@functools.cache
def _case_objects(case: str) -> list[dict[str, Any]]:
    inputs = load(CONVERSION / f"{case}.yaml")
    return harness_objects(inputs) + inputs


@functools.cache
def registry_hosts() -> frozenset[str]:
    """Every host of the harness's service registry."""
    return frozenset(e["host"] for e in index()["harness"]["service_registry"]["services"])
