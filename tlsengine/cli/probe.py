"""`tlsengine probe`: what does this server ask of a client, and which identity would we send?"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from typing import Any

from ..errors import ClientCertificateRejected, TLSEngineError, TLSTimeout
from ..protocol.trace import json_lines
from .common import (
    add_identity_options,
    add_version_options,
    fail,
    make_context,
    network_failure,
    split_host_port,
)

# How long to wait after the handshake for a TLS 1.3 server's verdict on our certificate,
# which arrives as an alert on the first read (RFC 8446 section 4.4.2.4).
VERDICT_WAIT = 1.0


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
    report: dict[str, Any]
    with raw:
        tls = ctx.wrap_socket(
            raw, server_hostname=args.servername or host, do_handshake_on_connect=False
        )
        outcome = "accepted"
        error: TLSEngineError | OSError | None = None
        try:
            tls.do_handshake()
            if tls.certificate_request is not None:
                tls.settimeout(VERDICT_WAIT)
                try:
                    tls.recv(1)
                except TLSTimeout:
                    outcome = "no-verdict-yet"
        except ClientCertificateRejected as exc:
            outcome, error = "rejected", exc
        except (TLSEngineError, OSError) as exc:
            if tls.certificate_request is None:
                if args.trace:  # what got as far as it did is the point of tracing
                    sys.stderr.write(json_lines(tls.transcript))
                return fail(exc)
            outcome, error = "failed", exc
        report = build_report(tls, outcome, error)
        if args.trace:
            sys.stderr.write(json_lines(tls.transcript))
        tls.close()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(f"{host}:{port}", report, tls.selection)
    return 0 if outcome in ("accepted", "no-verdict-yet") else 1


def build_report(tls: Any, outcome: str, error: BaseException | None) -> dict[str, Any]:
    info = tls.certificate_request
    request = info.to_dict() if info is not None else {}
    selection = tls.selection
    chosen = selection.to_dict() if selection is not None else {}
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
        "outcome": outcome,
        "error": str(error).splitlines()[0] if error else None,
    }


def print_report(target: str, report: dict[str, Any], selection: Any) -> None:
    print(f"{target}  {report['version'] or '-'}")
    if not report["requested"]:
        print("client certificate requested: no (nothing will be sent)")
        return
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
    if report["chosen"]:
        print(f"sent: {report['chosen']} ({report['scheme']})")
    else:
        print("sent: an empty Certificate (no loaded identity fits)")
    if selection is not None:
        print(selection.explain())
    verdict = report["outcome"] + (f": {report['error']}" if report["error"] else "")
    print(f"server verdict: {verdict}")
