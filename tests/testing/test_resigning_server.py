"""`ResigningServer`: a live tlslite-ng server whose mutated CertificateRequest is signed
over, so it reaches the client's selection (or its checks) as an authentic message."""

from __future__ import annotations

from typing import Any

import pytest
from tlslite.extensions import TLSExtension
from tlslite.messages import CertificateRequest

from tlsengine import ClientContext
from tlsengine.errors import TLSError
from tlsengine.identity.model import Identity
from tlsengine.testing import CA, ResigningServer


def serve(root_ca: CA, mutate: Any) -> ResigningServer:
    cert, key = root_ca.issue("localhost", "p256", client=False, server=True, dns=["localhost"])
    return ResigningServer(
        [cert], key, request_client_cert=True, ca_names=[root_ca.certificate], app="echo",
        mutate=mutate,
    )  # fmt: skip


def connect(srv: ResigningServer, root_ca: CA, identity: Identity) -> Any:
    ctx = ClientContext(identities=[identity], cadata=root_ca.pem.decode(), trace=True)
    return ctx.connect(srv.address, server_hostname="localhost")


def test_mutated_request_reaches_selection(root_ca: CA, client_identity: Identity) -> None:
    """Only ed25519 asked for: the P-256 identity is excluded (no-common-scheme), and the
    handshake (signed over the edited request) completes with an empty Certificate."""

    def only_ed25519(msg: Any) -> None:
        if isinstance(msg, CertificateRequest):
            msg.supported_signature_algs = [(8, 7)]

    with serve(root_ca, only_ed25519) as srv, connect(srv, root_ca, client_identity) as tls:
        assert list(tls.certificate_request.signature_schemes) == ["ed25519"]
        assert tls.client_identity is None
        assert tls.selection.verdicts[0].verdict == "no-common-scheme"
        tls.sendall(b"x")
        assert tls.recv(1) == b"x"


def test_authentic_but_illegal_request_is_refused(root_ca: CA, client_identity: Identity) -> None:
    """A key_share extension in a CertificateRequest (found by the audit), now authentic:
    the client refuses it itself, with illegal_parameter, and sends no certificate."""

    def add_key_share(msg: Any) -> None:
        if isinstance(msg, CertificateRequest):
            msg.extensions.append(TLSExtension().create(51, bytearray(b"\x00\x00")))

    with serve(root_ca, add_key_share) as srv:
        with pytest.raises(TLSError, match="extension 51") as info:
            connect(srv, root_ca, client_identity)
        assert info.value.send_alert == "illegal_parameter"
        assert not srv.next_record().certificate_received
