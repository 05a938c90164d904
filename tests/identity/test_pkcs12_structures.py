"""Structures no installed tool writes but real files contain: BER encodings, nested bags."""

from __future__ import annotations

import pytest

import tlsengine
from tlsengine.identity import build_pkcs12, der
from tlsengine.identity.model import Identity

from .helpers import assert_identity


def _to_ber(node: der.Node) -> bytes:
    """Re-encode DER as BER: indefinite lengths, and long OCTET STRINGs split in chunks."""
    if node.constructed:
        inner = b"".join(_to_ber(child) for child in node.children("ber"))
        return bytes((node.tag, 0x80)) + inner + b"\x00\x00"
    body = node.content
    if node.tag in (der.OCTET_STRING, 0x80) and len(body) > 200:
        chunks = b"".join(der.octet_string(body[i : i + 150]) for i in range(0, len(body), 150))
        return bytes((node.tag | der.CONSTRUCTED, 0x80)) + chunks + b"\x00\x00"
    return node.encoded


@pytest.fixture(scope="module")
def identity(pki) -> Identity:
    leaf = pki.leaves["ec-inter"]
    return Identity.create(leaf.cert, leaf.key, leaf.chain, alias="ber test")


@pytest.mark.parametrize("password", ["pw", None])
def test_ber_indefinite_lengths_and_chunked_octets(pki, identity, password) -> None:
    blob = build_pkcs12([identity], password)
    ber = _to_ber(der.parse(blob, "PFX"))
    assert ber != blob and b"\x30\x80" in ber
    [loaded] = tlsengine.load_pkcs12(ber, password)
    leaf = pki.leaves["ec-inter"]
    assert_identity(loaded, leaf.cert, leaf.key, leaf.chain)
    assert loaded.alias == "ber test"


def test_nested_safe_contents_bag(pki, identity) -> None:
    blob = build_pkcs12([identity], None)
    version, auth_safe, *_ = der.parse(blob, "PFX").sequence("PFX")
    content = auth_safe.sequence("ci")[1].explicit(0, "ci").octet_string("ci")
    infos = der.parse(content, "as").sequence("as")
    rebuilt = []
    for info in infos:
        safe = info.sequence("ci")[1].explicit(0, "ci").octet_string("ci")
        nested = der.sequence(
            der.oid("1.2.840.113549.1.12.10.1.6"),  # safeContentsBag holding the whole safe
            der.explicit(0, safe),
        )
        data = der.explicit(0, der.octet_string(der.sequence(nested)))
        rebuilt.append(der.sequence(der.oid("1.2.840.113549.1.7.1"), data))
    new_auth = der.sequence(*rebuilt)
    wrapped = der.sequence(
        version.encoded,
        der.sequence(der.oid("1.2.840.113549.1.7.1"), der.explicit(0, der.octet_string(new_auth))),
    )
    [loaded] = tlsengine.load_pkcs12(wrapped)
    leaf = pki.leaves["ec-inter"]
    assert_identity(loaded, leaf.cert, leaf.key, leaf.chain)


def test_signed_data_integrity_mode_is_refused_clearly(identity) -> None:
    signed = der.sequence(
        der.integer(3),
        der.sequence(der.oid("1.2.840.113549.1.7.2"), der.explicit(0, der.sequence())),
    )
    with pytest.raises(tlsengine.PKCS12FormatError, match="public-key integrity"):
        tlsengine.load_pkcs12(signed)
