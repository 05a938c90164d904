"""A host name mismatch says which names the certificate does cover.

Met as a new user: connecting by an address or name the server's certificate lacks said
"the certificate is for another name; it does not cover 'other.example'", leaving the user
to dig the certificate out with openssl to find the name to use instead.
"""

from __future__ import annotations

import pytest
from conftest import require_tool
from peers import Peers, peers, server_pki  # noqa: F401 - fixtures registered by import

import tlsengine
from tlsengine.cli.pki import CA
from tlsengine.errors import CertificateVerificationError
from tlsengine.verify import ServerVerifier, TrustRoots


def test_connect_by_another_name_lists_the_covered_ones(peers: Peers) -> None:  # noqa: F811
    require_tool("openssl")
    srv = peers.openssl(verify="none")
    ctx = tlsengine.ClientContext(cafile=str(peers.pki.ca_file))
    with pytest.raises(CertificateVerificationError) as caught:
        ctx.connect(("127.0.0.1", srv.port), server_hostname="other.example", timeout=10)
    assert caught.value.rule == "hostname-mismatch"
    first = str(caught.value).splitlines()[0]
    assert "it does not cover 'other.example', only: localhost, 127.0.0.1 [" in first


def test_a_long_san_list_is_cut_to_five() -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    root = CA.root("many names root")
    dns = [f"n{i}.example.test" for i in range(12)]
    leaf, _ = root.issue("many", client=False, server=True, dns=dns)
    verifier = ServerVerifier(TrustRoots((root.certificate,), "test root"))
    with pytest.raises(CertificateVerificationError) as caught:
        verifier([leaf.public_bytes(Encoding.DER)], "elsewhere.test")
    message = str(caught.value)
    assert "only: n0.example.test, n1.example.test, n2.example.test, n3.example.test, " in message
    assert "n4.example.test and 7 more [" in message
    assert "n5.example.test" not in message
