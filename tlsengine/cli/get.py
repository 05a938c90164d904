"""`tlsengine get`: one HTTPS request with the given identities, body to stdout (or a file).

Runs on the HTTP layer (`tlsengine.http.Session`: urllib3 under tlsengine's TLS), so
redirects (``-L``), decompression and proxies (``HTTPS_PROXY``/``NO_PROXY``) behave as
in the library. ``-v`` shows which identity the server got and every candidate's verdict.
"""

from __future__ import annotations

import argparse
import os
import ssl
import sys
import time
from typing import IO, Any

from ..errors import TLSEngineError
from .common import (
    add_identity_options,
    add_version_options,
    fail,
    load_identities,
    offered_versions,
)
from .summary import RequestLog, request_lines, short_reason

#: curl's exit status for ``--fail`` on an HTTP error
FAIL_STATUS = 22


def add_parser(sub: Any) -> None:
    p = sub.add_parser("get", help="fetch an HTTPS URL with client-certificate authentication")
    p.add_argument("url", metavar="URL")
    add_identity_options(p)
    trust = p.add_mutually_exclusive_group()
    trust.add_argument("--cafile", metavar="F", help="PEM roots for the server's chain")
    trust.add_argument("--insecure", action="store_true", help="skip server verification")
    p.add_argument("-X", dest="method", default=None, metavar="METHOD")
    p.add_argument(
        "-d", dest="data", default=None, metavar="DATA", help="request body (@FILE reads a file)"
    )
    p.add_argument("-H", dest="headers", action="append", default=[], metavar="'K: V'")
    p.add_argument("-o", dest="output", metavar="FILE", help="write the body to FILE (streamed)")
    p.add_argument("-L", dest="follow", action="store_true", help="follow redirects")
    p.add_argument("-i", dest="include", action="store_true", help="status and headers first")
    p.add_argument("--fail", action="store_true", help=f"exit {FAIL_STATUS} on HTTP 400 and above")
    add_version_options(p)
    p.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")
    p.add_argument("-v", dest="verbose", action="store_true", help="handshake summary to stderr")
    p.add_argument("--trace", action="store_true", help="every handshake message to stderr")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..http.client import Session

    offered = offered_versions(args)
    log = RequestLog()  # every CertificateRequest, post-handshake ones included
    try:
        method, headers, body = _request_from(args)
        context = _context(args, log)
    except (TLSEngineError, ValueError, OSError) as exc:
        return fail(exc)
    with Session(context, max_redirects=10 if args.follow else 0, retries=0) as session:
        try:
            response = session.request(
                method,
                args.url,
                headers=headers,
                body=body,
                timeout=args.timeout,
                allow_redirects=args.follow,
                stream=True,
            )
        except (TLSEngineError, ValueError) as exc:
            _summary(None, log, args)  # a TLS 1.2 server refuses inside the handshake
            return fail(exc, offered)
        with response:
            try:
                _write(response, args)
            except BrokenPipeError:
                raise  # stdout's reader left (`| head`): main() ends quietly
            except (TLSEngineError, OSError) as exc:
                _summary(response.tls, log, args)
                return fail(exc, offered)
            _summary(response.tls, log, args)
        if args.verbose:
            print(f"* HTTP {response.status}", file=sys.stderr)
    _refusal_note(log, response.status)
    if args.fail and response.status >= 400:
        print(f"tlsengine: error: HTTP {response.status} {response.reason}", file=sys.stderr)
        return FAIL_STATUS
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


def _context(args: argparse.Namespace, log: RequestLog) -> Any:
    """A `tlsengine.SSLContext` from the options: --pkcs12 identities only (none by
    default), --cafile or the system roots, --insecure, --tls1.2/--tls1.3, --trace; ``log``
    records every CertificateRequest (it changes no choice)."""
    from ..socket.sslcontext import SSLContext

    context = SSLContext(identities=load_identities(args), trace=args.trace, select_identity=log)
    if args.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        _quiet_insecure_warning()
    elif args.cafile:
        context.load_verify_locations(cafile=args.cafile)
    if args.version:
        version = ssl.TLSVersion.TLSv1_2 if args.version == "TLSv1.2" else ssl.TLSVersion.TLSv1_3
        context.minimum_version = context.maximum_version = version
    return context


def _quiet_insecure_warning() -> None:
    """--insecure is the user's explicit choice (curl -k prints nothing either); urllib3's
    InsecureRequestWarning would add two lines naming one of its source files."""
    import warnings

    from urllib3.exceptions import InsecureRequestWarning

    warnings.simplefilter("ignore", InsecureRequestWarning)


def _request_from(args: argparse.Namespace) -> tuple[str, dict[str, str], bytes | None]:
    """(method, headers, body), checked before any connection (ValueError if bad)."""
    from ..http.client import _check_url

    url = args.url
    if not url.startswith("https://"):
        raise ValueError(f"{url!r} is not an https:// URL")
    _check_url(url)
    body = _data(args.data)
    method = args.method or ("POST" if body is not None else "GET")
    if not method.isascii() or not method.isalpha():
        raise ValueError(f"-X {method!r} is not an HTTP method")
    headers = {"Connection": "close"}  # one request: no idle connection to keep
    for text in args.headers:
        name, value = _header(text)
        headers[name] = value
    return method.upper(), headers, body


def _data(data: str | None) -> bytes | None:
    if data is None:
        return None
    if data.startswith("@"):
        path = data[1:]
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except OSError as exc:
            raise ValueError(f"-d @{path}: cannot read the file ({exc.strerror or exc})") from None
    return os.fsencode(data)


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not name or not name.isascii() or any(c in name for c in " \t\r\n"):
        # Not echoed: a header such as Authorization often carries a credential.
        raise ValueError("an -H header is not of the form 'Name: value' (not shown)")
    try:
        value.encode("latin-1")
    except UnicodeError:
        raise ValueError(
            f"header {name!r} has characters HTTP/1.1 cannot carry; "
            "percent-encode or base64 the value"
        ) from None
    if "\r" in value or "\n" in value:
        raise ValueError(f"header {name!r} contains a line break")
    return name, value


def _write(response: Any, args: argparse.Namespace) -> None:
    out: IO[bytes] = sys.stdout.buffer
    if args.include:
        head = f"HTTP/1.1 {response.status} {response.reason}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in response.headers.items()) + "\r\n"
        out.write(head.encode("latin-1", errors="replace"))
    if args.output is None:
        for chunk in response.iter_content():
            out.write(chunk)
        out.flush()
        return
    # Content-Length counts encoded bytes; we count decoded ones, so no percentage then
    total = response.headers.get("content-length", "")
    known = total.isdigit() and not response.headers.get("content-encoding")
    progress = _Progress(int(total) if known else None) if sys.stderr.isatty() else None
    with open(args.output, "wb") as handle:
        for chunk in response.iter_content():
            handle.write(chunk)
            if progress is not None:
                progress.add(len(chunk))
    if progress is not None:
        progress.finish()
    out.flush()


class _Progress:
    """One self-rewriting stderr line: bytes so far, percent when the size is known."""

    def __init__(self, total: int | None) -> None:
        self.total, self.done, self.last = total, 0, 0.0

    def add(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= 0.1:
            self.last = now
            self._draw()

    def _draw(self) -> None:
        if self.total:
            width = 30
            filled = min(width, width * self.done // self.total)
            bar = "#" * filled + "-" * (width - filled)
            text = f"[{bar}] {100 * self.done // self.total:3d}% {self.done} bytes"
        else:
            text = f"{self.done} bytes"
        sys.stderr.write(f"\r{text}")
        sys.stderr.flush()

    def finish(self) -> None:
        self._draw()
        sys.stderr.write("\n")


def _summary(tls: Any, log: RequestLog, args: argparse.Namespace) -> None:
    """-v: the connection, every CertificateRequest and our answer; --trace: the messages."""
    if not (args.verbose or args.trace):
        return
    err = sys.stderr
    if tls is not None:
        print(f"* {tls.version} {tls.cipher or ''}", file=err)
    if tls is not None or log.answers:
        for line in request_lines(log.answers):
            print(f"* {line}", file=err)
    if args.trace and tls is not None:
        for entry in tls.transcript:
            print(f"> {entry}", file=err)
