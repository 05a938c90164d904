"""Handshakes against tlslite-ng's server: X25519MLKEM768, a CertificateRequest carrying
extension 47 with odd schemes and signature_algorithms_cert, and server-sent KeyUpdate."""

from __future__ import annotations

import socket
import threading

import pytest
from proto_helpers import Client, choose
from tlslite import HandshakeSettings, TLSConnection, X509CertChain, parsePEMKey
from tlslite.constants import KeyUpdateMessageType

from tlsengine.errors import ClientCertificateRejected
from tlsengine.protocol import ClientConfig, KeyUpdated
from tlsengine.testing import TestServer, cert_pem, key_pem

pytestmark = pytest.mark.interop


@pytest.fixture(scope="session")
def server_pki(root_ca):
    cert, key = root_ca.issue("localhost", "p256", client=False, server=True, dns=["localhost"])
    return [cert, root_ca.certificate], key


def test_x25519mlkem768_as_first_key_share(server_pki):
    chain, key = server_pki
    with TestServer(chain, key, groups=["x25519mlkem768"], app="echo") as srv:
        config = ClientConfig(key_share_groups=("X25519MLKEM768",), trace=True)
        with Client(srv.address, config) as client:
            client.handshake()
            client.send(b"post-quantum")
            assert client.read_exactly(12) == b"post-quantum"
            hello = next(t for t in client.conn.transcript if t["type"] == "ServerHello")
            assert hello["group"] == "X25519MLKEM768"
            assert [t["type"] for t in client.conn.transcript].count("ClientHello") == 1
        record = srv.next_record()
    assert record.group is not None and "mlkem" in record.group.lower()


def test_hello_retry_request_into_x25519mlkem768(server_pki):
    chain, key = server_pki
    with TestServer(chain, key, groups=["x25519mlkem768"], app="echo") as srv:
        with Client(srv.address, ClientConfig(trace=True)) as client:
            client.handshake()
            types = [t["type"] for t in client.conn.transcript]
            assert types[:3] == ["ClientHello", "HelloRetryRequest", "ClientHello"]
            assert client.conn.transcript[1]["group"] == "X25519MLKEM768"


def test_certificate_request_with_ca_names_odd_schemes_and_cert_schemes(
    server_pki, root_ca, other_root_ca, client_identity
):
    chain, key = server_pki
    seen = []

    def select(info, identities):
        seen.append(info)
        return choose(client_identity)(info, identities)

    with TestServer(
        chain,
        key,
        require_client_cert=True,
        trusted=[root_ca.certificate],
        ca_names=[other_root_ca.certificate, root_ca.certificate],
        signature_schemes=[0x0A0A, "ed448", "ecdsa_secp256r1_sha256", "rsa_pss_rsae_sha256"],
        signature_schemes_cert=["ecdsa_secp256r1_sha256", "rsa_pkcs1_sha256"],
        app="echo",
    ) as srv:
        config = ClientConfig(identities=[client_identity], select=select)
        with Client(srv.address, config) as client:
            client.handshake()
            client.send(b"mtls")
            assert client.read_exactly(4) == b"mtls"
        record = srv.next_record()
    info = seen[0]
    assert info.version == "TLSv1.3" and not info.post_handshake and info.context == b""
    assert list(info.certificate_authorities) == [other_root_ca.name, root_ca.name]
    assert info.signature_schemes[:3] == ("0x0a0a", "ed448", "ecdsa_secp256r1_sha256")
    assert info.signature_schemes_cert == ("ecdsa_secp256r1_sha256", "rsa_pkcs1_sha256")
    assert info.certificate_types is None
    assert record.accepted and record.subject == client_identity.subject
    assert record.scheme == "ecdsa_secp256r1_sha256"


def _echo_server_for_root_clients(server_pki, root_ca) -> TestServer:
    """An echo server that requires a client certificate from root A and names only root A."""
    chain, key = server_pki
    return TestServer(
        chain,
        key,
        require_client_cert=True,
        trusted=[root_ca.certificate],
        ca_names=[root_ca.certificate],
        app="echo",
    )


def test_default_selection_picks_by_ca_name_and_explains(server_pki, root_ca, other_root_ca):
    """Without a select= hook the selection layer's select_identity runs on the snapshot."""
    wrong = other_root_ca.identity("wrong ca", "p256")
    right = root_ca.identity("right ca", "p256")
    with _echo_server_for_root_clients(server_pki, root_ca) as srv:
        config = ClientConfig(identities=[wrong, right], trace=True)
        with Client(srv.address, config) as client:
            client.handshake()
            client.send(b"hi")
            assert client.read_exactly(2) == b"hi"
            assert client.conn.client_identity == right
            verdicts = {v[0].alias: v[1] for v in client.conn.selection.verdicts}
            assert verdicts == {"right ca": "chosen", "wrong ca": "ca-mismatch"}
            trace = next(t for t in client.conn.transcript if t["type"] == "Selection")
            assert trace["chosen"] == "right ca"
        assert srv.next_record().subject == right.subject


def test_nothing_fits_sends_empty_certificate_and_raises_with_reasons(
    server_pki, root_ca, other_root_ca
):
    wrong = other_root_ca.identity("only wrong", "p256")
    with _echo_server_for_root_clients(server_pki, root_ca) as srv:
        with Client(srv.address, ClientConfig(identities=[wrong])) as client:
            client.handshake()
            with pytest.raises(ClientCertificateRejected) as info:
                while True:
                    client.pump()
            assert info.value.alert == "certificate_required"
            assert info.value.selection.identity is None
            assert [v[1] for v in info.value.selection.verdicts] == ["ca-mismatch"]
        record = srv.next_record()
    assert record.certificate_received and not record.chain


def _keyupdate_server(listener: socket.socket, chain, key, result: dict) -> None:
    """A bare tlslite-ng TLSConnection that sends KeyUpdate(update_requested) after the
    handshake, then echoes once under its new keys."""
    sock, _ = listener.accept()
    sock.settimeout(5)
    conn = TLSConnection(sock)
    try:
        certs = X509CertChain()
        certs.parsePemList(cert_pem(*chain).decode())
        settings = HandshakeSettings()
        settings.minVersion = settings.maxVersion = (3, 4)
        conn.handshakeServer(
            certChain=certs,
            privateKey=parsePEMKey(key_pem(key).decode(), private=True),
            settings=settings,
        )
        for _ in conn.send_keyupdate_request(KeyUpdateMessageType.update_requested):
            pass
        data = conn.read(max=100)
        conn.write(bytes(data))
        result["data"] = bytes(data)
        conn.close()
    except Exception as exc:  # recorded for the assertion below
        result["error"] = repr(exc)
    finally:
        sock.close()


def test_server_key_update_with_request_is_answered(server_pki):
    chain, key = server_pki
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    result: dict = {}
    t = threading.Thread(target=_keyupdate_server, args=(listener, chain, key, result))
    t.start()
    try:
        with Client(listener.getsockname(), ClientConfig(trace=True)) as client:
            client.handshake()
            while not any(isinstance(e, KeyUpdated) for e in client.events):
                client.pump()
            assert [e for e in client.events if isinstance(e, KeyUpdated)][0].requested
            client.send(b"new keys")
            assert client.read_exactly(8) == b"new keys"
            outgoing = [t for t in client.conn.transcript if t["type"] == "KeyUpdate"]
            assert outgoing[-1] == {
                "direction": "out",
                "type": "KeyUpdate",
                "update_requested": False,
            }
    finally:
        t.join(timeout=5)
        listener.close()
    assert result.get("data") == b"new keys", result
