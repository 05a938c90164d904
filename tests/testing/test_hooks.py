"""Hooks on the context: observe each message, replace selection, rewrite outgoing (unsafe)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tlsengine import ClientContext
from tlsengine.errors import TLSError
from tlsengine.identity.model import Identity
from tlsengine.protocol import Hooks
from tlsengine.selection.select import Selection
from tlsengine.testing import CA, TestServer


@pytest.fixture(scope="module")
def server(root_ca: CA) -> Iterator[TestServer]:
    cert, key = root_ca.issue("localhost", "p256", client=False, server=True, dns=["localhost"])
    with TestServer(
        [cert], key, request_client_cert=True, ca_names=[root_ca.certificate], app="echo"
    ) as srv:
        yield srv


def talk(server: TestServer, root_ca: CA, identities: list[Identity], hooks: Hooks) -> None:
    ctx = ClientContext(identities=identities, cadata=root_ca.pem.decode(), hooks=hooks)
    with ctx.connect(server.address, server_hostname="localhost") as tls:
        tls.sendall(b"ping")
        assert tls.recv(4) == b"ping"


def test_hooks_are_off_by_default() -> None:
    assert ClientContext().hooks is None


def test_a_non_hooks_object_is_refused_up_front() -> None:
    with pytest.raises(TLSError, match="hooks must be"):
        ClientContext(hooks={"on_message": print})


def test_on_message_sees_every_handshake_message_both_ways(
    server: TestServer, root_ca: CA, client_identity: Identity
) -> None:
    seen: list[tuple[str, str, int]] = []
    talk(
        server,
        root_ca,
        [client_identity],
        Hooks(on_message=lambda d, n, raw: seen.append((d, n, raw[0]))),
    )
    names = [(d, n) for d, n, _ in seen]
    assert names[:7] == [
        ("out", "ClientHello"),
        ("in", "ServerHello"),
        ("in", "EncryptedExtensions"),
        ("in", "CertificateRequest"),
        ("in", "Certificate"),
        ("in", "CertificateVerify"),
        ("in", "Finished"),
    ]
    assert names[7:10] == [
        ("out", "Certificate"),
        ("out", "CertificateVerify"),
        ("out", "Finished"),
    ]
    assert {t for _, _, t in seen} >= {1, 2, 8, 13, 11, 15, 20}  # raw carries its header
    assert server.next_record().subject == client_identity.subject


def test_select_hook_replaces_selection_even_against_its_filters(
    server: TestServer, root_ca: CA, other_root_ca: CA, client_identity: Identity
) -> None:
    """The built-in selection excludes a stranger's identity (ca-mismatch) and would
    send the matching one; the hook overrides both, and the server gets the stranger."""
    stranger = other_root_ca.identity("stranger", "p256")

    def pick(info, identities):  # type: ignore[no-untyped-def]
        assert [i.alias for i in identities] == [client_identity.alias, stranger.alias]
        return Selection(stranger, "ecdsa_secp256r1_sha256", info=info)

    ctx = ClientContext(
        identities=[client_identity, stranger],
        cadata=root_ca.pem.decode(),
        hooks=Hooks(select=pick),
    )
    with ctx.connect(server.address, server_hostname="localhost") as tls:
        assert tls.client_identity is stranger
        tls.sendall(b"x")
        tls.recv(1)
    assert server.next_record().subject == stranger.subject


def test_unsafe_mutate_outgoing_reaches_the_wire(
    server: TestServer, root_ca: CA, client_identity: Identity
) -> None:
    """A flipped bit in our Finished (after we hashed the original) makes a real server
    refuse it: the rewrite went out encrypted, and our own transcript was untouched."""

    def flip_finished(name: str, raw: bytes) -> bytes:
        return raw[:-1] + bytes((raw[-1] ^ 1,)) if name == "Finished" else raw

    with pytest.raises(TLSError):
        talk(server, root_ca, [client_identity], Hooks(unsafe_mutate_outgoing=flip_finished))
    record = server.next_record()
    assert not record.accepted


def test_on_message_names_tls12_messages_too(root_ca: CA, client_identity: Identity) -> None:
    cert, key = root_ca.issue("localhost", "p256", client=False, server=True, dns=["localhost"])
    seen: list[tuple[str, str]] = []
    with TestServer(
        [cert], key, request_client_cert=True, versions=("TLSv1.2",), app="echo"
    ) as srv:
        ctx = ClientContext(
            identities=[client_identity],
            cadata=root_ca.pem.decode(),
            maximum_version="TLSv1.2",
            hooks=Hooks(on_message=lambda d, n, raw: seen.append((d, n))),
        )
        with ctx.connect(srv.address, server_hostname="localhost") as tls:
            assert tls.version() == "TLSv1.2"
    assert ("in", "ServerHelloDone") in seen
    assert ("out", "ClientKeyExchange") in seen
    assert ("out", "CertificateVerify") in seen


def test_select_hook_works_on_the_sans_io_config_too(client_identity: Identity) -> None:
    from tlsengine.protocol import ClientConfig

    def pick(info, identities):  # type: ignore[no-untyped-def]
        return None

    assert ClientConfig(hooks=Hooks(select=pick)).select is pick
