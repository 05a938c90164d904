"""`HTTPTransport` / `AsyncHTTPTransport`: tlsengine under ``httpx``.

Pass one as ``httpx.Client(transport=...)``; pooling, redirects, proxies, cookies and
decompression stay httpx's. HTTP/2 is offered by ALPN when ``h2`` is installed. httpx is
optional (``pip install 'tlsengine[httpx]'``).
"""

from __future__ import annotations

import importlib.util
from typing import Any

import httpcore
import httpx

from ..socket.context import ClientContext
from ..socket.sslcontext import SSLContext
from ..socket.tlssocket import TLSSocket

__all__ = ["HTTPTransport", "AsyncHTTPTransport", "http2_available"]


def http2_available() -> bool:
    """True when the ``h2`` package is installed (httpx speaks HTTP/2 only with it)."""
    return importlib.util.find_spec("h2") is not None


def _httpx_arguments(
    context: SSLContext, http2: bool | None, kwargs: dict[str, Any]
) -> dict[str, Any]:
    """httpx's transport arguments: our context as ``verify``, HTTP/2 when h2 is there."""
    if "verify" in kwargs or "cert" in kwargs:
        raise TypeError("pass trust and identities in context=, not verify=/cert=")
    return {**kwargs, "verify": context, "http2": http2_available() if http2 is None else http2}


class _Stream(httpcore.NetworkStream):
    """httpcore's sync stream, except that a tlsengine socket is its ``ssl_object``.

    httpcore reads the ALPN answer only from an ``ssl.SSLSocket``; without this it would
    speak HTTP/1.1 to a server that agreed to HTTP/2.
    """

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            sock = self._inner.get_extra_info("socket")
            if isinstance(sock, TLSSocket):
                return sock
        return self._inner.get_extra_info(info)


class _Backend(httpcore.SyncBackend):
    def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _Stream(super().connect_tcp(*args, **kwargs))


class HTTPTransport(httpx.HTTPTransport):
    """``httpx.Client(transport=HTTPTransport())``: HTTPS through tlsengine.

    ``context`` (a `SSLContext` or `ClientContext`) defaults to ``tlsengine.SSLContext()``
    (default identity store, system roots). ``http2=None`` means: when ``h2`` is
    installed. Other arguments are httpx's.
    """

    def __init__(
        self,
        context: SSLContext | ClientContext | None = None,
        *,
        http2: bool | None = None,
        **kwargs: Any,
    ) -> None:
        self.context = SSLContext.from_client_context(SSLContext() if context is None else context)
        super().__init__(**_httpx_arguments(self.context, http2, kwargs))
        # httpx builds its pool without a backend argument: hand it ours afterwards.
        self._pool._network_backend = _Backend()


class AsyncHTTPTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncClient(transport=AsyncHTTPTransport())``: anyio drives our `TLSObject`
    through ``wrap_bio``, so ALPN (and HTTP/2) need nothing more."""

    def __init__(
        self,
        context: SSLContext | ClientContext | None = None,
        *,
        http2: bool | None = None,
        **kwargs: Any,
    ) -> None:
        self.context = SSLContext.from_client_context(SSLContext() if context is None else context)
        super().__init__(**_httpx_arguments(self.context, http2, kwargs))
