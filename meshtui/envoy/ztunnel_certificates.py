"""The certificate table of ``istioctl ztunnel-config certificate``, rendered from a ztunnel config dump."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from meshtui.envoy.tabwriter import tabulate_text
from meshtui.envoy.ztunnel_dump import ZtunnelDump, load

_HEADER = ("CERTIFICATE NAME", "TYPE", "STATUS", "VALID CERT", "SERIAL NUMBER", "NOT AFTER", "NOT BEFORE")


def _na(value: Any) -> str:
    return str(value) if value else "NA"


def _parse(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _valid(cert: dict[str, Any], now: datetime) -> str:
    """``true`` when ``now`` lies strictly inside the certificate's validity, as istioctl judges it."""
    start, end = _parse(str(cert.get("validFrom") or "")), _parse(str(cert.get("expirationTime") or ""))
    if start is None or end is None:
        return "false"
    return "true" if start < now < end else "false"


def _serial(cert: dict[str, Any]) -> str:
    """The decimal serial number of the dump in hexadecimal, as istioctl prints it."""
    text = str(cert.get("serialNumber") or "")
    return format(int(text), "x") if text.isdigit() else text


def certificate_table(dump: dict[str, Any] | ZtunnelDump, now: datetime) -> str:
    """Render the certificates of ``dump`` as istioctl's table, judging VALID CERT at ``now`` (aware)."""
    view = dump if isinstance(dump, ZtunnelDump) else load(dump)
    lines = ["\t".join(_HEADER)]
    for secret in view.certificates:
        identity = str(secret.get("identity", ""))
        state = str(secret.get("state", ""))
        # istioctl shortens "Unavailable: <reason>" to its first word.
        state = "Unavailable" if "Unavailable" in state else state
        chain = secret.get("certChain") or []
        roots = secret["rootCerts"] or []
        if not chain:
            lines.append(f"{identity}\tNA\t{state}\tfalse\tNA\tNA\tNA")
            continue
        typed: list[tuple[str, dict[str, Any]]] = []
        for i, cert in enumerate(chain):
            # Older ztunnels put the root at the end of the chain instead of in rootCerts.
            kind = "Leaf" if i == 0 else "Root" if i == len(chain) - 1 and not roots else "Intermediate"
            typed.append((kind, cert))
        typed.extend(("Root", cert) for cert in roots)
        for kind, cert in typed:
            lines.append("\t".join((identity, kind, state, _valid(cert, now), _serial(cert),
                                    _na(cert.get("expirationTime")), _na(cert.get("validFrom")))))
    return tabulate_text("\n".join(lines) + "\n", padding=5)
