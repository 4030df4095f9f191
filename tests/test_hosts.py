"""Host names behave as in Istio (pkg/config/host/name.go and ResolveShortnameToFQDN)."""

from __future__ import annotations

import pytest

from meshtui.model.hosts import (
    expand_namespaced, fqdn, host_matches, host_subsumes, is_wildcard, most_specific_match,
)


@pytest.mark.parametrize(("host", "namespace", "expected"), [
    ("reviews", "default", "reviews.default.svc.cluster.local"),
    ("reviews", "prod", "reviews.prod.svc.cluster.local"),
    # Anything with a dot is taken as qualified: Istio does NOT expand name.namespace.
    ("reviews.prod", "default", "reviews.prod"),
    ("reviews.prod.svc.cluster.local", "default", "reviews.prod.svc.cluster.local"),
    ("*.example.com", "default", "*.example.com"),
    ("*", "default", "*"),
    ("10.1.2.3", "default", "10.1.2.3"),
    ("2001:db8::1", "default", "2001:db8::1"),
])
def test_fqdn_resolves_like_istio(host: str, namespace: str, expected: str) -> None:
    assert fqdn(host, namespace) == expected


def test_fqdn_uses_the_domain_suffix() -> None:
    assert fqdn("a", "b", domain_suffix="domain.suffix") == "a.b.svc.domain.suffix"


def test_kiali_style_half_fqdn_is_separate() -> None:
    assert expand_namespaced("reviews.prod", ["prod"]) == "reviews.prod.svc.cluster.local"
    assert expand_namespaced("www.google", ["prod"]) == "www.google"


# The examples documented on Name.Matches in istio/istio pkg/config/host/name.go.
@pytest.mark.parametrize(("a", "b", "expected"), [
    ("foo.com", "foo.com", True),
    ("foo.com", "bar.com", False),
    ("*.com", "foo.com", True),
    ("bar.com", "*.com", True),
    ("*.foo.com", "foo.com", False),
    ("*", "foo.com", True),
    ("*", "*.com", True),
    ("*.com", "*.foo.com", True),
    ("*.foo.com", "*.bar.com", False),
])
def test_host_matches(a: str, b: str, expected: bool) -> None:
    assert host_matches(a, b) is expected
    assert host_matches(b, a) is expected  # Matches is symmetric


# Name.SubsetOf: host_subsumes(o, n) == n.SubsetOf(o).
@pytest.mark.parametrize(("wildcard", "host", "expected"), [
    ("foo.com", "foo.com", True),
    ("*.com", "foo.com", True),
    ("*", "foo.com", True),
    ("*", "*.com", True),
    ("*.com", "*.foo.com", True),
    ("*.foo.com", "*.com", False),
    ("foo.com", "*.com", False),
    ("*.foo.com", "foo.com", False),
    ("bar.com", "foo.com", False),
])
def test_host_subsumes(wildcard: str, host: str, expected: bool) -> None:
    assert host_subsumes(wildcard, host) is expected


def test_most_specific_match() -> None:
    hosts = ["*", "*.com", "*.foo.com", "bar.foo.com"]
    assert most_specific_match("bar.foo.com", hosts) == "bar.foo.com"
    assert most_specific_match("baz.foo.com", hosts) == "*.foo.com"
    assert most_specific_match("x.org", hosts) == "*"
    assert most_specific_match("x.org", ["*.com"]) is None
    assert is_wildcard("*.com") and not is_wildcard("a.com")
