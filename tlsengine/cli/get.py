"""`tlsengine get`: one HTTPS request with the loaded identities, body to stdout.

Speaks minimal HTTP/1.1 through h11 (one request, ``Connection: close``) until the HTTP
layer lands; the point is to show which identity a real server got.
"""

from __future__ import annotations

import argparse
import sys
import urllib.parse
from typing import Any

import h11

from ..errors import TLSEngineError
from .common import add_identity_options, add_version_options, fail, make_context


def add_parser(sub: Any) -> None:
    p = sub.add_parser("get", help="fetch an HTTPS URL with client-certificate authentication")
    p.add_argument("url", metavar="URL")
    add_identity_options(p)
    p.add_argument("--cafile", metavar="F", help="PEM roots for the server's chain")
    p.add_argument("--insecure", action="store_true", help="skip server verification")
    p.add_argument("-X", dest="method", default=None, metavar="METHOD")
    p.add_argument("-d", dest="data", default=None, metavar="DATA", help="request body")
    p.add_argument("-H", dest="headers", action="append", default=[], metavar="'K: V'")
    add_version_options(p)
    p.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")
    p.add_argument("-v", dest="verbose", action="store_true", help="handshake summary to stderr")
    p.add_argument("--trace", action="store_true", help="every handshake message to stderr")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    url = urllib.parse.urlsplit(args.url)
    if url.scheme != "https" or not url.hostname:
        print(f"tlsengine: error: {args.url!r} is not an https:// URL", file=sys.stderr)
        return 2
    try:
        headers = [_header(h) for h in args.headers]
        ctx = make_context(args, trace=args.trace)
        tls = ctx.connect((url.hostname, url.port or 443), timeout=args.timeout)
    except (TLSEngineError, OSError, ValueError) as exc:
        return fail(exc)
    with tls:
        if args.verbose or args.trace:
            _summary(tls, trace=args.trace)
        try:
            status, body = _exchange(tls, url, args, headers)
        except (TLSEngineError, OSError, h11.ProtocolError) as exc:
            return fail(exc)
    sys.stdout.buffer.write(body)
    sys.stdout.flush()
    if args.verbose:
        print(f"* HTTP {status}", file=sys.stderr)
    return 0


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise ValueError(f"header {text!r} is not of the form 'Name: value'")
    return name.strip(), value.strip()


def _exchange(
    tls: Any, url: urllib.parse.SplitResult, args: argparse.Namespace, extra: list[tuple[str, str]]
) -> tuple[int, bytes]:
    body = args.data.encode() if args.data is not None else b""
    method = args.method or ("POST" if args.data is not None else "GET")
    target = (url.path or "/") + (f"?{url.query}" if url.query else "")
    host = url.netloc.rpartition("@")[2]
    headers = [("Host", host), ("User-Agent", "tlsengine"), ("Connection", "close")]
    if body or method in ("POST", "PUT", "PATCH"):
        headers.append(("Content-Length", str(len(body))))
    headers += extra
    conn = h11.Connection(h11.CLIENT)
    tls.sendall(conn.send(h11.Request(method=method, target=target, headers=headers)))
    if body:
        tls.sendall(conn.send(h11.Data(data=body)))
    tls.sendall(conn.send(h11.EndOfMessage()))
    status, chunks = 0, []
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(tls.recv(65536))
        elif isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.Data):
            chunks.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            return status, b"".join(chunks)


def _summary(tls: Any, *, trace: bool) -> None:
    err = sys.stderr
    cipher = tls.cipher()
    print(f"* {tls.version()} {cipher[0] if cipher else ''}", file=err)
    if tls.certificate_request is None:
        print("* server did not ask for a client certificate", file=err)
    else:
        sent = tls.client_identity.alias if tls.client_identity else "empty Certificate"
        print(f"* server asked for a client certificate; sent: {sent}", file=err)
        if tls.selection is not None:
            for line in tls.selection.explain().splitlines():
                print(f"*   {line}", file=err)
    if trace:
        for entry in tls.transcript:
            print(f"> {entry}", file=err)
