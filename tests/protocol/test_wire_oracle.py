"""protocol.wire's hot-path codecs held against tlslite-ng, the reference encoding.

Each direct encoder must produce tlslite-ng's bytes and each direct decoder must read what
tlslite-ng reads, for fixed messages and for hypothesis-drawn fields.
"""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from tlsengine.protocol.wire import chain_der
from tlsengine.testing import CA

# --------------------------------------------------------------------------- client chain


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)


def test_chain_der_leaves_out_the_self_signed_root(root_ca: CA) -> None:
    identity = root_ca.identity("chain leaf", "p256")
    assert len(identity.chain) == 2
    assert chain_der(identity.chain, False) == (_der(identity.certificate),)
    assert chain_der(identity.chain, True) == tuple(_der(c) for c in identity.chain)


def test_chain_der_keeps_an_intermediate_that_ends_the_chain(root_ca: CA) -> None:
    intermediate = root_ca.intermediate("chain intermediate")
    identity = intermediate.identity("chain leaf 2", "p256")
    partial = identity.chain[:2]  # leaf, intermediate: no root to leave out
    assert chain_der(partial, False) == tuple(_der(c) for c in partial)
    assert chain_der(identity.chain, False) == tuple(_der(c) for c in identity.chain[:2])


def test_chain_der_sends_a_lone_self_signed_leaf(root_ca: CA) -> None:
    assert chain_der((root_ca.certificate,), False) == (_der(root_ca.certificate),)


def test_chain_der_keeps_a_same_name_certificate_signed_by_another_key(root_ca: CA) -> None:
    """Subject equal to issuer is not enough: the signature must verify with its own key."""
    identity = root_ca.identity("chain leaf 3", "p256")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not a root")])
    now = datetime.datetime.now(datetime.UTC)
    impostor = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(ec.generate_private_key(ec.SECP256R1()).public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    chain = (identity.certificate, impostor)
    assert chain_der(chain, False) == tuple(_der(c) for c in chain)
