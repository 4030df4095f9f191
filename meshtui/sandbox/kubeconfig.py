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
    """A self-signed serving certificate for 127.0.0.1 (also its own CA).

    kubectl only sends bearer tokens over TLS, so the sandbox serves HTTPS like a real API
    server; the certificate goes into the kubeconfig as ``certificate-authority-data``. Made
    with the ``cryptography`` package so that no ``openssl`` binary is needed.
    Returns (cert.pem, key.pem).
    """
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key_obj = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "meshtui-sandbox")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert_obj = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key_obj.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key_obj, hashes.SHA256())
    )
    d = Path(directory)
    cert, key = d / "sandbox.crt", d / "sandbox.key"
    key.write_bytes(
        key_obj.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(key, 0o600)
    cert.write_bytes(cert_obj.public_bytes(serialization.Encoding.PEM))
    return cert, key
