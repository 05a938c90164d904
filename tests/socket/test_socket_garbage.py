"""Whatever a "server" sends, the socket shell ends in a documented TLSError, never a leak.

The peer is the other end of a socketpair, so hypothesis can try many byte strings fast.
"""

from __future__ import annotations

import socket
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tlsengine.errors import HandshakeError, TLSError
from tlsengine.socket import ClientContext

CTX = ClientContext(identities=[], verify=False)


def handshake_against(reply: bytes, *, close: bool = True) -> BaseException | None:
    client, server = socket.socketpair()
    client.settimeout(2)

    def serve() -> None:
        try:
            server.recv(65536)  # the ClientHello
            server.sendall(reply)
        except OSError:
            pass
        finally:
            if close:
                server.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        CTX.wrap_socket(client, server_hostname="localhost")
    except Exception as exc:  # noqa: BLE001 - the type is what the test judges
        return exc
    finally:
        client.close()
        t.join(2)
    return None


def test_http_server_answer_is_a_tls_error() -> None:
    exc = handshake_against(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    assert isinstance(exc, TLSError), repr(exc)


def test_silent_close_is_a_handshake_error() -> None:
    exc = handshake_against(b"")
    assert isinstance(exc, HandshakeError) and "closed the connection" in str(exc)


@pytest.mark.parametrize(
    "reply",
    [
        b"\x15\x03\x03\x00\x02\x02\x28",  # plaintext fatal handshake_failure alert
        b"\x16\x03\x03\x00\x04\x02\x00\x00\x00",  # an empty ServerHello
        b"\x16\x03\x03\xff\xff" + b"\x00" * 10,  # record longer than the data, then EOF
        b"\x17\x03\x03\x00\x10" + b"\x00" * 16,  # application data before any keys
    ],
)
def test_malformed_records_are_tls_errors(reply: bytes) -> None:
    exc = handshake_against(reply)
    assert isinstance(exc, TLSError), repr(exc)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=300),
        st.builds(
            lambda t, body: bytes([t, 3, 3]) + len(body).to_bytes(2, "big") + body,
            st.sampled_from([20, 21, 22, 23, 24]),
            st.binary(max_size=200),
        ),
    )
)
def test_any_reply_ends_in_a_tls_error(reply: bytes) -> None:
    exc = handshake_against(reply)
    assert isinstance(exc, TLSError), repr(exc)
