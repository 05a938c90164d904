"""Issue 7, item 1: a refused client certificate is `ClientCertificateRejected`, always.

A TLS 1.3 server judges our certificate after our Finished, so its alert races whatever
the application does next. The alert may be read before our first write, after it, or
never by the event loop (a write that meets the server's reset stops asyncio reading).
Each run below forces or randomises one of those orders, a hundred times, idle and with
the CPU busy, and every run must end in the same error type, carrying the selection.
"""

from __future__ import annotations

import asyncio
import collections
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from peers import Peers

import tlsengine
from tlsengine import ClientCertificateRejected
from tlsengine.identity.model import Identity
from tlsengine.socket.aio import open_connection
from tlsengine.testing import CA

RUNS = 100
TIMEOUT = 10.0
REQUEST = b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"
#: Orders of (our write, the server's alert) that each run cycles through.
AIO_ORDERS = ("write-at-once", "write-after-alert", "write-after-jitter", "read-only")
BLOCKING_ORDERS = ("write-read", "sleep-write-read", "read-write", "read-read")


@pytest.fixture(params=["idle", "loaded"])
def load(request: pytest.FixtureRequest) -> Iterator[str]:
    """``loaded``: two busy processes compete with the client and the server for the CPU."""
    burners: list[subprocess.Popen[bytes]] = []
    if request.param == "loaded":
        burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        yield request.param
    finally:
        for proc in burners:
            proc.kill()
            proc.wait()


def outcome(exc: BaseException | None) -> str:
    """One comparable word per run: the type, and whether it carried an empty selection."""
    if exc is None:
        return "no error"
    if isinstance(exc, ClientCertificateRejected):
        sent_nothing = exc.selection is not None and exc.selection.identity is None
        return f"rejected alert={exc.alert} selection={'ok' if sent_nothing else 'missing'}"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


def rejecting_context(peers: Peers, identities: list[Identity]) -> Any:
    return tlsengine.ClientContext(identities=identities, cafile=str(peers.pki.ca_file))


async def aio_run(ctx: Any, address: tuple[str, int], order: str) -> str:
    """Connect, then write and read in ``order``; the outcome of the first error."""
    try:
        reader, writer = await open_connection(
            *address, context=ctx, server_hostname="localhost", timeout=TIMEOUT
        )
    except Exception as exc:  # noqa: BLE001 - the outcome is what the test compares
        return outcome(exc)
    try:
        if order == "write-after-alert":
            deadline = time.monotonic() + TIMEOUT
            while not writer.is_closing() and time.monotonic() < deadline:
                await asyncio.sleep(0.001)  # the alert closes the transport once read
        elif order == "write-after-jitter":
            await asyncio.sleep(random.uniform(0, 0.005))
        if order != "read-only":
            writer.write(REQUEST)
            await writer.drain()
        await asyncio.wait_for(reader.read(), TIMEOUT)
    except Exception as exc:  # noqa: BLE001
        return outcome(exc)
    finally:
        writer.close()
    return outcome(None)


def blocking_run(ctx: Any, address: tuple[str, int], order: str) -> list[str]:
    """The same with `TLSSocket`: the outcome of every step (later ones must agree).

    The handshake is its own step ("h"): TLS 1.2 servers refuse us inside it, and the
    calls after a failed handshake must repeat its error too.
    """
    results = []
    raw = socket.create_connection(address, timeout=TIMEOUT)
    with ctx.wrap_socket(raw, server_hostname="localhost", do_handshake_on_connect=False) as tls:
        steps = {"write-read": "hwr", "sleep-write-read": "hswr", "read-write": "hrw"}
        for step in steps.get(order, "hrr"):
            try:
                if step == "h":
                    tls.do_handshake()
                elif step == "s":
                    time.sleep(0.02)  # the alert is waiting in the kernel before we write
                elif step == "w":
                    tls.sendall(REQUEST)
                else:
                    while tls.recv(65536):
                        pass
                results.append(outcome(None) if step == "r" else "done")
            except Exception as exc:  # noqa: BLE001
                results.append(outcome(exc))
    return results


EXPECTED = "rejected alert=certificate_required selection=ok"


def expected(tls: str) -> str:
    """OpenSSL refuses a missing certificate with certificate_required in TLS 1.3 (RFC 8446
    4.4.2.4) and with handshake_failure in TLS 1.2 (RFC 5246 7.4.6)."""
    return (
        EXPECTED if tls == "1.3" else EXPECTED.replace("certificate_required", "handshake_failure")
    )


#: TLS 1.3 judges our certificate after our Finished (the race); TLS 1.2 before its own
#: Finished, so the rejection lands in the handshake. Both must read the same.
TLS_VERSIONS = pytest.mark.parametrize("tls", ["1.3", "1.2"])


@TLS_VERSIONS
def test_asyncio_rejection_type_never_depends_on_timing(
    peers: Peers,
    other_root_ca: CA,
    identity_a: Identity,
    identity_stranger: Identity,
    load: str,
    tls: str,
) -> None:
    """``openssl s_server -Verify 1`` naming a CA none of our identities is under."""
    srv = peers.openssl(client_cas=peers.cas(other_root_ca), tls=tls)
    ctx = rejecting_context(peers, [identity_a, identity_stranger])

    async def main() -> collections.Counter[tuple[str, str]]:
        seen: collections.Counter[tuple[str, str]] = collections.Counter()
        for i in range(RUNS):
            order = AIO_ORDERS[i % len(AIO_ORDERS)]
            seen[order, await aio_run(ctx, srv.address, order)] += 1
        return seen

    seen = asyncio.run(main())
    wrong = {k: n for k, n in seen.items() if k[1] != expected(tls)}
    assert not wrong, f"{load}: {sum(wrong.values())}/{RUNS} runs raised the wrong error: {wrong}"


@TLS_VERSIONS
def test_blocking_rejection_type_never_depends_on_timing(
    peers: Peers, other_root_ca: CA, identity_stranger: Identity, load: str, tls: str
) -> None:
    """The blocking socket against the same server: the first error and every later one."""
    srv = peers.openssl(client_cas=peers.cas(other_root_ca), tls=tls)
    ctx = rejecting_context(peers, [identity_stranger])
    wrong = []
    for i in range(RUNS // 2):
        order = BLOCKING_ORDERS[i % len(BLOCKING_ORDERS)]
        steps = blocking_run(ctx, srv.address, order)
        errors = [s for s in steps if s != "done"]
        if not errors or any(s != expected(tls) for s in errors):
            wrong.append((order, steps))
    assert not wrong, f"{load}: {wrong[:5]}"


def test_asyncio_write_into_reset_still_reads_the_alert(peers: Peers) -> None:
    """The event loop is busy while the alert arrives, then two writes meet the server's
    reset: asyncio drops the transport on the write error without reading, so the alert
    would be lost and a bare ``BrokenPipeError`` would surface."""
    srv = peers.python_ssl()  # closes at once after refusing us: our write draws a reset
    ctx = rejecting_context(peers, [])

    async def run_once() -> str:
        try:
            # No timeout: wait_for would give the loop turns in which to read the alert.
            reader, writer = await open_connection(
                *srv.address, context=ctx, server_hostname="localhost"
            )
            time.sleep(0.05)  # block the loop: the alert waits unread in the kernel
            writer.write(REQUEST)
            time.sleep(0.02)  # the server answers that write with a reset
            writer.write(REQUEST)
            await asyncio.wait_for(reader.read(), TIMEOUT)
        except Exception as exc:  # noqa: BLE001
            return outcome(exc)
        return outcome(None)

    results = [asyncio.run(run_once()) for _ in range(5)]
    assert results == [EXPECTED] * 5


def test_blocking_write_into_reset_and_later_calls_repeat_the_rejection(peers: Peers) -> None:
    srv = peers.python_ssl()
    ctx = rejecting_context(peers, [])
    raw = socket.create_connection(srv.address, timeout=TIMEOUT)
    with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
        time.sleep(0.05)
        tls.sendall(REQUEST)
        time.sleep(0.02)
        with pytest.raises(ClientCertificateRejected) as first:
            tls.sendall(REQUEST)
        with pytest.raises(ClientCertificateRejected) as again:
            tls.recv(100)
        with pytest.raises(ClientCertificateRejected):
            tls.sendall(REQUEST)
    assert again.value is first.value
    assert outcome(first.value) == EXPECTED


async def dropin_run(ctx: Any, address: tuple[str, int], order: str) -> str:
    """asyncio's own streams and SSL protocol, driving our `TLSObject`, in ``order``."""
    try:
        reader, writer = await asyncio.open_connection(
            *address, ssl=ctx, server_hostname="localhost"
        )
        if order == "write-after-jitter":
            await asyncio.sleep(random.uniform(0, 0.005))
        elif order == "write-late":
            await asyncio.sleep(0.05)  # the alert has long arrived
        if order != "read-only":
            writer.write(REQUEST)
            await writer.drain()
        await asyncio.wait_for(reader.read(), TIMEOUT)
        writer.close()
    except Exception as exc:  # noqa: BLE001
        return outcome(exc)
    return outcome(None)


def dropin_outcomes(
    peers: Peers, other_root_ca: CA, identity: Identity, tls: str, orders: tuple[str, ...]
) -> dict[tuple[str, str], int]:
    srv = peers.openssl(client_cas=peers.cas(other_root_ca), tls=tls)
    ctx = tlsengine.SSLContext(identities=[identity])
    ctx.load_verify_locations(str(peers.pki.ca_file))

    async def main() -> collections.Counter[tuple[str, str]]:
        seen: collections.Counter[tuple[str, str]] = collections.Counter()
        for i in range(RUNS // 2):
            order = orders[i % len(orders)]
            seen[order, await asyncio.wait_for(dropin_run(ctx, srv.address, order), TIMEOUT)] += 1
        return seen

    return {k: n for k, n in asyncio.run(main()).items() if k[1] != expected(tls)}


@TLS_VERSIONS
def test_stdlib_asyncio_over_tlsengine_sslcontext_agrees(
    peers: Peers, other_root_ca: CA, identity_stranger: Identity, load: str, tls: str
) -> None:
    """The drop-in path reports the refusal the same way when the alert is read before our
    write, or when we only read."""
    wrong = dropin_outcomes(
        peers, other_root_ca, identity_stranger, tls, ("write-late", "read-only")
    )
    assert not wrong, f"{load}: {wrong}"


@pytest.mark.xfail(
    strict=False,
    reason="known, not fixed: on the drop-in path, about 1 run in 100-200 under load where "
    "our write races the alert, asyncio's StreamWriter.drain() raises its own "
    "ConnectionResetError('Connection lost') (the app protocol saw connection_lost(None)) "
    "before the rejection reaches the reader; tlsengine.socket.aio is not affected",
)
def test_stdlib_asyncio_over_tlsengine_sslcontext_racing_writes(
    peers: Peers, other_root_ca: CA, identity_stranger: Identity
) -> None:
    wrong = dropin_outcomes(
        peers, other_root_ca, identity_stranger, "1.3", ("write-at-once", "write-after-jitter")
    )
    assert not wrong, wrong
