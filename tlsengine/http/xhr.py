"""`HttpRequest`: the XMLHttpRequest model, in Python names, on `Session`.

Apps of the kind this engine serves are written against XHR: ``open``, headers, ``send``,
then react to ``ready_state`` changes. The states are XHR's (0 UNSENT, 1 OPENED,
2 HEADERS_RECEIVED, 3 LOADING, 4 DONE). ``on_ready_state_change(request)`` is called at
each change: OPENED inside ``open`` (as XHR does); then, with ``async_=True`` (the
default), ``send`` returns at once and the later changes are reported **from a worker
thread**; with ``async_=False`` everything happens inside ``send``, on the caller's
thread. A failure never raises out of the worker: the request ends in DONE with
``status`` 0 and ``error`` holding the exception (`ClientCertificateRejected`,
`CertificateVerificationError`, `TLSTimeout`, a `RequestError`...). An exception raised
by the callback itself is logged and swallowed.
"""

from __future__ import annotations

import json as _json
import logging
import threading
from collections.abc import Callable
from typing import Any

from ..errors import TLSEngineError
from .client import Response, Session, default_session, encode_body, is_json_type
from .errors import Aborted, InvalidJSON, InvalidStateError, InvalidURL

__all__ = ["HttpRequest"]

log = logging.getLogger(__name__)

UNSENT, OPENED, HEADERS_RECEIVED, LOADING, DONE = range(5)


class HttpRequest:
    """One XHR-style request; reusable by calling ``open`` again.

    ``timeout`` (seconds; None: 30 s for connecting and each read, no total limit) caps
    the whole call when set. ``response_type``: ``""`` (``response`` is the JSON value when
    the Content-Type says JSON, else the text), ``"text"``, ``"json"`` or ``"bytes"``.
    """

    UNSENT = UNSENT
    OPENED = OPENED
    HEADERS_RECEIVED = HEADERS_RECEIVED
    LOADING = LOADING
    DONE = DONE

    def __init__(self, session: Session | None = None) -> None:
        self.on_ready_state_change: Callable[[HttpRequest], object] | None = None
        self.timeout: float | None = None
        self.response_type = ""
        self._session = session
        self._lock = threading.RLock()
        self._done = threading.Event()
        self._done.set()
        self._token: object = object()
        self._reset()
        self.ready_state = UNSENT

    def _reset(self) -> None:
        self.status = 0
        self.status_text = ""
        self.error: BaseException | None = None
        self._method = "GET"
        self._url = ""
        self._async = True
        self._headers: dict[str, str] = {}
        self._sent = False
        self._response: Response | None = None
        self._body = b""

    # ------------------------------------------------------------------ requesting

    def open(self, method: str, url: str, async_: bool = True) -> None:
        """Start a new request (aborting one in flight, as XHR does)."""
        if not isinstance(method, str) or not method.isascii() or not method.isalpha():
            raise InvalidURL(f"{method!r} is not an HTTP method")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise InvalidURL(f"{url!r} is not an https:// (or http://) URL", url=str(url))
        with self._lock:
            self._token = object()  # a send still running stops reporting
            self._reset()
            self._method, self._url, self._async = method.upper(), url, bool(async_)
        self._change(OPENED, self._token)

    def set_request_header(self, name: str, value: str) -> None:
        with self._lock:
            if self.ready_state != OPENED or self._sent:
                raise InvalidStateError("set_request_header() needs open() first and no send()")
            if not name or not name.isascii() or any(c in name for c in " :\r\n"):
                raise InvalidURL(f"{name!r} is not an HTTP header name")
            if "\r" in value or "\n" in value:
                raise InvalidURL(f"the value of header {name!r} contains a line break")
            for existing in self._headers:
                if existing.lower() == name.lower():  # XHR combines repeated headers
                    self._headers[existing] += f", {value}"
                    return
            self._headers[name] = value

    def send(self, data: Any = None) -> None:
        """Send ``data``: bytes, str, a dict (form-encoded, or JSON when the Content-Type
        header says JSON), or any other JSON value (a list, a number...)."""
        with self._lock:
            if self.ready_state != OPENED or self._sent:
                raise InvalidStateError("send() needs open() first, and only once per open()")
            self._sent = True
            token = self._token
            body, json_value = self._payload(data)
            self._done.clear()
        if self._async:
            worker = threading.Thread(
                target=self._run, args=(token, body, json_value), daemon=True,
                name="tlsengine-HttpRequest",
            )  # fmt: skip
            worker.start()
        else:
            self._run(token, body, json_value)

    def abort(self) -> None:
        """Stop the request: it ends in DONE with ``error`` `Aborted`, then goes back to
        UNSENT (as XHR's abort); events of the aborted send are not reported any more."""
        with self._lock:
            active = self._sent and self.ready_state in (OPENED, HEADERS_RECEIVED, LOADING)
            self._token = token = object()
            response = self._response
            if active:
                self.error = Aborted(f"{self._url}: aborted", url=self._url)
                self.status, self.status_text = 0, ""
        if response is not None:
            try:
                response.raw.shutdown()  # wakes a worker blocked in a read
            except Exception:  # noqa: BLE001 - best effort; the worker stops reporting anyway
                pass
        if active:
            self._change(DONE, token)
        with self._lock:
            self.ready_state = UNSENT
            self._sent = False
        self._done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the request is DONE (or aborted); False if ``timeout`` passed first."""
        return self._done.wait(timeout)

    # ------------------------------------------------------------------ the answer

    @property
    def response_text(self) -> str:
        response = self._response
        if response is None or self.ready_state < LOADING:
            return ""
        encoding = response.encoding
        return self._body.decode(encoding, errors="replace")

    @property
    def response(self) -> Any:
        """Per ``response_type``; None until DONE, or when JSON was expected and the body
        is not JSON (``error`` then says why)."""
        if self.ready_state != DONE or self._response is None:
            return None
        kind = self.response_type
        if kind == "bytes":
            return self._body
        json_wanted = kind == "json" or (
            kind == "" and is_json_type(self._response.headers.get("content-type", ""))
        )
        if not json_wanted:
            return self.response_text
        try:
            return _json.loads(self._body)
        except (ValueError, RecursionError) as exc:
            if kind == "json" and self.error is None:
                self.error = InvalidJSON(f"{self._url}: the body is not JSON ({exc})")
            return None if kind == "json" else self.response_text

    def get_response_header(self, name: str) -> str | None:
        response = self._response
        if response is None or self.ready_state < HEADERS_RECEIVED:
            return None
        values = response.raw.headers.getlist(name)
        return ", ".join(values) if values else None

    def get_all_response_headers(self) -> str:
        """``name: value`` lines (names lower-case, CRLF-terminated), as XHR returns them."""
        response = self._response
        if response is None or self.ready_state < HEADERS_RECEIVED:
            return ""
        return "".join(f"{k.lower()}: {v}\r\n" for k, v in response.raw.headers.iteritems())

    @property
    def tls(self) -> Any:
        """What the connection negotiated (`TLSInfo`: version, identity sent, selection)."""
        return self._response.tls if self._response is not None else None

    # ------------------------------------------------------------------ internals

    def _payload(self, data: Any) -> tuple[Any, Any]:
        types = (v for k, v in self._headers.items() if k.lower() == "content-type")
        content_type = next(types, "")
        if data is None or isinstance(data, bytes | bytearray | memoryview | str):
            return data, None
        if isinstance(data, dict) and not is_json_type(content_type):
            return data, None
        try:
            _json.dumps(data)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"send() cannot encode {type(data).__name__}: {exc}") from None
        return None, data

    def _run(self, token: object, body: Any, json_value: Any) -> None:
        try:
            self._exchange(token, body, json_value)
        except BaseException as exc:  # noqa: BLE001 - nothing leaves the worker
            with self._lock:
                if token is not self._token:
                    return
                self.error = exc if isinstance(exc, Exception) else Aborted(str(exc))
                self.status, self.status_text = 0, ""
                if not isinstance(exc, TLSEngineError | Aborted):
                    log.debug("HttpRequest %s failed", self._url, exc_info=exc)
            self._change(DONE, token)
        finally:
            if token is self._token:
                self._done.set()

    def _exchange(self, token: object, body: Any, json_value: Any) -> None:
        session = self._session or default_session()
        payload, content_type = encode_body(body, json_value)
        headers = dict(self._headers)
        if content_type and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = content_type
        timeout: Any = 30 if self.timeout is None else _total(self.timeout)
        response = session.request(
            self._method, self._url, headers=headers, body=payload, timeout=timeout, stream=True
        )
        with self._lock:
            if token is not self._token:
                response.close()
                return
            self._response = response
            self.status, self.status_text = response.status, response.reason
        self._change(HEADERS_RECEIVED, token)
        parts: list[bytes] = []
        for chunk in response.iter_content():
            if token is not self._token:
                return
            parts.append(chunk)
            if len(parts) == 1:
                self._body = chunk
                self._change(LOADING, token)
        with self._lock:
            if token is not self._token:
                return
            self._body = b"".join(parts)
            if self.ready_state < LOADING:  # an empty body: XHR still passes through LOADING
                self.ready_state = LOADING
        self._change(DONE, token)

    def _change(self, state: int, token: object) -> None:
        with self._lock:
            if token is not self._token:
                return
            self.ready_state = state
        callback = self.on_ready_state_change
        if callback is None:
            return
        try:
            callback(self)
        except Exception:  # noqa: BLE001 - an app bug must not kill the worker
            log.exception("HttpRequest.on_ready_state_change raised")


def _total(seconds: float) -> Any:
    import urllib3

    return urllib3.Timeout(connect=seconds, read=seconds, total=seconds)
