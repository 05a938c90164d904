"""Audit of ClientContext argument checking: bad arguments end in TLSEngineError subclasses."""

from __future__ import annotations

import pytest

from tlsengine import ClientContext
from tlsengine.errors import TLSEngineError

from .checks import only_documented_errors


def test_integer_alpn_name_is_refused():
    with pytest.raises(TLSEngineError):
        ClientContext(alpn_protocols=[3])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"alpn_protocols": 5},
        {"cafile": 5},
        {"cipher_suites": 5},
        {"groups": [[]]},
    ],
    ids=["alpn-int", "cafile-int", "suites-int", "groups-unhashable"],
)
def test_bad_argument_types_are_tls_errors(kwargs):
    only_documented_errors(ClientContext, **kwargs)


@pytest.mark.parametrize("identities", ["client.p12", {"alias": "x"}])
def test_non_identity_iterables_are_refused(identities):
    with pytest.raises(TLSEngineError):
        ClientContext(identities=identities)


def test_secure_defaults():
    """Verification and hostname checks are on unless switched off explicitly."""
    import socket

    from tlsengine.errors import CertificateVerificationError

    context = ClientContext(identities=[])
    assert context.verify and context.check_hostname
    assert context.verify_profile == "webpki"
    a, b = socket.socketpair()
    try:
        with pytest.raises(CertificateVerificationError):
            context.wrap_socket(a)  # no server_hostname while check_hostname is on
    finally:
        a.close()
        b.close()
