"""Options and helpers shared by the subcommands that open connections."""

from __future__ import annotations

import argparse
import os
import pathlib
import socket
import sys
from typing import Any

from ..errors import IdentityError, TLSEngineError
from ..identity.model import Identity


def add_identity_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pkcs12",
        action="append",
        default=[],
        metavar="FILE",
        help="client identities to offer (repeatable); default: none",
    )
    parser.add_argument(
        "--password-env",
        metavar="VAR",
        help="environment variable holding the PKCS#12 password (never on the command line)",
    )


def add_version_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--tls1.2", dest="version", action="store_const", const="TLSv1.2")
    group.add_argument("--tls1.3", dest="version", action="store_const", const="TLSv1.3")


def password_from_env(var: str | None) -> str | None:
    if not var:
        return None
    if var not in os.environ:
        raise IdentityError(f"--password-env: environment variable {var} is not set")
    return os.environ[var]


def load_identities(args: argparse.Namespace) -> list[Identity]:
    """Every identity of every --pkcs12 file, in order (the password applies to all).

    Each FILE goes in as a Path, so a typo reads "no such PKCS#12 file" (a str would be
    tried as base64), and every error names the file, since several may be given.
    """
    from ..identity.pkcs12 import load_pkcs12

    password = password_from_env(args.password_env)
    identities: list[Identity] = []
    for path in args.pkcs12:
        try:
            identities.extend(load_pkcs12(pathlib.Path(path), password))
        except IdentityError as exc:
            raise type(exc)(f"{path}: {exc}") from None
    return identities


def make_context(args: argparse.Namespace, **extra: Any) -> Any:
    """A ClientContext from the shared options: --pkcs12 identities, trust, TLS version."""
    from ..socket.context import ClientContext

    versions = {}
    if args.version:
        versions = {"minimum_version": args.version, "maximum_version": args.version}
    return ClientContext(
        identities=load_identities(args),
        cafile=args.cafile,
        verify=not args.insecure,
        check_hostname=not args.insecure,
        **versions,
        **extra,
    )


def split_host_port(text: str, default_port: int = 443) -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or a bare host."""
    host, port = text, default_port
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest.startswith(":"):
            port = _port(rest[1:], text)
    elif text.count(":") == 1:
        host, _, p = text.partition(":")
        port = _port(p, text)
    if not host:
        raise SystemExit(f"tlsengine: {text!r} has no host; use HOST:PORT")
    return host, port


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise SystemExit(f"tlsengine: {whole!r} has no valid port; use HOST:PORT")
    return int(text)


def network_failure(host: str, port: int, exc: OSError | ValueError) -> int:
    """One line naming the target, for failures before any TLS byte was exchanged."""
    if isinstance(exc, socket.gaierror):
        reason = f"cannot resolve {host!r} ({exc.strerror or exc})"
    elif isinstance(exc, TimeoutError):
        reason = "timed out"
    elif isinstance(exc, OSError):
        reason = exc.strerror or str(exc) or type(exc).__name__
    else:  # ValueError / UnicodeError: the name cannot even be encoded (IDNA, label length)
        reason = f"{host!r} is not a valid host name"
    print(f"tlsengine: error: cannot connect to {host}:{port}: {reason}", file=sys.stderr)
    return 1


def fail(exc: BaseException) -> int:
    """One clear line on stderr and a non-zero exit, for errors the user can act on."""
    usage = isinstance(exc, IdentityError | ValueError)  # the user's input, not the peer
    kind = "error" if usage or isinstance(exc, TLSEngineError) else type(exc).__name__
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    print(f"tlsengine: {kind}: {first}", file=sys.stderr)
    return 2 if usage else 1
