"""RFC 8446 section 4.6.2, post-handshake authentication: each client-side MUST. The test
server decrypts our answer with the client application secret from its own key schedule and
checks the context, the CertificateVerify signature and the Finished MAC itself."""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from proto_helpers import choose
from rfc8446_peer import (
    CERTIFICATE,
    CERTIFICATE_VERIFY,
    CLIENT_CV_CONTEXT,
    FINISHED,
    SIGALGS_P256,
    ClientFlight,
    certificate_request,
    handshake,
    read_flight,
    refused,
    transcript_hash,
)

from tlsengine.protocol import PostHandshakeAuthCompleted
from tlsengine.protocol.wire import decode_certificate13, encode_handshake


def _connected(server_material, identity, select=None, **config):
    conn, server, _ = handshake(
        server_material, identity, select=select or choose(identity), **config
    )
    first = read_flight(conn.data_to_send(), server.client_hs_secret)
    return conn, server, first


def _ask(conn, server, context: bytes) -> tuple[list, ClientFlight, bytes]:
    request = certificate_request(SIGALGS_P256, context=context)
    events = conn.receive_data(server.app(22, request))
    return events, read_flight(conn.data_to_send(), server.client_app_secret), request


def _main_transcript(server, first: ClientFlight) -> list[bytes]:
    ours = [encode_handshake(t, body) for t, body in first.messages]
    return [*server.hashed, *ours]


def _finished_mac(secret: bytes, messages: list[bytes]) -> bytes:
    """RFC 8446 4.4.4 written out here with `cryptography`, not with the client's code."""
    label = b"tls13 finished"
    info = (32).to_bytes(2, "big") + bytes((len(label),)) + label + b"\x00"
    key = HKDFExpand(hashes.SHA256(), 32, info).derive(secret)
    return hmac.new(key, transcript_hash(messages), hashlib.sha256).digest()


def test_4_6_2_request_without_our_post_handshake_auth_is_unexpected_message(
    server_material, client_identity
):
    """ "A client that receives a CertificateRequest message without having sent the
    "post_handshake_auth" extension MUST send an "unexpected_message" fatal alert.\""""
    conn, server, _ = _connected(server_material, client_identity, post_handshake_auth=False)
    refused(lambda: _ask(conn, server, b"\x01"), "unexpected_message")


def test_4_6_2_we_answer_with_certificate_verify_and_finished_over_the_right_transcript(
    server_material, client_identity
):
    """ "the client MUST send Certificate, CertificateVerify, and Finished"; the Certificate's
    context is the request's; the transcript is the handshake's plus these messages."""
    conn, server, first = _connected(server_material, client_identity)
    events, flight, request = _ask(conn, server, b"\x2a\x2b")
    assert events == [PostHandshakeAuthCompleted(True)]
    assert flight.types == [CERTIFICATE, CERTIFICATE_VERIFY, FINISHED]
    certificate = encode_handshake(CERTIFICATE, flight.body(CERTIFICATE))
    context, ders = decode_certificate13(certificate)
    # the chain without its self-signed root (left out by default, RFC 8446 4.4.2)
    assert context == b"\x2a\x2b" and len(ders) == len(client_identity.chain) - 1
    base = [*_main_transcript(server, first), request, certificate]
    verify = flight.body(CERTIFICATE_VERIFY)
    content = CLIENT_CV_CONTEXT + transcript_hash(base)
    client_identity.certificate.public_key().verify(verify[4:], content, ec.ECDSA(hashes.SHA256()))
    verify_message = encode_handshake(CERTIFICATE_VERIFY, verify)
    expected = _finished_mac(server.client_app_secret, [*base, verify_message])
    assert flight.body(FINISHED) == expected


def test_4_6_2_nothing_fits_means_an_empty_certificate_then_finished(
    server_material, client_identity
):
    """ "If the client does not wish to authenticate, it MUST send a Certificate message
    containing no certificates" (still with the request's context), then Finished."""
    conn, server, first = _connected(server_material, client_identity, select=choose(None))
    events, flight, request = _ask(conn, server, b"\x05")
    assert events == [PostHandshakeAuthCompleted(False)]
    assert flight.types == [CERTIFICATE, FINISHED]
    certificate = encode_handshake(CERTIFICATE, flight.body(CERTIFICATE))
    assert decode_certificate13(certificate) == (b"\x05", [])
    base = [*_main_transcript(server, first), request, certificate]
    assert flight.body(FINISHED) == _finished_mac(server.client_app_secret, base)


def test_4_6_2_post_handshake_request_needs_a_context(server_material, client_identity):
    conn, server, _ = _connected(server_material, client_identity)
    refused(lambda: _ask(conn, server, b""), "illegal_parameter", match="needs a context")


def test_4_6_2_context_may_not_repeat(server_material, client_identity):
    """4.3.2: the context "MUST be unique within the connection"."""
    conn, server, _ = _connected(server_material, client_identity)
    _ask(conn, server, b"\x01")
    refused(lambda: _ask(conn, server, b"\x01"), "illegal_parameter", match="repeats")
