"""Our client's side of the interop suite: connect, fetch, and read what the client did.

Everything goes through the public contract of docs/api.md (``tlsengine.ClientContext``,
``TLSSocket.client_identity`` / ``.certificate_request`` / ``.selection`` /
``.transcript``), so these tests hold whatever the layers below do internally.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

import pytest
from peers import ServerPKI

import tlsengine
from tlsengine import ClientCertificateRejected
from tlsengine.identity.model import Identity

GET = b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"
TIMEOUT = 10.0


def context(pki: ServerPKI, identities: Sequence[Identity], **kw: Any) -> Any:
    """A verifying client context that trusts the peers' CA and traces the handshake."""
    return tlsengine.ClientContext(
        identities=list(identities), cafile=str(pki.ca_file), trace=True, **kw
    )


def read_all(tls: Any) -> bytes:
    data = b""
    while chunk := tls.recv(65536):
        data += chunk
    return data


def fetch(ctx: Any, address: tuple[str, int], request: bytes = GET) -> tuple[Any, bytes]:
    """One request/response over a fresh connection; the socket stays inspectable."""
    with ctx.connect(address, server_hostname="localhost", timeout=TIMEOUT) as tls:
        tls.sendall(request)
        body = read_all(tls)
    return tls, body


def fetch_rejected(ctx: Any, address: tuple[str, int]) -> tuple[Any, ClientCertificateRejected]:
    """A request the server refuses: the socket (for its transcript) and the error raised.

    The handshake runs explicitly so the socket survives whichever step the server's
    verdict lands on (TLS 1.3 servers judge our certificate after our Finished, so it is
    the first read that meets their alert). Nothing is written after the handshake: a
    write racing the server's close could draw a reset that discards the alert unread.
    """
    raw = socket.create_connection(address, timeout=TIMEOUT)
    tls = ctx.wrap_socket(raw, server_hostname="localhost", do_handshake_on_connect=False)
    return tls, expect_rejection(tls)


def expect_rejection(tls: Any) -> ClientCertificateRejected:
    """Handshake, then read without writing, until the server's rejection is raised."""
    try:
        with pytest.raises(ClientCertificateRejected) as caught:
            tls.do_handshake()
            read_all(tls)
    finally:
        tls.close()
    return caught.value


def messages(tls: Any, direction: str) -> list[str]:
    """Handshake message types in our transcript going ``"out"`` (sent) or ``"in"``."""
    return [e["type"] for e in tls.transcript if e.get("direction") == direction]


def verdicts(selection: Any) -> dict[str, tuple[str, tuple[str, ...], str]]:
    """alias -> (verdict, notes, reason) for every candidate of a Selection."""
    out = {}
    for identity, verdict, notes, reason in selection.verdicts:
        out[identity.alias] = (verdict, tuple(notes), reason)
    return out


def assert_sent(tls: Any, identity: Identity) -> None:
    """We sent exactly ``identity``: the socket says so and the transcript shows it."""
    assert tls.client_identity is identity or (
        tls.client_identity is not None and tls.client_identity.fingerprint == identity.fingerprint
    ), f"sent {getattr(tls.client_identity, 'alias', None)!r}, expected {identity.alias!r}"
    sent = messages(tls, "out")
    assert "Certificate" in sent and "CertificateVerify" in sent, sent
    assert tls.selection is not None and tls.selection.identity is tls.client_identity


def assert_sent_empty(tls: Any) -> None:
    """A CertificateRequest came and we answered with an empty Certificate."""
    assert tls.certificate_request is not None
    assert tls.client_identity is None
    out = [e for e in tls.transcript if e.get("direction") == "out"]
    certs = [e for e in out if e["type"] == "Certificate"]
    assert certs and (certs[0].get("empty") is True or certs[0].get("chain_length") == 0), out
    assert "CertificateVerify" not in [e["type"] for e in out]


def assert_no_client_auth(tls: Any) -> None:
    """No CertificateRequest came, so no Certificate left us at all."""
    assert tls.certificate_request is None
    assert tls.client_identity is None
    assert "CertificateRequest" not in messages(tls, "in")
    assert "Certificate" not in messages(tls, "out")
    assert "Finished" in messages(tls, "out")
