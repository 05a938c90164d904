"""Client identities from the files ``ssl.SSLContext.load_cert_chain`` takes.

A PEM certificate chain with its key (in the same file or ``keyfile``, encrypted or not),
or a PKCS#12 file holding every identity. Read into memory; nothing is written back.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..errors import IdentityError, IdentityMismatchError, PKCS12FormatError, PKCS12PasswordError
from .model import Identity, private_key_of, public_key_der
from .pkcs12 import load_pkcs12
from .sources import read_source

__all__ = ["identities_from_files"]


def identities_from_files(
    certfile: str | bytes | os.PathLike[Any],
    keyfile: str | bytes | os.PathLike[Any] | None = None,
    password: Any = None,
) -> list[Identity]:
    """What ``load_cert_chain`` loads: a PEM chain with its key, or every PKCS#12 identity.

    ``password`` is str, bytes, or a callable returning one (as ``ssl`` allows).
    """
    secret = _password(password)
    data = read_source(Path(os.fsdecode(certfile)))
    if b"-----BEGIN" not in data:
        if keyfile is not None:
            raise IdentityError(
                f"{os.fsdecode(certfile)!r} is not PEM, so it was read as PKCS#12, which "
                "carries its own key: drop keyfile="
            )
        return load_pkcs12(data, secret)
    try:
        chain = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise PKCS12FormatError(
            f"no PEM certificate could be read from {os.fsdecode(certfile)!r}: {exc}"
        ) from exc
    key_source = certfile if keyfile is None else keyfile
    if keyfile is None and b"PRIVATE KEY-----" not in data:
        raise PKCS12FormatError(
            f"{os.fsdecode(certfile)!r} holds certificates but no private key: pass the key's "
            "file as keyfile= (load_cert_chain(certfile, keyfile))"
        )
    key_data = data if keyfile is None else read_source(Path(os.fsdecode(keyfile)))
    key = _pem_private_key(key_data, secret, os.fsdecode(key_source))
    leaf = chain[0]
    if public_key_der(key) != public_key_der(leaf.public_key()):
        raise IdentityMismatchError(
            f"the private key in {os.fsdecode(key_source)!r} does not belong to the first "
            f"certificate of {os.fsdecode(certfile)!r} ({leaf.subject.rfc4514_string()})"
        )
    return [Identity.create(leaf, key, chain)]


def _password(password: Any) -> str | bytes | None:
    if callable(password):
        password = password()
    if password is None or isinstance(password, str | bytes):
        return password
    if isinstance(password, bytearray):
        return bytes(password)
    raise TypeError("password should be a string, bytes or a callable returning one")


def _pem_private_key(data: bytes, password: str | bytes | None, where: str) -> Any:
    secret = password.encode() if isinstance(password, str) else password
    try:
        key = serialization.load_pem_private_key(data, secret)
    except TypeError as exc:  # missing or needless password, per cryptography's message
        raise PKCS12PasswordError(f"the private key in {where!r}: {exc}") from exc
    except ValueError as exc:
        if b"ENCRYPTED" in data:
            raise PKCS12PasswordError(
                f"the private key in {where!r} did not decrypt: wrong password?"
            ) from exc
        raise PKCS12FormatError(f"no usable PEM private key in {where!r}: {exc}") from exc
    except Exception as exc:  # UnsupportedAlgorithm and friends
        raise IdentityError(f"the private key in {where!r} cannot be used: {exc}") from exc
    return private_key_of(key)
