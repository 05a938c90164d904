"""The selection layer: which client identity answers a CertificateRequest, and why.

Pure functions only (no I/O): `CertificateRequestInfo` describes what the server asked for,
`select_identity` returns a `Selection` with a verdict for every candidate, and `schemes`
holds the signature-scheme table with the `sign`/`verify` helpers the protocol uses.
"""

from .names import name_from_der, names_match
from .request import CertificateRequestInfo
from .schemes import sign, verify
from .select import Selection, Verdict, select_identity

__all__ = [
    "CertificateRequestInfo",
    "Selection",
    "Verdict",
    "name_from_der",
    "names_match",
    "select_identity",
    "sign",
    "verify",
]
