"""`tlsengine probe`: what does this server ask of a client, and which identity would we send?"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from dataclasses import dataclass
from typing import Any

from ..errors import (
    CertificateVerificationError,
    ClientCertificateRejected,
    TLSEngineError,
    TLSTimeout,
)
from ..protocol.trace import json_lines
from .common import (
    add_identity_options,
    add_version_options,
    fail,
    make_context,
    network_failure,
    next_http_event,
    offered_versions,
    one_line,
    split_host_port,
)

# How long to wait after the handshake for a TLS 1.3 server's verdict on our certificate:
# an alert, a NewSessionTicket or application data (RFC 8446 section 4.4.2.4).
VERDICT_WAIT = 1.0
# The wait reads in slices this long, so a NewSessionTicket ends it as soon as it arrives.
POLL = 0.05
# HTTP answers by which servers refuse a client certificate (or its absence) after the
# handshake: nginx sends 400 "No required SSL certificate was sent", 495 and 496; 403 is
# what Apache's SSLRequire and most access rules send.
REFUSING_STATUSES = frozenset({400, 403, 495, 496})


def add_parser(sub: Any) -> None:
    p = sub.add_parser("probe", help="handshake and report what the server asks of a client")
    p.add_argument("target", metavar="HOST:PORT")
    p.add_argument("--servername", metavar="N", help="SNI and the name to verify (default: HOST)")
    trust = p.add_mutually_exclusive_group()
    trust.add_argument("--cafile", metavar="F", help="PEM roots for the server's chain")
    trust.add_argument(
        "--insecure", action="store_true", help="skip server verification (probing only)"
    )
    add_identity_options(p)
    add_version_options(p)
    p.add_argument(
        "--http-get",
        metavar="PATH",
        help="after the handshake, GET PATH and take the HTTP status as the server's verdict",
    )
    p.add_argument("--timeout", type=float, default=10.0, help="seconds (default 10)")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument(
        "--trace",
        action="store_true",
        help="every handshake message and the selection verdicts, as JSON lines on stderr",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    host, port = split_host_port(args.target)
    try:
        ctx = make_context(args, trace=args.trace)
    except TLSEngineError as exc:
        return fail(exc)
    try:
        raw = socket.create_connection((host, port), timeout=args.timeout)
    except (OSError, ValueError) as exc:
        return network_failure(host, port, exc)
    server_name = args.servername or host
    with raw:
        tls = ctx.wrap_socket(raw, server_hostname=server_name, do_handshake_on_connect=False)
        try:
            tls.do_handshake()
            if args.http_get is not None:
                verdict = http_verdict(tls, server_name, port, args.http_get)
            elif tls.certificate_request is not None:
                verdict = await_verdict(tls, VERDICT_WAIT)
            else:
                verdict = Verdict("accepted", "handshake")  # done without asking for one
        except ClientCertificateRejected as exc:
            verdict = Verdict("rejected", "alert", str(exc).splitlines()[0])
        except (TLSEngineError, OSError) as exc:
            if tls.certificate_request is None:
                if args.trace:  # what got as far as it did is the point of tracing
                    sys.stderr.write(json_lines(tls.transcript))
                return fail(exc, offered_versions(args))
            unverified = isinstance(exc, CertificateVerificationError)
            verdict = Verdict("failed", None, one_line(exc), unverified=unverified)
        selection = tls.selection
        if selection is None and verdict.unverified:
            selection = would_send(ctx, tls.certificate_request)
        report = build_report(tls, verdict, selection)
        if args.trace:
            sys.stderr.write(json_lines(tls.transcript))
        tls.close()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(f"{host}:{port}", report, selection)
    return 0 if verdict.outcome in ("accepted", "no-verdict-yet") else 1


@dataclass(frozen=True)
class Verdict:
    """How the server took our answer, and the signal that told us."""

    outcome: str = "no-verdict-yet"  # accepted | rejected | failed | no-verdict-yet
    signal: str | None = None
    error: str | None = None  # one line
    http_status: int | None = None
    unverified: bool = False  # the server's certificate failed: we answered nothing


def await_verdict(tls: Any, wait: float) -> Verdict:
    """Wait up to ``wait`` seconds for the server to show what it made of our certificate.

    TLS 1.2: the server's Finished comes after our Certificate, so a finished handshake is
    the verdict. TLS 1.3: the server judges after our Finished and says so with an alert
    (raised from ``recv``), or shows it carried on with a NewSessionTicket or data.
    """
    if tls.version() == "TLSv1.2":
        return Verdict("accepted", "server-finished")
    tickets = len(tls.session_tickets)
    deadline = time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        tls.settimeout(min(left, POLL))
        try:
            data = tls.recv(1)
        except TLSTimeout:
            if len(tls.session_tickets) > tickets:
                return Verdict("accepted", "NewSessionTicket")
            continue
        if data:
            return Verdict("accepted", "application-data")
        return Verdict("no-verdict-yet", "closed")  # close_notify or EOF: no word either way
    return Verdict()


def http_verdict(tls: Any, host: str, port: int, path: str) -> Verdict:
    """Send ``GET path`` and read the status line: the server's verdict in HTTP terms."""
    import h11

    authority = host if port == 443 else f"{host}:{port}"
    conn = h11.Connection(h11.CLIENT)
    headers = [("Host", authority), ("User-Agent", "tlsengine probe"), ("Connection", "close")]
    try:
        head = conn.send(h11.Request(method="GET", target=path or "/", headers=headers))
        tls.sendall(head + conn.send(h11.EndOfMessage()))
        while True:
            event = next_http_event(conn, tls)
            if isinstance(event, h11.Response):
                status = event.status_code
                if status in REFUSING_STATUSES:
                    line = f"HTTP {status} {event.reason.decode('latin-1')}".rstrip()
                    return Verdict("rejected", "http-response", line, status)
                return Verdict("accepted", "http-response", None, status)
            elif isinstance(event, h11.ConnectionClosed):
                return Verdict("no-verdict-yet", "closed")
    except h11.ProtocolError as exc:
        return Verdict("failed", None, f"the answer to GET {path} is not HTTP: {exc}")


def would_send(ctx: Any, info: Any) -> Any:
    """The selection we would have answered ``info`` with, had the server verified."""
    from ..selection.select import select_identity

    identities, _ = ctx.snapshot_identities()
    return select_identity(info, identities)


def build_report(tls: Any, verdict: Verdict, selection: Any) -> dict[str, Any]:
    """The JSON report; ``selection`` is what we would send when we could not answer."""
    info = tls.certificate_request
    request = info.to_dict() if info is not None else {}
    chosen = selection.to_dict() if selection is not None else {}
    if tls.selection is None:
        sent = "nothing"  # not asked, or the handshake ended before we could answer
    else:
        sent = "identity" if tls.client_identity is not None else "empty"
    return {
        "requested": info is not None,
        "version": tls.version(),
        "certificate_authorities": request.get("certificate_authorities", []),
        "signature_schemes": request.get("signature_schemes", []),
        "signature_schemes_cert": request.get("signature_schemes_cert"),
        "certificate_types": request.get("certificate_types"),
        "chosen": chosen.get("chosen"),
        "scheme": chosen.get("scheme"),
        "candidates": chosen.get("candidates", []),
        "sent": sent,
        "outcome": verdict.outcome,
        "signal": verdict.signal,
        "http_status": verdict.http_status,
        "error": verdict.error,
    }


def print_report(target: str, report: dict[str, Any], selection: Any) -> None:
    print(f"{target}  {report['version'] or '-'}")
    if not report["requested"]:
        print("client certificate requested: no (nothing will be sent)")
    else:
        _print_request(report, selection)
    if not report["requested"] and report["signal"] == "handshake":
        return
    verdict = report["outcome"] + (f": {report['error']}" if report["error"] else "")
    signal = f" (signal: {report['signal']})" if report["signal"] else ""
    print(f"server verdict: {verdict}{signal}")


def _print_request(report: dict[str, Any], selection: Any) -> None:
    print("client certificate requested: yes")
    cas = report["certificate_authorities"]
    print(f"  CA names ({len(cas)}):" + ("" if cas else " none sent (any issuer may do)"))
    for name in cas:
        print(f"    {name}")
    print(f"  signature schemes: {', '.join(report['signature_schemes'])}")
    if report["signature_schemes_cert"] is not None:
        print(f"  signature schemes (cert): {', '.join(report['signature_schemes_cert'])}")
    if report["certificate_types"] is not None:
        print(f"  certificate types: {', '.join(report['certificate_types'])}")
    if report["sent"] == "identity":
        print(f"sent: {report['chosen']} ({report['scheme']})")
    elif report["sent"] == "empty":
        print("sent: an empty Certificate (no loaded identity fits)")
    elif report["outcome"] == "failed" and selection is not None:
        would = repr(report["chosen"]) if report["chosen"] else "an empty Certificate"
        remedy = (
            "--servername NAME with a name it covers"
            if "(hostname-mismatch)" in (report["error"] or "")  # the rule, as one_line keeps it
            else "--cafile FILE with its CA"
        )
        print(
            f"sent: nothing, because the server's certificate did not verify ({remedy}, "
            f"or --insecure to probe anyway); it would have got {would}"
        )
    else:
        print("sent: nothing (the handshake ended before we answered)")
    if selection is not None:
        print(selection.explain())
