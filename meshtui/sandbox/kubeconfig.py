"""Kubeconfig files pointing at a running sandbox: an admin context (current) and a read-only one."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ADMIN_CONTEXT = "meshtui-sandbox"
READONLY_CONTEXT = "meshtui-sandbox-readonly"
CLUSTER = "meshtui-sandbox"


def kubeconfig(url: str, admin_token: str, readonly_token: str, ca_pem: bytes | None = None) -> dict[str, Any]:
    """The kubeconfig document as a dict (``ca_pem``: the server certificate to trust)."""
    import base64

    cluster: dict[str, Any] = {"server": url}
    if ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CLUSTER, "cluster": cluster}],
        "users": [
            {"name": "meshtui-admin", "user": {"token": admin_token}},
            {"name": "meshtui-readonly", "user": {"token": readonly_token}},
        ],
        "contexts": [
            {"name": ADMIN_CONTEXT, "context": {"cluster": CLUSTER, "user": "meshtui-admin"}},
            {"name": READONLY_CONTEXT, "context": {"cluster": CLUSTER, "user": "meshtui-readonly"}},
        ],
        "current-context": ADMIN_CONTEXT,
        "preferences": {},
    }


def write(path: str | os.PathLike[str], url: str, admin_token: str, readonly_token: str,
          ca_pem: bytes | None = None) -> Path:
    """Write the kubeconfig (mode 0600, parent directories created); returns the path."""
    import yaml

    p = Path(path).expanduser()
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        yaml.safe_dump(kubeconfig(url, admin_token, readonly_token, ca_pem), fh, sort_keys=False)
    os.replace(tmp, p)
    return p


def default_path() -> Path:
    """``$XDG_STATE_HOME/meshtui/sandbox.kubeconfig`` (``~/.local/state`` when unset)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "meshtui" / "sandbox.kubeconfig"


def make_certificate(directory: str | os.PathLike[str]) -> tuple[Path, Path]:
    """A self-signed serving certificate for 127.0.0.1 (also its own CA), made with ``openssl``.

    kubectl only sends bearer tokens over TLS, so the sandbox serves HTTPS like a real API
    server; the certificate goes into the kubeconfig as ``certificate-authority-data``.
    Returns (cert.pem, key.pem); raises OSError with one line if openssl is missing or fails.
    """
    import shutil
    import subprocess

    openssl = shutil.which("openssl")
    if openssl is None:
        raise OSError("openssl is not installed (needed to make the sandbox's TLS certificate)")
    d = Path(directory)
    cert, key = d / "sandbox.crt", d / "sandbox.key"
    cmd = [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
           "-nodes", "-days", "365", "-subj", "/CN=meshtui-sandbox", "-keyout", str(key), "-out", str(cert),
           "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
           "-addext", "basicConstraints=critical,CA:TRUE",
           "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
           "-addext", "extendedKeyUsage=serverAuth"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise OSError(f"openssl failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
    return cert, key
