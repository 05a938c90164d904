"""`request`, `Session` and `Response`: the HTTP API apps call, on urllib3 and our TLS.

urllib3 does the HTTP: pooling, keep-alive, redirects, retries, chunking, decompression
(gzip, deflate, and br with ``brotli``), CONNECT tunnels. This module only chooses its
settings, hands it a `tlsengine.SSLContext`, and turns its errors into ours, so an app
sees `ClientCertificateRejected` (with the selection) rather than urllib3's wrappers.

Identities: every new connection handshakes with whatever identities the context reads
then (by default the process-wide store). A `Session` also drops its pooled connections
when that store's generation moves, so after ``load_client_certificate(B)`` no connection
authenticated as A carries another request.
"""

from __future__ import annotations

import codecs
import http.client
import json as _json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

import urllib3
import urllib3.connection
from urllib3 import HTTPHeaderDict
from urllib3.exceptions import (
    DecodeError,
    EmptyPoolError,
    HeaderParsingError,
    HTTPError,
    IncompleteRead,
    InvalidHeader,
    LocationParseError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ResponseError,
)
from urllib3.exceptions import (
    TimeoutError as Urllib3Timeout,
)

from .. import __version__
from ..errors import TLSEngineError, TLSTimeout
from ..socket.sslcontext import SSLContext
from .errors import (
    ConnectError,
    HTTPStatusError,
    IncompleteBody,
    InvalidJSON,
    InvalidResponse,
    InvalidURL,
    RequestError,
    ResponseTooLarge,
    TooManyRedirects,
)

__all__ = ["request", "Session", "Response", "TLSInfo", "Timeout", "default_session"]

#: (connect, read) seconds, or one number for both; ``total`` caps the whole call.
Timeout = urllib3.Timeout
TimeoutArg = float | tuple[float | None, float | None] | urllib3.Timeout | None

_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
_USER_AGENT = f"tlsengine/{__version__}"
CHUNK = 64 * 1024


@dataclass(frozen=True)
class TLSInfo:
    """What the TLS connection that carried a response negotiated, and which identity went."""

    version: str | None
    cipher: str | None
    client_identity: Any  # Identity | None: what was sent
    certificate_request: Any  # CertificateRequestInfo | None
    selection: Any  # Selection | None
    transcript: tuple[Any, ...] = ()  # handshake messages, with trace=True
    # True when the connection resumed a session: no CertificateRequest came on it, so
    # certificate_request and selection are None; client_identity is the one sent then.
    session_reused: bool = False


class Response:
    """An HTTP answer. ``content``/``text``/``json()`` read the whole (decoded) body;
    ``iter_content()`` streams it instead (a `Session.request` with ``stream=True``)."""

    def __init__(
        self,
        raw: urllib3.BaseHTTPResponse,
        url: str,
        *,
        deadline: float | None,
        tls: TLSInfo | None,
    ) -> None:
        self.raw = raw
        self.status: int = raw.status
        self.reason: str = raw.reason or ""
        self.headers: Mapping[str, str] = raw.headers  # case-insensitive
        self.url = _final_url(raw, url)
        self.tls = tls
        self._deadline = deadline
        self._content: bytes | None = None

    def __repr__(self) -> str:
        return f"<Response [{self.status} {self.reason}] {self.url}>"

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def ok(self) -> bool:
        return self.status < 400

    def iter_content(self, chunk_size: int = CHUNK) -> Iterator[bytes]:
        """The decoded body in chunks; raises `IncompleteBody` if it was cut short."""
        if self._content is not None:
            for i in range(0, len(self._content), chunk_size):
                yield self._content[i : i + chunk_size]
            return
        try:
            with _translated(self.url):
                while True:
                    _check_deadline(self._deadline, self.url)
                    chunk = self.raw.read(chunk_size)
                    if not chunk:
                        break
                    yield chunk
        finally:
            self.raw.release_conn()

    def read(self, limit: int | None = None) -> bytes:
        """The whole body; `ResponseTooLarge` past ``limit`` bytes (decoded)."""
        if self._content is None:
            parts, size = [], 0
            for chunk in self.iter_content():
                size += len(chunk)
                if limit is not None and size > limit:
                    self.close()
                    raise ResponseTooLarge(
                        f"{self.url}: body is larger than the {limit}-byte limit", url=self.url
                    )
                parts.append(chunk)
            self._content = b"".join(parts)
        return self._content

    @property
    def content(self) -> bytes:
        return self.read()

    @property
    def encoding(self) -> str:
        """The charset the Content-Type names, else UTF-8 (JSON's and most APIs' default)."""
        _, params = _content_type(self.headers.get("content-type", ""))
        charset = params.get("charset", "utf-8")
        try:
            info = codecs.lookup(charset)
        except (LookupError, ValueError):
            return "utf-8"
        # "base64", "rot13" and friends are codecs but not text encodings: bytes.decode refuses
        return info.name if getattr(info, "_is_text_encoding", True) else "utf-8"

    @property
    def text(self) -> str:
        return self.content.decode(self.encoding, errors="replace")

    @property
    def content_type(self) -> str:
        return _content_type(self.headers.get("content-type", ""))[0]

    def json(self) -> Any:
        try:
            return _json.loads(self.content)
        except (ValueError, RecursionError) as exc:
            raise InvalidJSON(
                f"{self.url}: the body is not JSON ({self.content_type or 'no content type'}: "
                f"{exc})",
                url=self.url,
            ) from None

    def raise_for_status(self) -> Response:
        if self.status >= 400:
            raise HTTPStatusError(
                f"{self.url}: HTTP {self.status} {self.reason}".rstrip(),
                url=self.url,
                status=self.status,
            )
        return self

    def close(self) -> None:
        if self._content is None:
            self.raw.close()  # unread: the connection cannot be reused
        self.raw.release_conn()


def _content_type(value: str) -> tuple[str, dict[str, str]]:
    kind, _, rest = value.partition(";")
    params = {}
    for part in rest.split(";"):
        name, sep, val = part.partition("=")
        if sep:
            params[name.strip().lower()] = val.strip().strip('"')
    return kind.strip().lower(), params


def is_json_type(content_type: str) -> bool:
    kind = _content_type(content_type)[0]
    return kind == "application/json" or kind.endswith("+json")


# --------------------------------------------------------------------------- sessions


class Session:
    """Pooled keep-alive HTTP(S) with the loaded identities; use it as a context manager.

    ``context``: a `tlsengine.SSLContext` (default: the process-wide identity store and the
    system roots). ``max_redirects`` bounds redirects (each new host handshakes afresh, so
    selection runs for that host); ``retries`` re-sends only what is safe to re-send: a
    request whose connection failed before any byte was written, or an idempotent method
    (GET, HEAD, PUT, DELETE, OPTIONS, TRACE) whose connection died. A POST on a pooled
    connection that died after it was written is never sent twice. ``trust_env`` reads
    ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` at each request; ``proxies`` overrides them
    (``{"https": "http://proxy:3128"}``).
    """

    def __init__(
        self,
        context: SSLContext | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        max_redirects: int = 10,
        retries: int = 2,
        pool_maxsize: int = 10,
        proxies: Mapping[str, str] | None = None,
        trust_env: bool = True,
    ) -> None:
        if context is not None and not isinstance(context, SSLContext):
            raise TypeError("context must be a tlsengine.SSLContext")
        self.context = context if context is not None else SSLContext()
        self.headers: dict[str, str] = {
            "User-Agent": _USER_AGENT,
            **urllib3.util.make_headers(accept_encoding=True),
        }
        self.headers.update(headers or {})
        self.max_redirects = max_redirects
        self.retries = retries
        self.proxies = dict(proxies) if proxies is not None else None
        self.trust_env = trust_env
        self._pool_kw: dict[str, Any] = {
            "ssl_context": self.context,
            "maxsize": pool_maxsize,
            "block": False,
        }
        self._lock = threading.Lock()
        self._direct: urllib3.PoolManager | None = None
        self._proxied: dict[str, urllib3.ProxyManager] = {}
        self._generation: Any = self._identity_generation()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every pooled connection; the session may still be used afterwards."""
        with self._lock:
            managers: list[Any] = [self._direct, *self._proxied.values()]
            self._direct, self._proxied = None, {}
        for manager in managers:
            if manager is not None:
                manager.clear()

    def get(self, url: str, **kw: Any) -> Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> Response:
        return self.request("POST", url, **kw)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | str | Mapping[str, Any] | IO[bytes] | None = None,
        json: Any = None,
        timeout: TimeoutArg = 30,
        allow_redirects: bool = True,
        stream: bool = False,
    ) -> Response:
        """Send one request. ``body``: bytes, str (UTF-8), a mapping (form-encoded) or a
        binary file; ``json``: any JSON value. Without ``stream`` the body is read before
        returning (and the connection goes back to the pool)."""
        method = _check_method(method)
        _check_url(url)
        payload, content_type = encode_body(body, json)
        merged = HTTPHeaderDict(self.headers)  # case-insensitive: the caller's win
        for name, value in (headers or {}).items():
            merged[name] = value
        if content_type and "content-type" not in merged:
            merged["Content-Type"] = content_type
        timeouts, deadline = _timeouts(timeout)
        retry = urllib3.Retry(
            total=None,
            connect=self.retries,
            read=0 if deadline is not None else min(self.retries, 1),  # a total caps retries
            other=0,
            status=0,
            redirect=self.max_redirects if allow_redirects else False,
            raise_on_redirect=allow_redirects,
            allowed_methods=_IDEMPOTENT,
        )
        manager = self._manager_for(url)
        with _translated(url):
            raw = manager.urlopen(
                method,
                url,
                body=payload,
                headers=merged,
                timeout=timeouts,
                retries=retry,
                redirect=allow_redirects,
                preload_content=False,
                decode_content=True,
                enforce_content_length=True,
            )
        response = Response(raw, url, deadline=deadline, tls=getattr(raw, "tls_info", None))
        if not stream:
            try:
                response.read()
            except BaseException:
                response.close()
                raise
        return response

    # ------------------------------------------------------------------ internals

    def _identity_generation(self) -> Any:
        """Changes whenever the identities this session's context reads change."""
        source = self.context.identities
        if source is None:
            from ..identity.store import default_store

            source = default_store()
        return (id(source), getattr(source, "generation", 0))

    def _manager_for(self, url: str) -> urllib3.PoolManager:
        generation = self._identity_generation()
        if generation != self._generation:
            self.close()  # nothing made under the old identities carries another request
            self._generation = generation
        proxy = self._proxy_for(url)
        with self._lock:
            if proxy is None:
                if self._direct is None:
                    self._direct = urllib3.PoolManager(**self._pool_kw)
                    self._direct.pool_classes_by_scheme = _POOL_CLASSES
                return self._direct
            manager = self._proxied.get(proxy)
            if manager is None:
                manager = urllib3.ProxyManager(proxy, **self._pool_kw)
                manager.pool_classes_by_scheme = _POOL_CLASSES
                self._proxied[proxy] = manager
            return manager

    def _proxy_for(self, url: str) -> str | None:
        parts = urllib.parse.urlsplit(url)
        proxies: Mapping[str, str]
        if self.proxies is not None:
            proxies = self.proxies
        elif self.trust_env:
            proxies = urllib.request.getproxies_environment()
        else:
            return None
        proxy = proxies.get(parts.scheme) or proxies.get("all")
        if not proxy:
            return None
        host = parts.hostname or ""
        bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
        if self.trust_env and bypass(host, proxies):
            return None
        if "://" not in proxy:
            proxy = "http://" + proxy
        return proxy


_default: Session | None = None
_default_lock = threading.Lock()


def default_session() -> Session:
    """The process-wide session `request`, `HttpRequest` and the invoker share (pooled)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Session()
        return _default


def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | str | Mapping[str, Any] | IO[bytes] | None = None,
    json: Any = None,
    timeout: TimeoutArg = 30,
    context: SSLContext | None = None,
) -> Response:
    """One HTTP request with the loaded identities; the body is read before returning.

    Without ``context`` it goes through `default_session()` (connections are pooled across
    calls); with one, through a short-lived `Session` on that context.
    """
    kw: dict[str, Any] = {"headers": headers, "body": body, "json": json, "timeout": timeout}
    if context is None:
        return default_session().request(method, url, **kw)
    with Session(context) as session:
        return session.request(method, url, **kw)


# --------------------------------------------------------------------------- helpers


def encode_body(body: Any, json_value: Any = None) -> tuple[Any, str | None]:
    """(payload urllib3 can send, Content-Type to add or None)."""
    if json_value is not None:
        if body is not None:
            raise TypeError("pass body= or json=, not both")
        return _json.dumps(json_value, separators=(",", ":")).encode(), "application/json"
    if body is None or isinstance(body, bytes):
        return body, None
    if isinstance(body, bytearray | memoryview):
        return bytes(body), None
    if isinstance(body, str):
        return body.encode("utf-8"), "text/plain; charset=utf-8"
    if isinstance(body, Mapping):
        return urllib.parse.urlencode(body, doseq=True).encode(), (
            "application/x-www-form-urlencoded"
        )
    if hasattr(body, "read"):
        return body, None
    raise TypeError(
        f"body must be bytes, str, a mapping (form) or a binary file, not {type(body).__name__}"
    )


def _check_method(method: str) -> str:
    if not isinstance(method, str) or not method.isascii() or not method.isalpha():
        raise InvalidURL(f"{method!r} is not an HTTP method")
    return method.upper()


def _check_url(url: str) -> None:
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidURL(f"{url!r} is not a valid URL ({exc})", url=str(url)) from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidURL(f"{url!r} is not an https:// (or http://) URL", url=url)


def _timeouts(timeout: TimeoutArg) -> tuple[urllib3.Timeout, float | None]:
    """urllib3's Timeout and our deadline for the whole call (None: no total)."""
    if isinstance(timeout, urllib3.Timeout):
        obj = timeout
    elif isinstance(timeout, tuple):
        obj = urllib3.Timeout(connect=timeout[0], read=timeout[1])
    elif timeout is None:
        obj = urllib3.Timeout(connect=None, read=None)
    else:
        obj = urllib3.Timeout(connect=timeout, read=timeout)
    total = obj.total
    deadline = time.monotonic() + total if isinstance(total, int | float) else None
    return obj, deadline


def _check_deadline(deadline: float | None, url: str) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise TLSTimeout(f"{url}: the call took longer than its total timeout")


def _final_url(raw: urllib3.BaseHTTPResponse, url: str) -> str:
    """Where the answer came from: the last redirect's target (urllib3 keeps only the path)."""
    history = raw.retries.history if raw.retries is not None else ()
    for entry in reversed(history):
        if entry.redirect_location:
            return urllib.parse.urljoin(entry.url or url, entry.redirect_location)
    return url


class _HTTPSConnection(urllib3.connection.HTTPSConnection):
    """urllib3's connection, except that each response keeps what its TLS socket
    negotiated (urllib3 lets go of the connection as soon as the body is read)."""

    def getresponse(self) -> Any:
        sock = self.sock
        response: Any = super().getresponse()
        response.tls_info = _tls_info(sock)
        return response


class _HTTPSConnectionPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOL_CLASSES = {"http": urllib3.HTTPConnectionPool, "https": _HTTPSConnectionPool}


def _tls_info(sock: Any) -> TLSInfo | None:
    if sock is None or not hasattr(sock, "client_identity"):
        return None
    cipher = sock.cipher()
    return TLSInfo(
        version=sock.version(),
        cipher=cipher[0] if cipher else None,
        client_identity=sock.client_identity,
        certificate_request=sock.certificate_request,
        selection=sock.selection,
        transcript=tuple(getattr(sock, "transcript", None) or ()),
        session_reused=bool(getattr(sock, "session_reused", False)),
    )


class _translated:
    """Context manager: urllib3's and the socket's errors become tlsengine's."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        if (
            exc is None
            or isinstance(exc, RequestError | TLSTimeout)
            or not isinstance(exc, Exception)
        ):
            return
        if isinstance(exc, TLSEngineError) and not isinstance(exc, OSError):
            return
        raise translate(exc, self.url) from None


def translate(exc: BaseException, url: str) -> BaseException:
    """The error an app should see for ``exc`` raised by urllib3 or the socket under it."""
    tls = _tls_error_in(exc)
    if tls is not None:
        return tls
    if isinstance(exc, MaxRetryError) and exc.reason is not None:
        if isinstance(exc.reason, ResponseError) and "redirect" in str(exc.reason):
            return TooManyRedirects(f"{url}: more redirects than the limit allows", url=url)
        return translate(exc.reason, url)
    if isinstance(exc, Urllib3Timeout | TimeoutError) and not isinstance(exc, NewConnectionError):
        return TLSTimeout(f"{url}: timed out ({_reason(exc)})")
    if isinstance(exc, ProtocolError) and _incomplete(exc):
        return IncompleteBody(
            f"{url}: the connection closed before the whole body arrived; "
            "the response is truncated",
            url=url,
        )
    if _not_http(exc):
        return InvalidResponse(f"{url}: the answer is not valid HTTP ({_reason(exc)})", url=url)
    if isinstance(exc, LocationParseError):
        return InvalidURL(f"{url!r} is not a valid URL ({exc})", url=url)
    if isinstance(exc, ProxyError):
        return ConnectError(f"{url}: the proxy failed ({_reason(exc)})", url=url)
    if isinstance(exc, NewConnectionError):
        conn = getattr(exc, "conn", None)
        where = f"{conn.host}:{conn.port}" if conn is not None else url
        return ConnectError(f"cannot connect to {where}: {_reason(exc)}", url=url)
    if isinstance(exc, NewConnectionError | ProtocolError | EmptyPoolError | OSError):
        return ConnectError(f"{url}: {_reason(exc)}", url=url)
    if isinstance(exc, DecodeError):
        return InvalidResponse(f"{url}: cannot decode the body ({_reason(exc)})", url=url)
    if isinstance(exc, HTTPError):
        return InvalidResponse(f"{url}: {_reason(exc)}", url=url)
    if isinstance(exc, ValueError):
        # The caller's URL was checked before urlopen; what is left comes from the server,
        # e.g. a redirect Location that urllib.parse refuses ("Invalid IPv6 URL").
        return InvalidResponse(f"{url}: the server's answer is unusable ({exc})", url=url)
    return exc


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [a for a in getattr(e, "args", ()) if isinstance(a, BaseException)]
        for attr in ("reason", "original_error", "__cause__", "__context__"):
            inner = getattr(e, attr, None)
            if isinstance(inner, BaseException):
                todo.append(inner)


def _tls_error_in(exc: BaseException) -> TLSEngineError | None:
    for e in _chain(exc):
        if isinstance(e, TLSEngineError) and not isinstance(e, RequestError):
            return e
    return None


def _incomplete(exc: BaseException) -> bool:
    return any(isinstance(e, IncompleteRead | http.client.IncompleteRead) for e in _chain(exc))


def _not_http(exc: BaseException) -> bool:
    """A malformed answer (status line, header, framing), as opposed to a lost connection."""
    for e in _chain(exc):
        if isinstance(e, http.client.RemoteDisconnected | http.client.IncompleteRead):
            return False
        if isinstance(e, http.client.HTTPException | InvalidHeader | HeaderParsingError):
            return True
    return False


def _reason(exc: BaseException) -> str:
    """The innermost readable message (urllib3 nests its wrappers two or three deep)."""
    inner = exc
    for e in _chain(exc):
        inner = e
    text = str(inner) or type(inner).__name__
    if isinstance(inner, OSError) and inner.strerror:
        text = inner.strerror
    return text
