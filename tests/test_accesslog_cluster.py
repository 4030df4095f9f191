"""Decoding Istio cluster names and Envoy response flags."""

from __future__ import annotations

import pytest

from meshtui.accesslog.cluster import parse_cluster
from meshtui.accesslog.flags import RESPONSE_FLAGS, describe, has_failure, lookup, split_flags


@pytest.mark.parametrize(
    ("name", "direction", "port", "subset", "host"),
    [
        ("outbound|9080|v1|reviews.default.svc.cluster.local", "outbound", 9080, "v1", "reviews.default.svc.cluster.local"),
        ("outbound|8000||httpbin.foo.svc.cluster.local", "outbound", 8000, "", "httpbin.foo.svc.cluster.local"),
        ("inbound|9080||", "inbound", 9080, "", ""),
        ("inbound|9080|http|reviews.default.svc.cluster.local", "inbound", 9080, "", "reviews.default.svc.cluster.local"),
        ("outbound_.8000_._.httpbin.foo.svc.cluster.local", "outbound", 8000, "", "httpbin.foo.svc.cluster.local"),
        ("PassthroughCluster", "passthrough", None, "", ""),
        ("BlackHoleCluster", "blackhole", None, "", ""),
        ("InboundPassthroughCluster", "inbound-passthrough", None, "", ""),
        ("InboundPassthroughClusterIpv4", "inbound-passthrough", None, "", ""),
        ("-", "none", None, "", ""),
        (None, "none", None, "", ""),
        ("my-static-cluster", "other", None, "", ""),
        ("a|b", "other", None, "", ""),
    ],
)
def test_cluster_names_decode(name: str | None, direction: str, port: int | None, subset: str, host: str) -> None:
    info = parse_cluster(name)
    assert (info.direction, info.port, info.subset, info.host) == (direction, port, subset, host)


def test_every_flag_the_issue_names_has_long_form_and_meaning() -> None:
    for short in "UH UF UO NR URX DC FI DI LH UT LR UR UC RL UAEX RLSE IH SI DPE UPE UMSDR OM DF NC".split():
        flag = RESPONSE_FLAGS[short]
        assert flag.long and flag.meaning
        assert lookup(flag.long) is flag
    assert RESPONSE_FLAGS["UH"].long == "NoHealthyUpstream"
    assert RESPONSE_FLAGS["UMSDR"].long == "UpstreamMaxStreamDurationReached"
    assert describe("UH").startswith("UH (NoHealthyUpstream:")
    assert "unknown" in describe("ZZ")


def test_flag_values_split_and_classify() -> None:
    assert split_flags("-") == [] and split_flags(None) == []
    assert split_flags("UT,URX") == ["UT", "URX"]
    assert has_failure("UH") and has_failure("UT,URX") and has_failure("NoHealthyUpstream")
    assert not has_failure("-") and not has_failure("DI") and not has_failure(None)
    assert has_failure("DI,UF")
