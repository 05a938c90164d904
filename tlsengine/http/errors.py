"""Failures of the app-facing HTTP layer that are not TLS failures.

TLS failures keep their own types (`ClientCertificateRejected`, `CertificateVerificationError`,
`TLSTimeout`, ...); everything else an HTTP call can hit is a `RequestError`, so one
``except tlsengine.TLSEngineError`` still catches every failure of a call.
"""

from __future__ import annotations

from ..errors import TLSEngineError

__all__ = [
    "RequestError",
    "InvalidURL",
    "ConnectError",
    "IncompleteBody",
    "TooManyRedirects",
    "HTTPStatusError",
    "InvalidJSON",
    "ResponseTooLarge",
    "InvalidResponse",
    "InvalidStateError",
    "Aborted",
]


class RequestError(TLSEngineError):
    """An HTTP request failed outside TLS; ``url`` is the one that failed, when known."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class InvalidURL(RequestError, ValueError):
    """The URL cannot be requested (no scheme or host, bad port, unsupported scheme)."""


class ConnectError(RequestError, ConnectionError):
    """No connection could be made, or it was lost before an answer arrived."""


class IncompleteBody(RequestError):
    """The body ended before its declared length: a truncation, never a short success."""


class InvalidResponse(RequestError):
    """The server's answer is not valid HTTP/1.1: status line, headers, framing, or a
    body that does not decode as its Content-Encoding says."""


class TooManyRedirects(RequestError):
    """More redirects than the limit allows."""


class HTTPStatusError(RequestError):
    """``raise_for_status()`` on a 4xx or 5xx answer; ``status`` holds the code."""

    def __init__(self, message: str, *, url: str | None = None, status: int = 0) -> None:
        super().__init__(message, url=url)
        self.status = status


class InvalidJSON(RequestError, ValueError):
    """``json()`` on a body that is not JSON (a ValueError too, as ``requests`` raises)."""


class ResponseTooLarge(RequestError):
    """The body is larger than the limit the caller set."""


class InvalidStateError(RequestError):
    """An `HttpRequest` method called in a state that does not allow it (as XHR's
    InvalidStateError): ``set_request_header`` before ``open`` or after ``send``, ..."""


class Aborted(RequestError):
    """The request was aborted by ``HttpRequest.abort()``."""
