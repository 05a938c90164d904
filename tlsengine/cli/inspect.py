"""`tlsengine inspect FILE`: list every identity in a PKCS#12 (text or JSON).

The password comes from an environment variable, never the command line, so it does not
end up in shell history or the process list.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from ..errors import IdentityError
from .common import add_password_option, load_pkcs12_file, password_from_env

if TYPE_CHECKING:
    from cryptography import x509

    from ..identity.model import Identity


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "inspect",
        help="list the identities in a PKCS#12 file",
        description="Show every client identity (key + certificate chain) in a PKCS#12 file.",
    )
    parser.add_argument("file", metavar="FILE", help="PKCS#12 file (.p12 / .pfx)")
    add_password_option(parser)
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.set_defaults(run=run)


def identity_json(identity: Identity) -> dict[str, Any]:
    """The JSON shape of one identity (docs/api.md, `inspect --json`)."""
    return {
        "alias": identity.alias,
        "subject": identity.subject,
        "issuer": identity.issuer,
        "key_type": identity.key_type,
        "not_before": identity.not_before.isoformat(),
        "not_after": identity.not_after.isoformat(),
        "fingerprint": identity.fingerprint,
        "chain": [cert.subject.rfc4514_string() for cert in identity.chain],
    }


def _key_detail(identity: Identity) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key = identity.private_key  # key_type is derived from it, so the two always agree
    if isinstance(key, rsa.RSAPrivateKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return f"EC {key.curve.name}"
    return identity.key_type.capitalize()


def _text(identities: list[Identity]) -> str:
    lines = [f"{len(identities)} identit{'y' if len(identities) == 1 else 'ies'}"]
    for n, ident in enumerate(identities, 1):
        lines += [
            "",
            f"[{n}] {ident.alias}",
            f"    subject:     {ident.subject}",
            f"    issuer:      {ident.issuer}",
            f"    key:         {_key_detail(ident)}",
            f"    valid:       {ident.not_before.isoformat()} .. {ident.not_after.isoformat()}",
            f"    fingerprint: {ident.fingerprint}",
            "    chain:",
        ]
        for depth, cert in enumerate(ident.chain):
            lines.append(f"      {depth}: {_describe(cert)}")
    return "\n".join(lines)


def _describe(cert: x509.Certificate) -> str:
    subject = cert.subject.rfc4514_string()
    return f"{subject} (self-signed)" if cert.subject == cert.issuer else subject


def run(args: argparse.Namespace) -> int:
    try:
        password = password_from_env(args.password_env)
    except IdentityError as exc:
        print(f"tlsengine inspect: {exc}", file=sys.stderr)
        return 2
    try:
        identities = load_pkcs12_file(args.file, password)
    except IdentityError as exc:
        print(f"tlsengine inspect: {args.file}: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([identity_json(i) for i in identities], indent=2))
    else:
        print(_text(identities))
    return 0
