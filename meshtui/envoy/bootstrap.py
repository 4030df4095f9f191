"""``proxy-config bootstrap``: the bootstrap section, and istioctl's version summary (``-o short``)."""

from __future__ import annotations

from typing import Any

from meshtui.envoy.dump import BOOTSTRAP, ConfigDump, Json, dig, get, malformed_is_dump_error
from meshtui.envoy.protojson import to_proto_json, without_type
from meshtui.envoy.tabwriter import format_cells


def _string(value: Any) -> str:
    """``GetStringValue()`` of a Struct value: the string, or empty for anything else."""
    return value if isinstance(value, str) else ""


def istio_version(dump: ConfigDump) -> tuple[str, str]:
    """(Istio version, Istio proxy SHA) from the node metadata of the bootstrap."""
    md = dig(dump.section(BOOTSTRAP), "bootstrap", "node", "metadata")
    md = md if isinstance(md, dict) else {}
    version = _string(md.get("ISTIO_VERSION"))
    sha = _string(md.get("ISTIO_PROXY_SHA"))
    parts = sha.split(":")
    if len(parts) > 1:
        sha = parts[1]
    return version, sha


def envoy_version(dump: ConfigDump) -> str:
    """``major.minor.patch[-label][/status][/type][/ssl]`` from the user agent build version."""
    build = dig(dump.section(BOOTSTRAP), "bootstrap", "node", "user_agent_build_version")
    version = get(build, "version") or {}
    md = get(build, "metadata")
    md = md if isinstance(md, dict) else {}
    text = f"{int(get(version, 'major_number', 0) or 0)}.{int(get(version, 'minor_number', 0) or 0)}.{int(get(version, 'patch', 0) or 0)}"
    if "build.label" in md:
        text += f"-{_string(md['build.label'])}"
    for key in ("revision.status", "build.type", "ssl.version"):
        if key in md:
            text += f"/{_string(md[key])}"
    return text


@malformed_is_dump_error
def bootstrap_summary(dump: ConfigDump) -> str:
    """The ``-o short`` text: Istio, Istio proxy and Envoy versions (tabwriter padding 1)."""
    version, sha = istio_version(dump)
    envoy = envoy_version(dump)
    lines = []
    if version:
        lines.append(["Istio Version:", version])
    if sha:
        lines.append(["Istio Proxy Version:", sha])
    if envoy:
        lines.append(["Envoy Version:", envoy])
    return format_cells(lines, padding=1)


@malformed_is_dump_error
def bootstrap_dump(dump: ConfigDump) -> Json:
    """The BootstrapConfigDump as ``-o json`` prints it (protobuf JSON names)."""
    return to_proto_json(without_type(dump.section(BOOTSTRAP)))
