"""Just enough X.509 (DER) to fill istioctl's secret table: serial, validity, CA flag, SANs.

We read the first PEM block as Go's ``pem.Decode`` + ``x509.ParseCertificate`` do; any
structural problem raises ``CertError`` (istioctl then leaves the certificate columns empty).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime, timezone

_PEM = re.compile(rb"-----BEGIN ([^-]*)-----\s*(.*?)-----END \1-----", re.S)
_BASIC_CONSTRAINTS = "2.5.29.19"
_SUBJECT_ALT_NAME = "2.5.29.17"


class CertError(ValueError):
    """The data is not a PEM certificate we can read."""


@dataclass(frozen=True)
class Certificate:
    """The fields of a certificate the secret table shows."""

    serial: int
    not_before: datetime
    not_after: datetime
    is_ca: bool
    uris: tuple[str, ...]

    def valid_at(self, now: datetime) -> bool:
        """Go's ``now.After(NotBefore) && now.Before(NotAfter)``."""
        return self.not_before < now < self.not_after


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of value, end of value) of the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise CertError("truncated DER")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4 or pos + n > len(data):
            raise CertError("bad DER length")
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    end = pos + length
    if end > len(data):
        raise CertError("truncated DER")
    return tag, pos, end


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out = []
    pos = start
    while pos < end:
        tag, s, e = _tlv(data, pos)
        out.append((tag, s, e))
        pos = e
    return out


def _oid(raw: bytes) -> str:
    if not raw:
        return ""
    parts = [raw[0] // 40, raw[0] % 40]
    value = 0
    for b in raw[1:]:
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(value)
            value = 0
    return ".".join(str(p) for p in parts)


def _time(tag: int, raw: bytes) -> datetime:
    text = raw.decode("ascii", "replace")
    try:
        if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ
            t = datetime.strptime(text, "%y%m%d%H%M%SZ")
            if t.year >= 2050:
                t = t.replace(year=t.year - 100)
        elif tag == 0x18:  # GeneralizedTime YYYYMMDDHHMMSSZ
            t = datetime.strptime(text, "%Y%m%d%H%M%SZ")
        else:
            raise CertError("bad time")
    except ValueError as exc:
        raise CertError(f"bad time {text!r}") from exc
    return t.replace(tzinfo=timezone.utc)


def parse_der(der: bytes) -> Certificate:
    """Read a DER certificate."""
    _, cs, ce = _tlv(der, 0)
    tbs_tag, ts, te = _children(der, cs, ce)[0]
    fields = _children(der, ts, te)
    i = 1 if fields and fields[0][0] == 0xA0 else 0  # explicit [0] version
    tag, s, e = fields[i]
    if tag != 0x02:
        raise CertError("no serial number")
    serial = int.from_bytes(der[s:e], "big", signed=True)
    validity = _children(der, fields[i + 3][1], fields[i + 3][2])
    if len(validity) != 2:
        raise CertError("bad validity")
    not_before = _time(validity[0][0], der[validity[0][1] : validity[0][2]])
    not_after = _time(validity[1][0], der[validity[1][1] : validity[1][2]])
    is_ca = False
    uris: list[str] = []
    for tag, s, e in fields[i + 6 :]:
        if tag != 0xA3:
            continue
        (_, xs, xe), *_ = _children(der, s, e)
        for _, es, ee in _children(der, xs, xe):
            parts = _children(der, es, ee)
            oid = _oid(der[parts[0][1] : parts[0][2]])
            _, vs, ve = parts[-1]  # extnValue OCTET STRING
            if oid == _BASIC_CONSTRAINTS:
                _, bs, be = _tlv(der, vs)
                inner = _children(der, bs, be)
                is_ca = bool(inner and inner[0][0] == 0x01 and der[inner[0][1]] != 0)
            elif oid == _SUBJECT_ALT_NAME:
                _, ss, se = _tlv(der, vs)
                uris += [der[gs:ge].decode("ascii", "replace") for gtag, gs, ge in _children(der, ss, se) if gtag == 0x86]
    return Certificate(serial, not_before, not_after, is_ca, tuple(uris))


def parse_pem(pem: bytes) -> Certificate:
    """Read the first PEM block as a certificate."""
    m = _PEM.search(pem)
    if not m:
        raise CertError("failed to parse certificate PEM")
    try:
        der = base64.b64decode(re.sub(rb"\s+", b"", m.group(2)), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CertError("bad PEM base64") from exc
    try:
        return parse_der(der)
    except (IndexError, CertError) as exc:
        raise CertError(f"bad certificate: {exc}") from exc
