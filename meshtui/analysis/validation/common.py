"""What every kind's validation shares: the message list, and Istio's value checks (header
names and values are checked in ``meshtui.analysis.validation.headers``).

Restates the facts of istio/istio ``pkg/config/validation`` (``validation.go``) and
``pkg/config/validation/agent`` (host names, ports, IPs, durations, labels, exportTo): the
same conditions, with the same error texts, so a user reads here what istiod's webhook says.
Objects are read as decoded YAML/JSON (proto field names in camelCase); a field that is absent
or holds its zero value counts as unset, as in the proto the Go code reads.
"""

from __future__ import annotations

import ipaddress
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

UNIX_PREFIX = "unix://"
_DNS1123_LABEL = re.compile(r"^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$")
_WILDCARD_LABEL = re.compile(r"^(\*|(\*|\*-)?[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)$")
_QUALIFIED = r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_DNS_LABEL_FMT = r"[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?"
_TAG_KEY = re.compile(r"^(" + _DNS_LABEL_FMT + r"(?:\." + _DNS_LABEL_FMT + r")*/)?(" + _QUALIFIED + r")$")
_LABEL_VALUE = re.compile(r"^(" + _QUALIFIED + r")?$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_PROTOCOLS = {"tcp": "TCP", "udp": "UDP", "grpc": "GRPC", "grpc-web": "GRPC-Web", "http": "HTTP",
              "http_proxy": "HTTP_PROXY", "http2": "HTTP2", "https": "HTTPS", "tls": "TLS", "mongo": "Mongo",
              "redis": "Redis", "mysql": "MySQL"}
_HTTP = {"HTTP", "HTTP2", "HTTP_PROXY", "GRPC", "GRPC-Web"}
_TLS = {"HTTPS", "TLS"}
_TCP = {"TCP", "HTTPS", "TLS", "Mongo", "Redis", "MySQL"}


@dataclass(frozen=True, slots=True)
class Message:
    """One result of Istio's validation: ``level`` is ``error`` or ``warning``; ``text`` is
    Istio's error text; ``path`` the offending field (``spec.servers[0].port``) where known."""

    level: str
    text: str
    path: str | None = None


@dataclass
class Result:
    """The messages of one object's validation, in the order found."""

    messages: list[Message] = field(default_factory=list)

    def error(self, text: str, path: str | None = None) -> None:
        """Add an error (istiod rejects the object)."""
        self.messages.append(Message("error", text, path))

    def warn(self, text: str, path: str | None = None) -> None:
        """Add a warning (istiod accepts the object and says this)."""
        self.messages.append(Message("warning", text, path))

    def add(self, text: str | None, path: str | None = None) -> None:
        """Add ``text`` as an error when it is not None (the result of a ``check_*`` helper)."""
        if text is not None:
            self.error(text, path)

    def add_all(self, texts: list[str], path: str | None = None) -> None:
        """Add each text as an error."""
        for text in texts:
            self.error(text, path)


# ---- reading decoded objects -------------------------------------------------------------

def obj(value: Any) -> dict[str, Any]:
    """``value`` when it is a mapping, else an empty one (a wrong type is the schema's error)."""
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[Any]:
    """``value`` when it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def text(value: Any) -> str:
    """``value`` when it is a string, else ``""`` (unset)."""
    return value if isinstance(value, str) else ""


def num(value: Any) -> int | float:
    """``value`` when it is a number, else 0 (unset)."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def wrapped(value: Any) -> int | float:
    """A protobuf wrapper (``UInt32Value``...) as JSON writes it: the number, or ``{value: n}``."""
    if isinstance(value, dict):
        return num(value.get("value"))
    return num(value)


def string_map(value: Any) -> dict[str, str]:
    """A ``map<string,string>`` field (labels, header values), stringified."""
    return {str(k): "" if v is None else str(v) for k, v in obj(value).items()}


# ---- names, hosts and addresses (pkg/config/labels, pkg/config/validation/agent) ---------

def is_dns1123_label(value: str) -> bool:
    """``labels.IsDNS1123Label``."""
    return len(value) <= 63 and bool(_DNS1123_LABEL.match(value))


def is_wildcard_dns1123_label(value: str) -> bool:
    """``labels.IsWildcardDNS1123Label``."""
    return len(value) <= 63 and bool(_WILDCARD_LABEL.match(value))


def check_port(port: Any) -> str | None:
    """``agent.ValidatePort``."""
    n = num(port)
    if isinstance(n, int) and 1 <= n <= 65535:
        return None
    return f"port number {go_number(n)} must be in the range 1..65535"


def go_number(n: int | float) -> str:
    """A number as Go's ``%d``/``%v`` prints it."""
    return str(int(n)) if float(n).is_integer() else str(n)


def _dns1123_preconditions(name: str) -> str | None:
    if len(name) > 255:
        return f'domain name "{name}" too long (max 255)'
    if not name:
        return "empty domain name not allowed"
    return None


def _dns1123_labels(domain: str) -> str | None:
    parts = domain.split(".")
    top = parts[-1]
    if re.fullmatch(r"[+-]?\d+", top):
        return f'domain name "{domain}" invalid (top level domain "{top}" cannot be all-numeric)'
    for i, label in enumerate(parts):
        if i == len(parts) - 1 and label == "":
            return None
        if not is_dns1123_label(label):
            return f'domain name "{domain}" invalid (label "{label}" invalid)'
    return None


def check_fqdn(fqdn: str) -> str | None:
    """``agent.ValidateFQDN``."""
    return _dns1123_preconditions(fqdn) or _dns1123_labels(fqdn)


def check_wildcard_domain(domain: str) -> str | None:
    """``agent.ValidateWildcardDomain``: wildcards only in the first label."""
    err = _dns1123_preconditions(domain)
    if err:
        return err
    first, dot, rest = domain.partition(".")
    if not is_wildcard_dns1123_label(first):
        return f'domain name "{domain}" invalid (label "{first}" invalid)'
    return _dns1123_labels(rest) if dot else None


def check_wildcard_domain_for_gateway(sni: bool, domain: str) -> str | None:
    """``agent.ValidateWildcardDomainForVirtualServiceBoundToGateway``."""
    err = _dns1123_preconditions(domain)
    if err:
        return err
    if sni and domain.startswith("outbound_"):
        parts = domain.split("_")
        fmt = "outbound_.<port>_._.<hostname>"
        if len(parts) < 4:
            return f"domain name {domain} invalid, should follow '{fmt}' format"
        port, hostname = parts[1].strip("."), parts[3].strip(".")
        if parts[0] != "outbound":
            return f'domain name "{domain}" invalid (label "{parts[0]}" invalid)'
        if not re.search(r"[0-9]", port):
            return f'domain name "{domain}" invalid (label "{port}" invalid). should follow {fmt} format'
        if not re.search(r"[a-zA-Z]", hostname):
            return f'domain name "{domain}" invalid (label "{hostname}" invalid). should follow {fmt} format'
        return None
    return check_wildcard_domain(domain)


def is_ip(value: str) -> bool:
    """``netutil.IsValidIPAddress`` (IPv4 or IPv6, zones allowed)."""
    try:
        ipaddress.ip_address(value.split("%", 1)[0] if "%" in value else value)
    except ValueError:
        return False
    return True


def check_ip(addr: str) -> str | None:
    """``agent.ValidateIPAddress``."""
    return None if is_ip(addr) else f"{addr} is not a valid IP"


def check_ip_subnet(subnet: str) -> str | None:
    """``agent.ValidateIPSubnet``: CIDR notation or a plain address."""
    if subnet.count("/") == 1:
        try:
            ipaddress.ip_network(subnet, strict=False)
        except ValueError:
            return f"{subnet} is not a valid CIDR block"
        addr, _, bits = subnet.partition("/")
        if not bits.isdigit() or (bits.startswith("0") and bits != "0"):
            return f"{subnet} is not a valid CIDR block"
        return None
    return check_ip(subnet)


def check_partial_wildcard(host: str) -> str | None:
    """``agent.ValidatePartialWildCard``."""
    if "*" in host and len(host) != 1 and not host.startswith("*."):
        return f'partial wildcard "{host}" not allowed'
    return None


def _hostname_part(hostname: str, is_gateway: bool) -> list[str]:
    out: list[str] = []
    if hostname != "*" and "." not in hostname:
        out.append("short names (non FQDN) are not allowed")
    err = check_wildcard_domain(hostname)
    if err:
        if not is_gateway:
            out.append(err)
        if not is_ip(hostname):
            out.append(err)
    partial = check_partial_wildcard(hostname)
    if partial:
        out.append(partial)
    return out


def check_namespace_slash_host(hostname: str, is_gateway: bool, gateway_semantics: bool = False) -> list[str]:
    """``agent.ValidateNamespaceSlashWildcardHostname`` (Gateway server hosts, Sidecar egress hosts)."""
    parts = hostname.split("/", 1)
    if len(parts) != 2:
        if is_gateway:
            return _hostname_part(hostname, True)
        return ["host must be of form namespace/dnsName"]
    out: list[str] = []
    ns, name = parts
    if not ns or not name:
        out.append("config namespace and dnsName in host entry cannot be empty")
    if not is_gateway:
        bare = ns[1:] if ns.startswith("~") else ns
        if bare and bare not in ("*", ".") and not is_dns1123_label(bare):
            out.append(f'invalid namespace value "{ns}" in sidecar')
    elif ns not in ("*", ".") and (ns != "~" or not gateway_semantics):
        if not is_dns1123_label(ns):
            out.append(f'invalid namespace value "{ns}" in gateway')
    out.extend(_hostname_part(name, is_gateway))
    return out


def check_labels(labels: Any) -> list[str]:
    """``labels.Instance.Validate``: keys and values of a label map."""
    out: list[str] = []
    if not labels:
        return out
    for k, v in string_map(labels).items():
        m = _TAG_KEY.match(k)
        if m is None:
            out.append(f'invalid tag key: "{k}"')
        elif m.group(1) and len(m.group(1)) - 1 > 253:
            out.append(f'invalid tag key: "{k}" (DNS prefix is too long)')
        elif len(m.group(2)) > 63:
            out.append(f'invalid tag key: "{k}" (name is too long)')
        if not _LABEL_VALUE.match(v):
            out.append(f'invalid tag value: "{v}"')
    return out


def parse_protocol(name: str) -> str:
    """``protocol.Parse``: the canonical protocol name, or ``UnsupportedProtocol``."""
    return _PROTOCOLS.get(name.lower(), "UnsupportedProtocol")


def is_http(protocol: str) -> bool:
    """``protocol.Instance.IsHTTP``."""
    return parse_protocol(protocol) in _HTTP


def is_tls(protocol: str) -> bool:
    """``protocol.Instance.IsTLS``."""
    return parse_protocol(protocol) in _TLS


def is_tcp(protocol: str) -> bool:
    """``protocol.Instance.IsTCP``."""
    return parse_protocol(protocol) in _TCP


def check_protocol(name: str) -> str | None:
    """``ValidateProtocol``: empty (sniffing) or a known protocol."""
    if name and parse_protocol(name) == "UnsupportedProtocol":
        return f"unsupported protocol: {name}"
    return None


def check_port_name(name: str) -> str | None:
    """``ValidatePortName``."""
    return None if is_dns1123_label(name) else f"invalid port name: {name}"


def parse_duration(value: Any) -> float | None:
    """Seconds of a duration as written in YAML (``10s``, ``1.5s``, ``1m30s``, ``100ms``), or None
    when it does not parse (the schema reports that)."""
    if isinstance(value, dict):
        return float(num(value.get("seconds"))) + float(num(value.get("nanos"))) * 1e-9
    if not isinstance(value, str) or not value:
        return None
    s = value.strip()
    sign = -1.0 if s.startswith("-") else 1.0
    s = s.lstrip("+-")
    if s == "0":
        return 0.0
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
    total, pos = 0.0, 0
    for m in _DURATION_PART.finditer(s):
        if m.start() != pos:
            return None
        total += float(m.group(1)) * units[m.group(2)]
        pos = m.end()
    if pos != len(s) or pos == 0:
        return None
    return sign * total


def check_duration(value: Any) -> str | None:
    """``agent.ValidateDuration``: at least 1ms, in whole milliseconds."""
    seconds = parse_duration(value)
    if seconds is None:
        return None
    nanos = round(seconds * 1e9)
    if nanos < 1_000_000:
        return "duration must be greater than 1ms"
    if nanos % 1_000_000:
        return "only durations to ms precision are supported"
    return None


def check_percent(value: Any) -> str | None:
    """``ValidatePercent`` (an int32 percentage)."""
    n = wrapped(value)
    if n < 0 or n > 100:
        return f"percentage {go_number(n)} is not in range 0..100"
    return None


def check_percentage(value: Any) -> str | None:
    """``validatePercentage`` (a ``Percent`` message, a double)."""
    if value is None:
        return None
    n = wrapped(value)
    if n < 0 or n > 100 or 0 < n < 0.0001:
        return f"percentage {_go_float_g(n)} is neither 0.0, nor in range [0.0001, 100.0]"
    return None


def _go_float_g(n: int | float) -> str:
    return go_number(n) if float(n).is_integer() else repr(float(n))


def go_float_f(n: int | float) -> str:
    """Go's ``%f``."""
    return f"{float(n):.6f}"


# Perl constructs Go's RE2 parser refuses that Python's ``re`` accepts, with Go's words for them.
_NOT_RE2 = (
    (re.compile(r"[*+?}][+]"), "invalid nested repetition operator"),
    (re.compile(r"\(\?[=!]|\(\?<[=!]|\(\?P?>|\(\?\("), "invalid or unsupported Perl syntax"),
    (re.compile(r"\\[1-9]|\\[gk]<"), "invalid escape sequence"),
)


def regex_error(pattern: str) -> str | None:
    """Why Go's ``regexp.Compile`` (RE2 syntax) refuses ``pattern`` (``error parsing regexp: ...``), or None."""
    for construct, why in _NOT_RE2:
        m = construct.search(pattern)
        if m:
            return f"error parsing regexp: {why}: `{m.group(0)}`"
    try:
        with warnings.catch_warnings():
            # Python warns about constructs (nested sets such as "[[:alpha:]]") that RE2 reads fine.
            warnings.simplefilter("ignore")
            re.compile(pattern)
    except re.error as exc:
        return f"error parsing regexp: {exc}"
    except (RecursionError, OverflowError, ValueError) as exc:
        return f"error parsing regexp: {exc}"
    return None


def check_regex(pattern: str, where: str) -> str | None:
    """``validateStringRegexp``: at most 1024 characters and a valid RE2 expression."""
    if len(pattern) > 1024:
        return f'"{where}": regex is too large, max length allowed is 1024'
    why = regex_error(pattern)
    if why is None:
        return None
    return f'"{where}": {why}; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)'


def check_string_match(sm: Any, where: str, regex_only: bool = False) -> str | None:
    """``validateStringMatch`` (``validateStringMatchRegexp`` with ``regex_only``)."""
    if not isinstance(sm, dict):
        return None
    if "regex" in sm:
        re_text = text(sm.get("regex"))
        if not re_text:
            return f'"{where}": regex string match should not be empty'
        return check_regex(re_text, where)
    if not regex_only and "prefix" in sm and not text(sm.get("prefix")):
        return f'"{where}": prefix string match should not be empty'
    return None


# ---- shared by several kinds ------------------------------------------------------------------

def check_export_to(namespace: str, export_to: Any, service_entry: bool, dr_with_selector: bool) -> list[str]:
    """``validateExportTo``."""
    entries = [str(e) for e in items(export_to)]
    out: list[str] = []
    if not entries:
        return out
    seen: list[str] = []
    for e in entries:
        key = namespace if e == "." else e
        if key in seen:
            if key != e:
                out.append(f"duplicate entries in exportTo: . and current namespace {namespace}")
            else:
                out.append(f"duplicate entries in exportTo for entry {e}")
            continue
        if service_entry and e == "~":
            seen.append(key)
        elif key == "~":
            out.append("exportTo ~ (none) is not allowed for Istio configuration objects")
        elif key == "*" or is_dns1123_label(key):
            seen.append(key)
        else:
            out.append("only .,*, or a valid DNS 1123 label is allowed as exportTo entry")
    if dr_with_selector and seen:
        if namespace in seen:
            if len(seen) > 1:
                out.append("destination rule with workload selector cannot have multiple entries in exportTo")
        else:
            out.append("destination rule with workload selector cannot have exportTo beyond current namespace")
    if "*" in seen and len(entries) > 1:
        out.append("cannot have both public (*) and non-public exportTo values for a resource")
    if "~" in seen and len(entries) > 1:
        out.append("cannot export service entry to no one (~) and someone")
    return out


def check_alpha_workload_selector(selector: Any) -> tuple[str | None, list[str]]:
    """``ValidateAlphaWorkloadSelector`` (Sidecar, ServiceEntry): (warning, errors)."""
    if not isinstance(selector, dict):
        return None, []
    labels = string_map(selector.get("labels"))
    errors = []
    for k, v in labels.items():
        if k == "":
            errors.append(f'empty key is not supported in selector: "{k}={v}"')
        if "*" in k or "*" in v:
            errors.append(f'wildcard is not supported in selector: "{k}={v}"')
    warning = "workload selector specified without labels" if not labels else None
    return warning, errors


def check_workload_selector(result: Result, selector: Any, path: str) -> None:
    """``validateWorkloadSelector`` (``matchLabels``, DestinationRule)."""
    if not isinstance(selector, dict):
        return
    labels = string_map(selector.get("matchLabels"))
    for k, v in labels.items():
        if k == "":
            result.error(f'empty key is not supported in selector: "{k}={v}"', path)
        if "*" in k or "*" in v:
            result.error(f'wildcard is not supported in selector: "{k}={v}"', path)
    if not labels:
        result.warn("workload selector specified without labels", path)


def check_unix_address(addr: str) -> str | None:
    """``ValidateUnixAddress``."""
    if not addr:
        return "unix address must not be empty"
    if addr.startswith("@"):
        return None
    if not addr.startswith("/") or addr.endswith("/"):
        return f"{addr} is not an absolute path to a file"
    return None


def check_destination(result: Result, dest: Any, path: str) -> None:
    """``validateDestination``: host, subset name and port of a route destination."""
    if not isinstance(dest, dict):
        return
    host = text(dest.get("host"))
    if host == "*":
        result.error(f"invalid destination host {host}", f"{path}.host")
    else:
        result.add(check_wildcard_domain(host), f"{path}.host")
    if text(dest.get("subset")):
        result.add(check_subset_name(text(dest["subset"])), f"{path}.subset")
    if isinstance(dest.get("port"), dict):
        result.add(check_port(dest["port"].get("number")), f"{path}.port")


def check_subset_name(name: str) -> str | None:
    """``validateSubsetName``."""
    if not name:
        return "subset name cannot be empty"
    if not is_dns1123_label(name):
        return f"subset name is invalid: {name}"
    return None
