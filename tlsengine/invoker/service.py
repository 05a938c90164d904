"""`invoke_service` / `invoke_service_async`: the service invoker apps of this kind call.

One call in, one dict out, with the loaded client identities used automatically (the
calls go through `tlsengine.http`, so a server that asks for a certificate gets the right
one). Success: ``opstatus`` 0, ``httpStatusCode`` and the JSON body's keys. Failure of any
kind (TLS rejection, server verification, timeout, network, HTTP error, non-JSON body):
``opstatus`` and ``errcode`` from `ErrorCode`, and ``errmsg`` a sentence the user can act
on. It never raises for those; only programming errors (a wrong argument type) raise.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import enum
import logging
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import (
    CertificateVerificationError,
    ClientCertificateRejected,
    TLSEngineError,
    TLSError,
    TLSTimeout,
)
from ..http.client import Response, Session, default_session, is_json_type
from ..http.errors import (
    ConnectError,
    IncompleteBody,
    InvalidJSON,
    InvalidResponse,
    InvalidURL,
    RequestError,
    TooManyRedirects,
)

__all__ = ["ErrorCode", "invoke_service", "invoke_service_async", "MAX_WORKERS"]

log = logging.getLogger(__name__)

Result = dict[str, Any]
Callback = Callable[[Result], object]

#: Threads `invoke_service_async` runs calls on; more calls wait their turn.
MAX_WORKERS = 8
DEFAULT_TIMEOUT = 30.0


class ErrorCode(enum.IntEnum):
    """``errcode`` (and ``opstatus``) of a failed call; the README has the same table."""

    UNKNOWN = 1000
    NETWORK = 1011  # no connection, connection lost, proxy failure
    HTTP_ERROR = 1012  # the server answered 4xx or 5xx
    INVALID_JSON = 1013  # the body is not JSON
    TIMEOUT = 1014
    INVALID_REQUEST = 1015  # bad URL, method or params (the caller's input)
    TRUNCATED = 1016  # the body ended before its declared length
    INVALID_RESPONSE = 1017  # the answer is not valid HTTP (or its encoding is broken)
    TOO_MANY_REDIRECTS = 1018
    CLIENT_CERT_REJECTED = 1020  # the server refused our client certificate (or none)
    SERVER_CERT_INVALID = 1021  # the server's certificate failed verification
    TLS_FAILURE = 1022  # any other TLS failure


def invoke_service(
    url: str,
    params: Mapping[str, Any] | None = None,
    *,
    method: str = "POST",
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
    session: Session | None = None,
    as_json: bool | None = None,
) -> Result:
    """Call ``url`` with ``params``; the result dict as the module docstring says.

    ``params`` go form-encoded in the body (GET, HEAD, DELETE: in the query string); as JSON
    when ``as_json=True`` or when ``headers`` set ``Content-Type: application/json``.
    ``timeout`` (seconds, default 30) bounds connect and each read. ``session``: a
    `tlsengine.http.Session` (default: the shared process-wide one).
    """
    try:
        return _result(_call(url, params, method, headers, timeout, session, as_json))
    except Exception as exc:  # noqa: BLE001 - the contract: every failure becomes a dict
        return failure(exc)


def _call(
    url: str,
    params: Mapping[str, Any] | None,
    method: str,
    headers: Mapping[str, str] | None,
    timeout: float | None,
    session: Session | None,
    as_json: bool | None,
) -> Response:
    if params is not None and not isinstance(params, Mapping):
        raise InvalidURL(f"params must be a mapping, not {type(params).__name__}", url=url)
    method = method.upper() if isinstance(method, str) else method
    headers = dict(headers or {})
    headers.setdefault("Accept", "application/json")
    if as_json is None:
        as_json = any(k.lower() == "content-type" and is_json_type(v) for k, v in headers.items())
    body: Any = None
    json_value: Any = None
    if params and method in ("GET", "HEAD", "DELETE"):
        split = urllib.parse.urlsplit(url)
        query = urllib.parse.urlencode(params, doseq=True)
        joined = f"{split.query}&{query}" if split.query else query
        url = urllib.parse.urlunsplit(split._replace(query=joined))
    elif as_json:
        json_value = dict(params or {})
    elif params is not None:
        body = params
    return (session or default_session()).request(
        method,
        url,
        headers=headers,
        body=body,
        json=json_value,
        timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
    )


def _result(response: Response) -> Result:
    status = response.status
    try:
        document = response.json()
    except InvalidJSON:
        if status >= 400:
            return _http_error(response, {})
        kind = response.content_type or "no content type"
        return _fail(
            ErrorCode.INVALID_JSON,
            f"{response.url} answered HTTP {status} with a body that is not JSON ({kind})",
            status,
        )
    except TLSEngineError as exc:  # the body read failed (truncation, timeout, ...)
        return failure(exc, status)
    body = document if isinstance(document, dict) else {"result": document}
    if status >= 400:
        return _http_error(response, body)
    opstatus = body.get("opstatus")
    opstatus = opstatus if isinstance(opstatus, int) else 0
    return {**body, "opstatus": opstatus, "httpStatusCode": status}


def _http_error(response: Response, body: dict[str, Any]) -> Result:
    message = f"{response.url} answered HTTP {response.status} {response.reason}".rstrip()
    message += _identity_note(response)
    return {**body, **_fail(ErrorCode.HTTP_ERROR, message, response.status)}


_REFUSALS = (400, 403, 495, 496)  # what servers that check certificates in HTTP answer


def _identity_note(response: Response) -> str:
    """Why a server that checks client certificates in HTTP (nginx answers 400) may have
    refused ours: the identity we sent, or that none fitted, with the selection's notes."""
    tls = response.tls
    if tls is None or tls.certificate_request is None or response.status not in _REFUSALS:
        return ""
    if tls.client_identity is None:
        return "; the server asked for a client certificate and none of the loaded ones fitted"
    ident = tls.client_identity
    notes: list[str] = []
    for verdict in getattr(tls.selection, "verdicts", ()) or ():
        if verdict[0] == ident:
            notes = list(verdict[2])
    text = f"; client certificate sent: {ident.alias or ident.subject}"
    if notes:
        text += f" ({', '.join(notes)}"
        if "expired" in notes:
            text += f" on {ident.not_after:%Y-%m-%d}"
        text += ")"
    return text


def failure(exc: BaseException, status: int = 0) -> Result:
    """The failure dict for an exception raised by a call."""
    code, message = _classify(exc)
    return _fail(code, message, status)


def _fail(code: ErrorCode, message: str, status: int) -> Result:
    code_ = int(code)
    return {"opstatus": code_, "httpStatusCode": status, "errcode": code_, "errmsg": message}


def _classify(exc: BaseException) -> tuple[ErrorCode, str]:
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    table: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], ErrorCode], ...] = (
        (ClientCertificateRejected, ErrorCode.CLIENT_CERT_REJECTED),
        (CertificateVerificationError, ErrorCode.SERVER_CERT_INVALID),
        ((TLSTimeout, TimeoutError), ErrorCode.TIMEOUT),
        (IncompleteBody, ErrorCode.TRUNCATED),
        (TooManyRedirects, ErrorCode.TOO_MANY_REDIRECTS),
        ((InvalidResponse, InvalidJSON), ErrorCode.INVALID_RESPONSE),
        (ConnectError, ErrorCode.NETWORK),
        ((InvalidURL, TypeError, ValueError), ErrorCode.INVALID_REQUEST),
        (TLSError, ErrorCode.TLS_FAILURE),
        (RequestError, ErrorCode.INVALID_RESPONSE),
        (OSError, ErrorCode.NETWORK),
    )
    for kinds, code in table:
        if isinstance(exc, kinds):
            if code is ErrorCode.CLIENT_CERT_REJECTED:
                return code, str(exc)  # the selection's explanation follows the first line
            return code, first
    log.exception("invoke_service: unexpected error", exc_info=exc)
    return ErrorCode.UNKNOWN, f"{type(exc).__name__}: {first}"


# --------------------------------------------------------------------------- async


_executor: concurrent.futures.ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _pool() -> concurrent.futures.ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=MAX_WORKERS, thread_name_prefix="tlsengine-invoker"
            )
            atexit.register(_shutdown)
        return _executor


def _shutdown() -> None:
    """At exit, if the pool is still up: wait for the calls already submitted (each
    bounded by its timeout), so no callback is lost and no thread is left behind."""
    global _executor
    with _executor_lock:
        executor, _executor = _executor, None
    if executor is not None:
        executor.shutdown(wait=True)


def invoke_service_async(
    url: str,
    params: Mapping[str, Any] | None = None,
    callback: Callback | None = None,
    **kw: Any,
) -> concurrent.futures.Future[Result]:
    """`invoke_service` on a bounded thread pool (`MAX_WORKERS`).

    The Future's result is the dict; ``callback(result)`` runs once, on the worker thread,
    before the Future completes. An exception in the callback is logged, never raised
    into the pool or the Future.
    """
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable(result_dict)")

    def run() -> Result:
        result = invoke_service(url, params, **kw)
        if callback is not None:
            try:
                callback(result)
            except Exception:  # noqa: BLE001 - a callback bug must not poison the pool
                log.exception("invoke_service_async: the callback raised")
        return result

    return _pool().submit(run)
