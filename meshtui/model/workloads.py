"""Which pods (or, for manifests on disk, Deployments) a Service or a subset selects.

A part of :class:`meshtui.model.index.MeshIndex`, kept apart because it is its own job: label
selection over the index's per-namespace label sets, where the rest of the index resolves hosts.
"""

from __future__ import annotations

from typing import Any

from meshtui.model.hostmap import labels_match
from meshtui.model.kube import Deployment, Pod, Service

DEFAULT_NAMESPACE = "default"


class WorkloadLookups:
    """Pod and Deployment lookups; mixed into ``MeshIndex``, whose label sets they read."""

    _by_kind: dict[str, dict[tuple[str, str], Any]]
    _pod_labels: dict[tuple[str, str, str], set[str]]
    _pods_by_ns: dict[str, set[str]]
    _deployments_by_ns: dict[str, set[str]]

    def _ns(self, kind: str, namespace: str) -> str:
        raise NotImplementedError

    def resolve(self, host: str, namespace: str) -> str:
        raise NotImplementedError

    def destination_rule_for(self, host: str, from_namespace: str | None = None) -> Any:
        raise NotImplementedError

    def services_for_host(self, host: str) -> list[Any]:
        raise NotImplementedError

    def pods_for_service(self, service: Service) -> list[Pod]:
        """Pods selected by the Service's selector in its namespace (none without a selector)."""
        if not service.selector:
            return []
        return self.pods_matching(self._ns("Service", service.namespace), service.selector)

    def pods_matching(self, namespace: str, selector: dict[str, str]) -> list[Pod]:
        """Pods of ``namespace`` carrying every label of ``selector`` (empty selector: all)."""
        ns = namespace or DEFAULT_NAMESPACE
        names: set[str] | None = None
        for k, v in selector.items():
            matched = self._pod_labels.get((ns, k, v), set())
            names = set(matched) if names is None else names & matched
            if not names:
                return []
        if names is None:
            names = set(self._pods_by_ns.get(ns, set()))
        pods = self._by_kind["Pod"]
        return [pods[(ns, n)] for n in sorted(names)]  # type: ignore[misc]

    def _subset_selectors(self, host: str, subset: str, namespace: str) -> list[tuple[Service, dict[str, str]]]:
        target = self.resolve(host, namespace)
        dr = self.destination_rule_for(target, namespace)
        sub = dr.subset(subset) if dr is not None else None
        if sub is None:
            return []
        return [(s, {**s.selector, **sub.labels}) for s in self.services_for_host(target)
                if isinstance(s, Service) and s.selector]

    def pods_for_subset(self, host: str, subset: str, namespace: str) -> list[Pod]:
        """Pods behind ``host`` that the subset's labels select, using the DestinationRule seen
        from ``namespace`` (the namespace of the VirtualService or client naming the subset)."""
        out: list[Pod] = []
        for svc, selector in self._subset_selectors(host, subset, namespace):
            out.extend(self.pods_matching(self._ns("Service", svc.namespace), selector))
        return out

    def deployments_for_subset(self, host: str, subset: str, namespace: str) -> list[Deployment]:
        """Like :meth:`pods_for_subset` for Deployments' pod templates (``--files`` mode)."""
        out: list[Deployment] = []
        for svc, selector in self._subset_selectors(host, subset, namespace):
            out.extend(self.deployments_matching(self._ns("Service", svc.namespace), selector))
        return out

    def deployments_for_service(self, service: Service) -> list[Deployment]:
        """Deployments whose pod template the Service's selector selects."""
        if not service.selector:
            return []
        return self.deployments_matching(self._ns("Service", service.namespace), service.selector)

    def deployments_matching(self, namespace: str, selector: dict[str, str]) -> list[Deployment]:
        """Deployments of ``namespace`` whose template labels carry every label of ``selector``."""
        ns = namespace or DEFAULT_NAMESPACE
        deps = self._by_kind.get("Deployment", {})
        found = (deps.get((ns, name)) for name in sorted(self._deployments_by_ns.get(ns, ())))
        return [d for d in found if isinstance(d, Deployment) and labels_match(selector, d.template_labels)]
