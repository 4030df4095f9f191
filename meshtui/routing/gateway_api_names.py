"""Names istiod gives to what it generates from Gateway API routes (``conversion.go``), so that
meshtui's generated Envoy config and access logs match a real mesh's.

- an HTTPRoute/GRPCRoute rule becomes an Envoy route named by the rule's ``name`` when it has
  one, else ``<namespace>.<route name>.<rule position>``: what ``%ROUTE_NAME%`` logs;
- a mesh (GAMMA) route becomes part of an internal VirtualService ``<namespace>~<service FQDN>``.
"""

from __future__ import annotations


def envoy_route_name(route_namespace: str, route_name: str, rule_index: int, rule_name: str | None) -> str:
    """The Envoy route name (``%ROUTE_NAME%``) of rule ``rule_index`` of a Gateway API route."""
    return rule_name or f"{route_namespace or 'default'}.{route_name}.{rule_index}"


def mesh_virtual_service_name(service_namespace: str, host: str) -> str:
    """The name of the internal VirtualService istiod makes for the mesh routes of ``host``."""
    return f"{service_namespace}~{host}"
