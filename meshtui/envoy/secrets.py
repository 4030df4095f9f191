"""``proxy-config secret``: istioctl's SDS secret table (writer/compare/sds).

Warming secrets come first, then active ones (an active secret at version ``uninitialized``
shows as UNINITIALIZED). The certificate columns come from the first certificate of the
chain, or of the trusted CA bundle. A SPIRE-style ROOTCA (SPIFFE certificate validator with
per-trust-domain bundles) gives one row per trust domain; whenever such a validator is
present a TRUST DOMAIN column is added, filled for certificate chains from their
``spiffe://`` URI SAN. (Inferred from istioctl's SPIRE golden: the column appears only there.)

VALID CERT depends on the clock: every function takes ``now`` so callers (and tests) choose
the moment at which validity is judged.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from meshtui.envoy.dump import SECRETS, ConfigDump, Json, dig, get, malformed_is_dump_error
from meshtui.envoy.table import Table
from meshtui.envoy.x509 import CertError, parse_pem

SPIFFE_VALIDATOR = "SPIFFECertValidatorConfig"


@dataclass
class SecretItem:
    """One row of the secret table."""

    name: str
    state: str
    type: str = ""
    valid: bool = False
    serial: str = ""
    not_after: str = ""
    not_before: str = ""
    trust_domain: str = ""
    raw: Json | None = None


def _bytes(datasource: object) -> bytes:
    """The ``inline_bytes`` (base64 in JSON) or ``inline_string`` of a DataSource."""
    b = get(datasource, "inline_bytes")
    if isinstance(b, str):
        try:
            return base64.b64decode(b)
        except (binascii.Error, ValueError):
            return b""
    s = get(datasource, "inline_string")
    return s.encode() if isinstance(s, str) else b""


def _rfc3339(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _build(name: str, state: str, data: bytes, now: datetime, raw: Json) -> SecretItem:
    item = SecretItem(name=name, state=state, raw=raw)
    if not data:
        return item
    try:
        cert = parse_pem(data)
    except CertError:
        return item  # istioctl logs at debug level and leaves the columns empty
    item.type = "CA" if cert.is_ca else "Cert Chain"
    item.valid = cert.valid_at(now)
    # Hex of the serial's big-endian bytes, as istioctl prints it (leading zero nibble kept).
    magnitude = abs(cert.serial)
    item.serial = magnitude.to_bytes((magnitude.bit_length() + 7) // 8, "big").hex()
    item.not_after = _rfc3339(cert.not_after)
    item.not_before = _rfc3339(cert.not_before)
    if not cert.is_ca:
        for uri in cert.uris:
            if uri.startswith("spiffe://"):
                item.trust_domain = uri[len("spiffe://") :].split("/", 1)[0]
                break
    return item


def _spiffe_domains(secret: Json) -> list[Json] | None:
    cfg = dig(secret, "validation_context", "custom_validator_config", "typed_config")
    if isinstance(cfg, dict) and str(cfg.get("@type", "")).endswith(SPIFFE_VALIDATOR):
        return [d for d in get(cfg, "trust_domains", []) or [] if isinstance(d, dict)]
    return None


def secret_items(dump: ConfigDump, now: datetime) -> tuple[list[SecretItem], bool]:
    """The rows of the secret table and whether the TRUST DOMAIN column is shown."""
    sec = dump.section(SECRETS)
    items: list[SecretItem] = []
    spiffe = False
    entries = [(e, "WARMING") for e in get(sec, "dynamic_warming_secrets", []) or []]
    entries += [(e, "ACTIVE") for e in get(sec, "dynamic_active_secrets", []) or []]
    for entry, state in entries:
        name = get(entry, "name", "")
        if state == "ACTIVE" and get(entry, "version_info") == "uninitialized":
            state = "UNINITIALIZED"
        secret = get(entry, "secret") or {}
        domains = _spiffe_domains(secret)
        if domains is not None:
            spiffe = True
            for d in domains:
                item = _build(name, state, _bytes(get(d, "trust_bundle")), now, entry)
                item.trust_domain = get(d, "name", "")
                items.append(item)
            continue
        data = _bytes(dig(secret, "tls_certificate", "certificate_chain"))
        if not data:
            data = _bytes(dig(secret, "validation_context", "trusted_ca"))
        items.append(_build(name, state, data, now, entry))
    return items, spiffe


def has_secrets(dump: ConfigDump) -> bool:
    """Whether the dump has any dynamic active or warming secret."""
    sec = dump.section(SECRETS)
    return bool(get(sec, "dynamic_active_secrets") or get(sec, "dynamic_warming_secrets"))


@malformed_is_dump_error
def secret_table(dump: ConfigDump, now: datetime, *, include_type: bool = False) -> Table:
    """The secrets table (tabwriter padding 5; istioctl prints a notice instead when empty)."""
    items, spiffe = secret_items(dump, now)
    cols = ["RESOURCE NAME", "TYPE", "STATUS", "VALID CERT", "SERIAL NUMBER", "NOT AFTER", "NOT BEFORE"]
    table = Table(cols + ["TRUST DOMAIN"] if spiffe else cols)
    for s in items:
        row = [
            f"secret/{s.name}" if include_type else s.name,
            s.type,
            s.state,
            "true" if s.valid else "false",
            s.serial,
            s.not_after,
            s.not_before,
        ]
        if spiffe:
            row.append(s.trust_domain)
        table.add(row, s.raw)
    return table


@malformed_is_dump_error
def secret_summary(dump: ConfigDump, now: datetime, *, include_type: bool = False) -> str:
    """The text istioctl prints for ``proxy-config secret`` in short form."""
    if not has_secrets(dump):
        return "No active or warming secrets found.\n"
    table = secret_table(dump, now, include_type=include_type)
    if not table.rows:
        return "No secret items to show.\n"
    return table.render()
