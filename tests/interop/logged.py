"""Shared by the Go, rustls and NSS interop tests: one keystore of several identities, and
a request whose server-side verdict is read back from the peer's per-connection line.

The keystore is what a keytool user hands us: one PKCS#12 holding identities under
different CAs, in an order where load order alone picks the wrong one, loaded through the
public ``tlsengine.load_pkcs12``. Each server names its own CAs; the choice must follow.
A test module registers the fixtures by importing ``keystore_fixture`` and
``keystore_bytes_fixture`` (named apart from the fixture names, so arguments shadow nothing).
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
from peers import LoggingPeer

import tlsengine
from tlsengine import ClientCertificateRejected
from tlsengine.identity.model import Identity
from tlsengine.identity.pkcs12 import build_pkcs12

from .client import TIMEOUT, expect_rejection, read_all

KEYSTORE_PASSWORD = "keystore-secret"
#: (CAs the server trusts, the keystore identity it must get): with both, load order decides
CHOICES = [("a", "client-a"), ("b", "client-b"), ("ab", "client-b")]
#: ``openssl s_client``'s lines for the two roots, sorted
CA_LINES = [
    "O = tlsengine test PKI, CN = tlsengine Test Root A",
    "O = tlsengine test PKI, CN = tlsengine Test Root B",
]


def names(info: object) -> list[str]:
    """The CA names of a CertificateRequestInfo as sorted RFC 4514 strings."""
    return sorted(n.rfc4514_string() for n in info.certificate_authorities)  # type: ignore[attr-defined]


REQUEST = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"


@pytest.fixture(scope="session", name="keystore_bytes")
def keystore_bytes_fixture(
    identity_a: Identity, identity_b: Identity, identity_stranger: Identity
) -> bytes:
    """One PKCS#12 with three identities; the one a root-A server wants comes last."""
    return build_pkcs12([identity_stranger, identity_b, identity_a], KEYSTORE_PASSWORD)


@pytest.fixture(scope="session", name="keystore")
def keystore_fixture(keystore_bytes: bytes) -> dict[str, Identity]:
    """alias -> identity, as ``tlsengine.load_pkcs12`` reads the keystore (in file order)."""
    identities = tlsengine.load_pkcs12(keystore_bytes, KEYSTORE_PASSWORD)
    assert [i.alias for i in identities] == ["client-stranger", "client-b", "client-a"]
    return {i.alias: i for i in identities}


def connect(ctx: Any, srv: LoggingPeer) -> tuple[Any, int]:
    """A TLS socket not yet handshaken, and the local port the server logs it under."""
    raw = socket.create_connection(srv.address, timeout=TIMEOUT)
    port = raw.getsockname()[1]
    return ctx.wrap_socket(raw, server_hostname="localhost", do_handshake_on_connect=False), port


def fetch(ctx: Any, srv: LoggingPeer) -> tuple[Any, bytes, str]:
    """One request: the socket, the HTTP response, and the server's line for it."""
    tls, port = connect(ctx, srv)
    with tls:
        tls.do_handshake()
        tls.sendall(REQUEST)
        response = read_all(tls)
    return tls, response, srv.verdict(port)


def fetch_rejected(ctx: Any, srv: LoggingPeer) -> tuple[Any, ClientCertificateRejected, str]:
    """A handshake the server refuses: the socket, the error raised, and the server's line.

    Nothing is written (see ``client.fetch_rejected``): the verdict arrives after our
    Finished in TLS 1.3, and the first read meets it.
    """
    tls, port = connect(ctx, srv)
    return tls, expect_rejection(tls), srv.verdict(port)


def body_of(response: bytes) -> str:
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), response
    return body.decode()
