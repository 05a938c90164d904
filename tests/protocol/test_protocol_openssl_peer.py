"""Against ``openssl s_server -tls1_3 -Verify 1``: CA names from a real OpenSSL request."""

from __future__ import annotations

import pytest
from peers import OpenSSLServer, make_server_pki, write_cas
from proto_helpers import Client

from tlsengine.errors import ClientCertificateRejected
from tlsengine.protocol import ClientConfig, ConnectionClosed
from tlsengine.testing import CA

pytestmark = pytest.mark.interop


@pytest.fixture(scope="session")
def third_ca() -> CA:
    return CA.root("tlsengine Test Root C")


def _http(client: Client) -> bytes:
    client.send(b"GET / HTTP/1.0\r\n\r\n")
    out = bytearray()
    try:
        while not any(isinstance(e, ConnectionClosed) for e in client.pump()):
            pass
    except EOFError:
        pass
    out += client.data
    return bytes(out)


def test_openssl_ca_names_steer_selection(tmp_path, root_ca, other_root_ca, third_ca):
    pki = make_server_pki(root_ca, tmp_path / "pki")
    cas = write_cas(tmp_path / "client-cas.pem", third_ca, root_ca)
    wrong = other_root_ca.identity("openssl wrong", "p256")
    right = root_ca.identity("openssl right", "p384")
    with OpenSSLServer(tmp_path / "srv", pki, client_cas=cas, verify="require") as srv:
        config = ClientConfig(server_name="localhost", identities=[wrong, right], trace=True)
        with Client(srv.address, config) as client:
            client.handshake()
            info = client.conn.certificate_request
            assert list(info.certificate_authorities) == [third_ca.name, root_ca.name]
            assert client.conn.client_identity == right
            page = _http(client)
        assert b"CN=openssl right" in page or b"CN = openssl right" in page, page[-600:]
        assert srv.received_handshake().count("Certificate") >= 1


def test_openssl_rejects_empty_certificate_with_reasons(tmp_path, root_ca, other_root_ca):
    pki = make_server_pki(root_ca, tmp_path / "pki")
    wrong = other_root_ca.identity("openssl only wrong", "p256")
    with OpenSSLServer(tmp_path / "srv", pki, verify="require") as srv:
        with Client(srv.address, ClientConfig(identities=[wrong])) as client:
            client.handshake()
            with pytest.raises(ClientCertificateRejected) as info:
                _http(client)
    assert info.value.alert == "certificate_required"
    assert "ca-mismatch" in str(info.value)
