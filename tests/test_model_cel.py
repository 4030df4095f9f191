"""CRD rules (CEL) evaluate as the API server would: Istio's, the Gateway API's and Kubernetes'
extension functions."""

from __future__ import annotations

import pytest

from meshtui.model.cel import CelError, CelUnsupported, evaluate


@pytest.mark.parametrize(("text", "seconds"), [
    ("1ms", 0.001), ("300s", 300), ("1.5s", 1.5), ("1h30m", 5400),
])
def test_durations(text: str, seconds: float) -> None:
    assert evaluate(f"duration(self) == duration('{seconds}s')", text) is True


@pytest.mark.parametrize("text", ["5x", "", "s", "1.5"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(CelError):
        evaluate("duration(self) > duration('0s')", text)


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
        evaluate("self ==", None)


# Gateway API rules the hand-written interpreter could not run or got wrong.
@pytest.mark.parametrize(("rule", "value", "expected"), [
    # Raw triple-quoted strings (Gateway API hostname and label-key rules).
    ('self.type == \'Hostname\' ? self.value.matches(r"""^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?$"""): true',
     {"type": "Hostname", "value": "*.example"}, True),
    ('self.type == \'Hostname\' ? self.value.matches(r"""^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?$"""): true',
     {"type": "Hostname", "value": "Bad_Host"}, False),
    # CEL's && is commutative: a false side decides even when the other side is an error.
    ("(size(self.group) == 0 && self.kind == 'Service') ? has(self.port) : true", {"kind": "Gateway"}, True),
    # RE2 classes in matches().
    ("self.matches('^[[:digit:]]+$')", "123", True),
    # Kubernetes' extension functions.
    ("isIP(self)", "10.1.2.3", True),
    ("isIP(self)", "::ffff:10.1.2.3", False),
    ("self.split('/').size() == 2", "ns/name", True),
])
def test_gateway_api_rules(rule: str, value: object, expected: bool) -> None:
    assert evaluate(rule, value) is expected


def test_substring_out_of_range_fails_the_rule_quietly(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(CelError):
        evaluate("self.substring(7, 8) == '/'", "unix://")
    assert capsys.readouterr().err == ""
