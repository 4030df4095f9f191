"""Istio host-name semantics: short-name resolution and wildcard matching.

Ported from istio/istio ``pilot/pkg/model`` (``ResolveShortnameToFQDN``) and
``pkg/config/host/name.go`` (``Name.Matches``, ``Name.SubsetOf``, ``MostSpecificHostMatch``).
Note that Istio only expands names *without a dot*: ``reviews`` in namespace ``default`` becomes
``reviews.default.svc.cluster.local``, but ``reviews.default`` is taken as already qualified
and matches no Kubernetes service (a classic misconfiguration). :func:`expand_namespaced` is
the separate, lenient reading some tools (Kiali) apply; it is never used for routing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable


def is_wildcard(host: str) -> bool:
    """Whether ``host`` is ``*`` or ``*.suffix``."""
    return host.startswith("*")


def _is_ip(host: str) -> bool:
    # Callers reach this only for names without a dot, so an IPv4 address never gets here;
    # without a colon it cannot be IPv6 either, and ip_address() raising is the slow path.
    if ":" not in host and "." not in host:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def fqdn(host: str, namespace: str, domain_suffix: str = "cluster.local") -> str:
    """Resolve ``host`` as written in an object of ``namespace``, exactly as Istio does.

    A name without a dot gets ``.<namespace>.svc.<domain_suffix>``; ``*``, IP addresses and
    anything containing a dot stay as written.
    """
    if not host or host == "*" or "." in host or _is_ip(host):
        return host
    out = host
    if namespace:
        out += "." + namespace
    if domain_suffix:
        out += ".svc." + domain_suffix
    return out


def expand_namespaced(host: str, namespaces: Iterable[str], domain_suffix: str = "cluster.local") -> str:
    """Kiali's lenient reading: ``name.ns`` (ns a known namespace) -> ``name.ns.svc.<suffix>``.

    Istio itself does not do this (see the module docstring); use it to *explain* a host that
    matches nothing, not to route.
    """
    parts = host.split(".")
    if len(parts) == 2 and parts[1] in set(namespaces) and not is_wildcard(host):
        return f"{host}.svc.{domain_suffix}"
    return host


def host_matches(a: str, b: str) -> bool:
    """Istio's ``Name.Matches``: whether the two (possibly wildcard) hosts overlap.

    Symmetric: ``*.com`` matches ``foo.com`` and ``foo.com`` matches ``*.com``; ``*`` matches
    everything; ``*.foo.com`` does not match ``foo.com``.
    """
    a_wild, b_wild = is_wildcard(a), is_wildcard(b)
    if a_wild and b_wild:
        if len(a) < len(b):
            return b[1:].endswith(a[1:])
        return a[1:].endswith(b[1:])
    if a_wild:
        return b.endswith(a[1:])
    if b_wild:
        return a.endswith(b[1:])
    return a == b


def host_subsumes(wildcard: str, host: str) -> bool:
    """Whether every name ``host`` stands for is covered by ``wildcard`` (``host.SubsetOf(wildcard)``).

    ``*.com`` subsumes ``foo.com`` and ``*.foo.com``; ``foo.com`` subsumes only itself; a
    wildcard is never covered by a plain name.
    """
    h_wild, w_wild = is_wildcard(host), is_wildcard(wildcard)
    if h_wild:
        if w_wild:
            if len(host) < len(wildcard):
                return False
            return host[1:].endswith(wildcard[1:])
        return False
    if w_wild:
        return host.endswith(wildcard[1:])
    return host == wildcard


def more_specific(a: str, b: str) -> bool:
    """Whether host ``a`` is more specific than ``b`` (Istio's ``host.MoreSpecific``):
    a plain name beats a wildcard; among two of a kind the longer wins."""
    a_wild, b_wild = is_wildcard(a), is_wildcard(b)
    if a_wild != b_wild:
        return not a_wild
    return len(a) > len(b)


def most_specific_match(needle: str, hosts: Iterable[str]) -> str | None:
    """Istio's ``MostSpecificHostMatch``: the exact host if present, else the most specific
    wildcard that covers ``needle``; None when nothing does."""
    candidates = list(hosts)
    if needle in candidates:
        return needle
    # A wildcard needle is compared by its suffix, as Istio does.
    suffix_of_needle = needle[1:] if is_wildcard(needle) else needle
    best: str | None = None
    for h in candidates:
        if is_wildcard(h) and suffix_of_needle.endswith(h[1:]):
            if best is None or more_specific(h, best):
                best = h
    return best
