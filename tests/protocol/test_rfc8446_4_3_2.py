"""RFC 8446 section 4.3.2, CertificateRequest: each client-side MUST, driven through the
in-process server with one violation per flight (and the legal controls beside them)."""

from __future__ import annotations

import pytest
from proto_helpers import choose
from rfc8446_peer import (
    CERTIFICATE,
    CERTIFICATE_VERIFY,
    FINISHED,
    SIGALGS_P256,
    OracleServer,
    certificate_request,
    ext,
    handshake,
    read_flight,
    refused,
    vec,
)

from tlsengine.protocol import HandshakeComplete


def _with_request(server_material, client_identity, request: bytes):
    chain, key = server_material
    server = OracleServer(chain, key, request=request)
    return handshake(
        server_material, client_identity, select=choose(client_identity), server=server
    )


def test_4_3_2_request_in_the_handshake_has_an_empty_context(server_material, client_identity):
    """certificate_request_context "SHALL be zero length unless used for the post-handshake
    authentication exchanges"."""
    request = certificate_request(SIGALGS_P256, context=b"\x01")
    refused(lambda: _with_request(server_material, client_identity, request), "illegal_parameter")


def test_4_3_2_signature_algorithms_must_be_specified(server_material, client_identity):
    request = certificate_request(ext(47, vec(b"", 2)))
    refused(
        lambda: _with_request(server_material, client_identity, request),
        "missing_extension",
        match="lacks signature_algorithms",
    )


def test_4_3_2_empty_signature_algorithms_list_is_decode_error(server_material, client_identity):
    """Found by the audit (we sent missing_extension): the list is <2..2^16-2> (4.2.3)."""
    request = certificate_request(ext(13, vec(b"", 2)))
    refused(
        lambda: _with_request(server_material, client_identity, request),
        "decode_error",
        match="list is empty",
    )


@pytest.mark.parametrize(
    ("code", "body"),
    [
        (51, vec(b"\x00\x1d" + vec(bytes(32), 2), 2)),  # key_share: found by the audit
        (16, vec(vec(b"h2", 1), 2)),  # ALPN
        (43, b"\x03\x04"),  # supported_versions
        (49, b""),  # post_handshake_auth
    ],
    ids=["key_share", "alpn", "supported_versions", "post_handshake_auth"],
)
def test_4_3_2_known_extension_not_allowed_in_a_request_is_illegal_parameter(
    server_material, client_identity, code, body
):
    """RFC 8446 4.2: a recognised extension in a message it is not specified for MUST abort
    the handshake with illegal_parameter."""
    request = certificate_request(SIGALGS_P256 + ext(code, body))
    refused(
        lambda: _with_request(server_material, client_identity, request),
        "illegal_parameter",
        match=f"extension {code}, which RFC 8446 section 4.2 allows only in",
    )


def test_4_3_2_unrecognised_extensions_are_ignored(server_material, client_identity):
    """ "Clients MUST ignore unrecognized extensions.\""""
    request = certificate_request(ext(0xFAFA, b"grease") + SIGALGS_P256 + ext(0x1234, b""))
    conn, server, events = _with_request(server_material, client_identity, request)
    assert any(isinstance(e, HandshakeComplete) for e in events)
    flight = read_flight(conn.data_to_send(), server.client_hs_secret)
    assert flight.types == [CERTIFICATE, CERTIFICATE_VERIFY, FINISHED]


def test_4_3_2_empty_certificate_authorities_list_is_accepted(server_material, client_identity):
    """Deviation kept on purpose: authorities<3..2^16-1> makes an empty list malformed, but
    OpenSSL's ``s_server -no_ca_names`` sends one; we read it as "no CA names"."""
    request = certificate_request(SIGALGS_P256 + ext(47, vec(b"", 2)))
    conn, _, events = _with_request(server_material, client_identity, request)
    assert any(isinstance(e, HandshakeComplete) for e in events)
    assert conn.certificate_request.certificate_authorities == ()


def test_4_3_2_repeated_extension_is_illegal_parameter(server_material, client_identity):
    request = certificate_request(SIGALGS_P256 + SIGALGS_P256)
    refused(
        lambda: _with_request(server_material, client_identity, request),
        "illegal_parameter",
        match="repeats extension 13",
    )


def test_4_3_2_extensions_block_that_does_not_parse_is_decode_error(
    server_material, client_identity
):
    request = certificate_request(SIGALGS_P256 + b"\x00\x2f\x00\x09ab")  # length overruns
    refused(lambda: _with_request(server_material, client_identity, request), "decode_error")


def test_oid_filter_with_an_oversized_arc_is_decode_error(server_material, client_identity):
    """Issue 12: the OID decoder shared with PKCS#12 now bounds arcs to 128 bits before
    making text (a filter OID is at most 255 bytes, so here a 400-digit arc)."""
    value, arc = 10**400, bytearray()
    while value:
        arc.insert(0, (value & 0x7F) | (0x80 if arc else 0))
        value >>= 7
    filters = ext(48, vec(vec(b"\x2a" + bytes(arc), 1) + vec(b"", 2), 2))
    request = certificate_request(SIGALGS_P256 + filters)
    refused(
        lambda: _with_request(server_material, client_identity, request),
        "decode_error",
        match="oid_filters",
    )
