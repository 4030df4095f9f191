"""The X.509 fields of istioctl's secret table: serial, validity, CA flag, URI SANs.

We read the first PEM block as Go's ``pem.Decode`` + ``x509.ParseCertificate`` do (the DER
through ``cryptography``); any structural problem raises ``CertError`` (istioctl then leaves
the certificate columns empty).
"""

from __future__ import annotations

import base64
import binascii
import re
import warnings
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning

_PEM = re.compile(rb"-----BEGIN ([^-]*)-----\s*(.*?)-----END \1-----", re.S)


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


def parse_der(der: bytes) -> Certificate:
    """Read a DER certificate (``cryptography``'s X.509 parser, as strict as Go's)."""
    try:
        with warnings.catch_warnings():
            # Istio's own test certificates have negative serials: Go reads them, and so do we
            # (cryptography deprecates them; the table must not print a Python warning).
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            cert = x509.load_der_x509_certificate(der)
            extensions = cert.extensions
            serial = cert.serial_number
    except ValueError as exc:  # cryptography's errors for bad DER and bad extensions are ValueErrors
        raise CertError(str(exc) or "bad DER") from exc
    is_ca = False
    uris: list[str] = []
    for ext in extensions:
        if isinstance(ext.value, x509.BasicConstraints):
            is_ca = ext.value.ca
        elif isinstance(ext.value, x509.SubjectAlternativeName):
            uris += ext.value.get_values_for_type(x509.UniformResourceIdentifier)
    return Certificate(serial, cert.not_valid_before_utc, cert.not_valid_after_utc, is_ca, tuple(uris))


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
    except CertError as exc:
        raise CertError(f"bad certificate: {exc}") from exc
