"""Fixtures of the drop-in suite: one multi-identity PKCS#12 and two mTLS servers.

The two servers trust different CAs: the stdlib ``ssl`` server trusts root A (and sends
no CA names, so the first identity in load order goes out), nginx trusts root B (and
names it, so selection must pick identity B). Both echo the client subject.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from peers import Peers, peers, server_pki  # noqa: F401 - fixtures registered by import

import tlsengine
from tlsengine.identity.model import Identity
from tlsengine.identity.pkcs12 import build_pkcs12
from tlsengine.testing import CA

from .servers import KeepAliveHTTPSServer

PASSWORD = "drop-in"
REQUESTS = 20


@dataclass
class Target:
    """One mTLS server and the client subject it should echo."""

    name: str
    host: str
    port: int
    subject: str
    server: Any

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}/"

    def server_handshakes(self) -> int | None:
        """Handshakes the server completed (None where the server cannot say: nginx)."""
        accepted = getattr(self.server, "accepted", None)
        return None if accepted is None else len(accepted)


@pytest.fixture(scope="session")
def identity_a(root_ca: CA) -> Identity:
    return root_ca.identity("drop-in client A", "p256", alias="client-a")


@pytest.fixture(scope="session")
def identity_b(other_root_ca: CA) -> Identity:
    return other_root_ca.identity("drop-in client B", "rsa2048", alias="client-b")


@pytest.fixture(scope="session")
def stranger_ca() -> CA:
    return CA.root("tlsengine Drop-in Stranger Root")


@pytest.fixture(scope="session")
def pkcs12_bytes(identity_a: Identity, identity_b: Identity) -> bytes:
    """One PKCS#12 holding both identities (A first)."""
    return build_pkcs12([identity_a, identity_b], PASSWORD)


@pytest.fixture(scope="session")
def identities(pkcs12_bytes: bytes) -> list[Identity]:
    return tlsengine.load_pkcs12(pkcs12_bytes, PASSWORD)


class CountingContext(tlsengine.SSLContext):
    """Our SSLContext, counting the connections it wraps (one handshake each)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wraps = 0

    def wrap_socket(self, *args: Any, **kwargs: Any) -> Any:
        self.wraps += 1
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> Any:
        self.wraps += 1
        return super().wrap_bio(*args, **kwargs)


@pytest.fixture
def ctx(identities: list[Identity], server_pki: Any) -> CountingContext:  # noqa: F811
    """A verifying tlsengine.SSLContext with both identities, trusting the servers' CA."""
    context = CountingContext(identities=identities)
    context.load_verify_locations(cafile=str(server_pki.ca_file))
    return context


def _stdlib_server(pki: Any, trusted: CA, path: Path) -> KeepAliveHTTPSServer:
    from peers import write_cas

    return KeepAliveHTTPSServer(pki, write_cas(path, trusted))


@pytest.fixture
def python_server(
    server_pki: Any,  # noqa: F811
    root_ca: CA,
    tmp_path: Path,
) -> Iterator[KeepAliveHTTPSServer]:
    with _stdlib_server(server_pki, root_ca, tmp_path / "cas-a.pem") as server:
        yield server


@pytest.fixture
def targets(
    python_server: KeepAliveHTTPSServer,
    peers: Peers,  # noqa: F811 - the fixture imported above
    other_root_ca: CA,
    identity_a: Identity,
    identity_b: Identity,
) -> list[Target]:
    """Two servers trusting different CAs: Python ssl (root A), nginx (root B)."""
    nginx = peers.nginx(client_cas=peers.cas(other_root_ca))
    return [
        Target("python-ssl", "127.0.0.1", python_server.port, identity_a.subject, python_server),
        Target("nginx", "127.0.0.1", nginx.port, identity_b.subject, nginx),
    ]


@pytest.fixture
def rejecting_server(
    server_pki: Any,  # noqa: F811
    stranger_ca: CA,
    tmp_path: Path,
) -> Iterator[KeepAliveHTTPSServer]:
    """A stdlib server that trusts only a CA none of our identities come from."""
    with _stdlib_server(server_pki, stranger_ca, tmp_path / "cas-x.pem") as server:
        yield server


def find_in_chain(exc: BaseException, cls: type[BaseException]) -> BaseException | None:
    """``exc`` or an error it wraps (cause, context, urllib3's ``reason``, args) of ``cls``."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, cls):
            return item
        todo += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]
    return None


@pytest.fixture(autouse=True)
def no_ca_bundle_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests turns REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE into ``verify=path``; tests that
    want it set it themselves."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
