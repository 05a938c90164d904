"""`tlsengine get`: one HTTPS request with the loaded identities, body to stdout.

Speaks minimal HTTP/1.1 through h11 (one request, ``Connection: close``) until the HTTP
layer lands; the point is to show which identity a real server got.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.parse
from dataclasses import dataclass
from typing import Any

import h11

from ..errors import TLSEngineError
from .common import (
    add_identity_options,
    add_version_options,
    fail,
    make_context,
    network_failure,
    next_http_event,
    offered_versions,
)
from .summary import RequestLog, request_lines, short_reason


def add_parser(sub: Any) -> None:
    p = sub.add_parser("get", help="fetch an HTTPS URL with client-certificate authentication")
    p.add_argument("url", metavar="URL")
    add_identity_options(p)
    trust = p.add_mutually_exclusive_group()
    trust.add_argument("--cafile", metavar="F", help="PEM roots for the server's chain")
    trust.add_argument("--insecure", action="store_true", help="skip server verification")
    p.add_argument("-X", dest="method", default=None, metavar="METHOD")
    p.add_argument("-d", dest="data", default=None, metavar="DATA", help="request body")
    p.add_argument("-H", dest="headers", action="append", default=[], metavar="'K: V'")
    add_version_options(p)
    p.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")
    p.add_argument("-v", dest="verbose", action="store_true", help="handshake summary to stderr")
    p.add_argument("--trace", action="store_true", help="every handshake message to stderr")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    offered = offered_versions(args)
    log = RequestLog()  # every CertificateRequest, post-handshake ones included
    try:
        request = _request_from(args)
        ctx = make_context(args, trace=args.trace, select_identity=log)
    except (TLSEngineError, ValueError) as exc:
        return fail(exc)
    try:
        tls = ctx.connect((request.host, request.port), timeout=args.timeout)
    except TLSEngineError as exc:
        if args.verbose and log.answers:  # a TLS 1.2 server refuses within the handshake
            for line in request_lines(log.answers):
                print(f"* {line}", file=sys.stderr)
        return fail(exc, offered)
    except (OSError, ValueError) as exc:
        return network_failure(request.host, request.port, exc)
    with tls:
        if args.verbose or args.trace:
            cipher = tls.cipher()
            print(f"* {tls.version()} {cipher[0] if cipher else ''}", file=sys.stderr)
        try:
            status, body = _exchange(tls, request)
        except (TLSEngineError, OSError, h11.ProtocolError) as exc:
            _summary(tls, log, verbose=args.verbose, trace=args.trace)
            return fail(exc, offered)
        _summary(tls, log, verbose=args.verbose, trace=args.trace)
    sys.stdout.buffer.write(body)
    sys.stdout.flush()
    if args.verbose:
        print(f"* HTTP {status}", file=sys.stderr)
    _refusal_note(log, status)
    return 0


def _refusal_note(log: RequestLog, status: int) -> None:
    """One line when the server asked and got no certificate, or refused by HTTP status.

    Servers such as nginx do not end the handshake when nothing fits; they answer HTTP 400
    "No required SSL certificate was sent", which alone would look like a page.
    """
    unanswered = log.unanswered()
    if unanswered is not None:
        reason = short_reason(unanswered.info, unanswered.verdicts)
        print(
            f"tlsengine: note: HTTP {status}: the server asked for a client certificate and "
            f"none was sent: {reason}; -v for the table",
            file=sys.stderr,
        )
    elif log.answers and 400 <= status < 500:
        answer = log.answers[-1]
        print(
            f"tlsengine: note: HTTP {status} after {short_reason(answer.info, answer.verdicts)}"
            "; the server may not accept that identity; -v for the table",
            file=sys.stderr,
        )


@dataclass(frozen=True)
class _Request:
    host: str  # for the socket and SNI (IDNA is the socket layer's job)
    port: int
    method: str
    target: bytes  # percent-encoded ASCII
    headers: list[tuple[bytes, bytes]]
    body: bytes


def _request_from(args: argparse.Namespace) -> _Request:
    """Everything the request needs, checked before any connection (ValueError if bad)."""
    try:
        url = urllib.parse.urlsplit(args.url)
        port = url.port or 443
    except ValueError as exc:
        raise ValueError(f"{args.url!r} is not a valid URL ({exc})") from None
    if url.scheme != "https" or not url.hostname:
        raise ValueError(f"{args.url!r} is not an https:// URL")
    host = url.hostname
    path = urllib.parse.quote(url.path or "/", safe="/%:@!$&'()*+,;=~")
    query = urllib.parse.quote(url.query, safe="/?%:@!$&'()*+,;=~")
    target = path + (f"?{query}" if query else "")
    try:
        authority = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"{host!r} is not a valid host name") from None
    if ":" in authority:
        authority = f"[{authority}]"
    if url.port:
        authority += f":{url.port}"
    body = os.fsencode(args.data) if args.data is not None else b""
    method = args.method or ("POST" if args.data is not None else "GET")
    headers = [(b"Host", authority.encode()), (b"User-Agent", b"tlsengine")]
    headers.append((b"Connection", b"close"))
    if body or method in ("POST", "PUT", "PATCH"):
        headers.append((b"Content-Length", str(len(body)).encode()))
    headers += [_header(h) for h in args.headers]
    if not method.isascii() or not method.isalpha():
        raise ValueError(f"-X {method!r} is not an HTTP method")
    return _Request(host, port, method, target.encode("ascii"), headers, body)


def _header(text: str) -> tuple[bytes, bytes]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        # Not echoed: a header such as Authorization often carries a credential.
        raise ValueError("an -H header is not of the form 'Name: value' (not shown)")
    try:
        return name.strip().encode("ascii"), value.strip().encode("latin-1")
    except UnicodeError:
        raise ValueError(
            f"header {name.strip()!r} has characters HTTP/1.1 cannot carry; "
            "percent-encode or base64 the value"
        ) from None


def _exchange(tls: Any, request: _Request) -> tuple[int, bytes]:
    conn = h11.Connection(h11.CLIENT)
    head = h11.Request(method=request.method, target=request.target, headers=request.headers)
    tls.sendall(conn.send(head))
    if request.body:
        tls.sendall(conn.send(h11.Data(data=request.body)))
    tls.sendall(conn.send(h11.EndOfMessage()))
    status, chunks = 0, []
    while True:
        event = next_http_event(conn, tls)
        if isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.Data):
            chunks.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            return status, b"".join(chunks)


def _summary(tls: Any, log: RequestLog, *, verbose: bool, trace: bool) -> None:
    """Every CertificateRequest of the connection and our answer (-v), then the trace."""
    err = sys.stderr
    if verbose or trace:
        for line in request_lines(log.answers):
            print(f"* {line}", file=err)
    if trace:
        for entry in tls.transcript:
            print(f"> {entry}", file=err)
