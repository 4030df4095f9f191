"""The CEL subset evaluates Istio's CRD rules as the API server would."""

from __future__ import annotations

import pytest

from meshtui.model.cel import CelError, CelUnsupported, Duration, evaluate, parse_duration


@pytest.mark.parametrize(("text", "nanos"), [
    ("1ms", 10**6), ("300s", 300 * 10**9), ("1.5s", 1_500_000_000), ("1h30m", 5400 * 10**9), ("0", 0),
])
def test_durations(text: str, nanos: int) -> None:
    assert parse_duration(text) == Duration(nanos)


@pytest.mark.parametrize("text", ["5x", "", "s", "1.5"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(CelError):
        parse_duration(text)


@pytest.mark.parametrize(("rule", "value", "expected"), [
    ("duration(self) >= duration('1ms')", "2s", True),
    ("duration(self) >= duration('1ms')", "0.5ms", False),
    ("0 < self && self <= 65535", 65536, False),
    ("0 < self && self <= 65535", 443, True),
    ("self.all(l1, self.exists_one(l2, l1.number == l2.number))", [{"number": 1}, {"number": 1}], False),
    ("self.all(l1, self.exists_one(l2, l1.number == l2.number))", [{"number": 1}, {"number": 2}], True),
    ('(has(self.address) ? self.address : "").startsWith("unix://") ? !has(self.ports) : true',
     {"address": "unix://@foo", "ports": {"http": 80}}, False),
    ('self.startsWith("unix://") ? (self.substring(7, 8) == "/" || self.substring(7, 8) == "@") : true',
     "unix://relative", False),
    ('self.all(key, size(key) < 63 && key.matches("^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$"))',
     {"http": 1, "@": 2}, False),
    ('((has(self.resolution) ? self.resolution : "NONE") == "NONE") ? !has(self.endpoints) : true',
     {"endpoints": [{}]}, False),
    ('self in ["", "HTTP", "HTTPS"]', "HTTP", True),
])
def test_istio_rules(rule: str, value: object, expected: bool) -> None:
    assert evaluate(rule, value) is expected


def test_unknown_constructs_are_reported_as_unsupported() -> None:
    with pytest.raises(CelUnsupported):
        evaluate("self.someFunction()", "x")
    with pytest.raises(CelUnsupported):
        evaluate("{'a': 1}", None)
