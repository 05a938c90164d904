"""`tlsengine demo`: the whole product on loopback, with a PKI made on the spot.

One PKCS#12 holds three identities under different CAs. Four servers run in a child
process (tlslite-ng's server side, shaped by `tlsengine.testing`): two ask for a
certificate from different CAs and each gets a different identity; one does not ask and
gets none; one trusts a CA none of ours chains to and rejects us, with the reasons.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import textwrap
from typing import Any

from ..errors import ClientCertificateRejected, IdentityError, TLSEngineError
from ..identity.pkcs12 import build_pkcs12, load_pkcs12
from ..identity.store import clear_client_certificates, default_store, load_client_certificate
from .pki import CA, cert_pem, key_pem

PASSWORD = "demo-password"
REJECTED = "rejected by the server"
SERVER_START_TIMEOUT = 20.0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("demo", help="run the self-contained loopback demo")
    p.set_defaults(run=run)


def say(text: str = "") -> None:
    print(text, flush=True)


def heading(text: str) -> None:
    say(f"\n== {text}")


def run(args: argparse.Namespace) -> int:
    heading("1. A throwaway PKI, made in memory")
    finance = CA.root("Finance Root CA")
    ops_root = CA.root("Ops Root CA", key="rsa2048")
    ops = ops_root.intermediate("Ops Issuing CA")
    partners = CA.root("Partners Root CA")
    servers_ca = CA.root("Demo Server CA")
    now = datetime.datetime.now(datetime.UTC)
    identities = [
        finance.identity("alice", "p256", alias="alice@finance"),
        ops.identity("bob", "rsa2048", alias="bob@ops"),
        ops.identity(
            "bob-old",
            "p256",
            alias="bob-old@ops",
            not_before=now - datetime.timedelta(days=400),
            not_after=now - datetime.timedelta(days=35),
        ),
    ]
    for ca in (finance, ops_root, ops, partners, servers_ca):
        say(f"   CA  {ca.name.rfc4514_string()}")

    heading("2. One PKCS#12 with every identity (PBES2 AES-256, HMAC-SHA256 MAC)")
    p12 = build_pkcs12(identities, PASSWORD)
    say(f"   {len(p12)} bytes, held in memory only")
    for identity in load_pkcs12(p12, PASSWORD):
        chain = " <- ".join(c.subject.rfc4514_string() for c in identity.chain)
        say(
            f"   {identity.alias:<13} {identity.key_type:<4} valid to {identity.not_after:%Y-%m-%d}"
        )
        say(f"   {'':<13} chain: {chain}")
    for wrong in ("not-the-password", None):
        try:
            load_pkcs12(p12, wrong)
        except IdentityError as exc:
            say(f"   password {wrong!r:<20} -> {type(exc).__name__}: {exc}")
    load_client_certificate(p12, PASSWORD)
    say(f"   loaded into the default store: {len(default_store())} identities")

    heading("3. Four loopback servers (tlslite-ng, in a child process)")
    # name -> (what the server does, the CAs it trusts, what we expect: alias sent / REJECTED)
    plans = {
        "finance": ("asks for a certificate from Finance Root CA", [finance], "alice@finance"),
        "ops": ("asks for a certificate from Ops Root CA", [ops_root], "bob@ops"),
        "public": ("does not ask for a certificate", None, None),
        "partners": ("requires a certificate from Partners Root CA", [partners], REJECTED),
    }
    leaf, leaf_key = servers_ca.issue(
        "localhost", "p256", client=False, server=True, dns=["localhost"], ips=["127.0.0.1"]
    )
    config = {
        "chain": [cert_pem(leaf).decode()],
        "key": key_pem(leaf_key).decode(),
        "servers": {
            name: {
                "request_client_cert": cas is not None,
                "require_client_cert": cas is not None,
                "ca_names": [cert_pem(ca.certificate).decode() for ca in cas or []],
                "trusted": [cert_pem(ca.certificate).decode() for ca in cas or []],
            }
            for name, (_, cas, _) in plans.items()
        },
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "tlsengine.testing.serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ports = _start(child, config)
        for name, (what, _, _) in plans.items():
            say(f"   {name:<9} 127.0.0.1:{ports[name]:<6} {what}")
        failures = 0
        for name, (_, _, expected) in plans.items():
            failures += _visit(name, ports[name], servers_ca, expected)
    finally:
        if child.stdin:
            child.stdin.close()
        child.wait(timeout=10)
        clear_client_certificates()
    heading("Done")
    if failures:
        say(f"   {failures} server(s) did not get what the demo expected (see above).")
        return 1
    say("   Each server got the identity its CA names called for; the one that asked")
    say("   for nothing got nothing, and the one nothing fitted said why.")
    return 0


def _start(child: subprocess.Popen[str], config: dict[str, Any]) -> dict[str, int]:
    assert child.stdin and child.stdout
    child.stdin.write(json.dumps(config) + "\n")
    child.stdin.flush()
    line = child.stdout.readline()
    if not line:
        raise SystemExit("tlsengine demo: the loopback servers did not start")
    return json.loads(line)["ports"]


def _visit(name: str, port: int, servers_ca: CA, expected: str | None) -> int:
    """One HTTPS GET; returns 1 when the outcome differs from ``expected`` (the alias the
    server should get, None for no certificate, or REJECTED)."""
    from ..socket.context import ClientContext

    heading(f"4. GET https://localhost:{port}/  (the {name} server)")
    ctx = ClientContext(cadata=servers_ca.pem)  # identities: the default store
    try:
        with ctx.connect(("127.0.0.1", port), server_hostname="localhost", timeout=10) as tls:
            tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            reply = b""
            while chunk := tls.recv(65536):
                reply += chunk
            _describe(tls.certificate_request, tls.selection)
            body = reply.partition(b"\r\n\r\n")[2].decode(errors="replace").strip()
            say(f"   server saw client: {body}")
            sent = tls.client_identity.alias if tls.client_identity else None
            return _check(sent, expected)
    except ClientCertificateRejected as exc:
        say(f"   REJECTED by the server (alert: {exc.alert})")
        if exc.selection is not None:
            say(textwrap.indent(exc.selection.explain(), "   "))
        return _check(REJECTED, expected)
    except TLSEngineError as exc:
        say(f"   failed: {type(exc).__name__}: {exc}")
        return 1


def _check(outcome: str | None, expected: str | None) -> int:
    if outcome == expected:
        return 0
    say(f"   UNEXPECTED: wanted {expected or 'no certificate'}, got {outcome or 'no certificate'}")
    return 1


def _describe(info: Any, selection: Any) -> None:
    if info is None:
        say("   no CertificateRequest: no identity sent")
        return
    names = ", ".join(n.rfc4514_string() for n in info.certificate_authorities) or "none"
    say(f"   CertificateRequest: CA names [{names}]")
    if selection is not None:
        say(textwrap.indent(selection.explain(), "   "))
