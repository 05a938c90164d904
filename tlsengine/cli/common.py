"""Options and helpers shared by the subcommands that open connections.

Imports stay light here (the library loads inside the functions that use it), so that a
subcommand pays only for what it runs.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import re
import socket
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import (
    AlertReceived,
    CertificateVerificationError,
    ClientCertificateRejected,
    IdentityError,
    PKCS12PasswordError,
    TLSEngineError,
)

if TYPE_CHECKING:
    from ..identity.model import Identity

#: The versions a context offers when neither --tls1.2 nor --tls1.3 is given.
DEFAULT_VERSIONS = ("TLSv1.2", "TLSv1.3")

# The library's advice names its Python keywords; a CLI user needs the option instead.
_CLI_WORDING = (
    ("; on an SSLContext, load_verify_locations)", ")"),
    ("pass cafile=/cadata= with", "pass --cafile FILE with"),
    ("pass cafile= or cadata=", "pass --cafile FILE"),
    (
        "for a private PKI consider verify_profile='relaxed'",
        "the command line verifies by the strict web PKI rules (--insecure skips verification)",
    ),
)
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")


def add_identity_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pkcs12",
        action="append",
        default=[],
        metavar="FILE",
        help="client identities to offer (repeatable); default: none",
    )
    add_password_option(parser)


def add_password_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-env",
        metavar="VAR",
        help="environment variable holding the PKCS#12 password (never on the command line;"
        " without it, a terminal is asked)",
    )


def add_version_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--tls1.2", dest="version", action="store_const", const="TLSv1.2")
    group.add_argument("--tls1.3", dest="version", action="store_const", const="TLSv1.3")


def password_from_env(var: str | None) -> str | None:
    """The password --password-env names; errors never show a value that may be the secret."""
    if not var:
        return None
    if var in os.environ:
        return os.environ[var]
    if _ENV_NAME.fullmatch(var):
        raise IdentityError(f"--password-env: environment variable {var} is not set")
    raise IdentityError(
        "--password-env takes the NAME of an environment variable holding the password "
        "(such as P12_PASSWORD); no variable of the name given is set, and the name is not "
        "shown in case it is the password itself"
    )


def interactive() -> bool:
    """Whether a person can be asked: stdin is a terminal."""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):  # replaced or closed stdin
        return False


def load_pkcs12_file(path: str, password: str | None) -> list[Identity]:
    """One PKCS#12 file, always as a path (a typo reads "no such PKCS#12 file", never a
    base64 error). When it needs a password and none was given, a terminal user is asked
    for it without echo, as ``openssl pkcs12`` and curl do; elsewhere the error says how
    to give one."""
    from ..identity.pkcs12 import load_pkcs12

    source = pathlib.Path(path)
    try:
        return load_pkcs12(source, password)
    except PKCS12PasswordError as exc:
        if password is not None:
            raise
        if not interactive():
            raise PKCS12PasswordError(
                f"{exc}; name an environment variable holding it with --password-env VAR"
            ) from None
    import getpass

    return load_pkcs12(source, getpass.getpass(f"Password for {path}: "))


def load_identities(args: argparse.Namespace) -> list[Identity]:
    """Every identity of every --pkcs12 file, in order (the password applies to all).

    Every error names the file, since several may be given.
    """
    password = password_from_env(args.password_env)
    identities: list[Identity] = []
    for path in args.pkcs12:
        try:
            identities.extend(load_pkcs12_file(path, password))
        except IdentityError as exc:
            message = str(exc)  # the loader's own file errors already name it: say it once
            raise type(exc)(message if path in message else f"{path}: {message}") from None
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


def next_http_event(conn: Any, tls: Any) -> Any:
    """The next h11 event of ``conn``, reading from ``tls`` as it needs bytes."""
    import h11

    while (event := conn.next_event()) is h11.NEED_DATA:
        conn.receive_data(tls.recv(65536))
    return event


def offered_versions(args: argparse.Namespace) -> tuple[str, ...]:
    return (args.version,) if args.version else DEFAULT_VERSIONS


def split_host_port(text: str, default_port: int = 443) -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or a bare host."""
    if "://" in text:
        raise SystemExit(f"tlsengine: {text!r} is a URL; use HOST:PORT{_url_hint(text)}")
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


def _url_hint(url: str) -> str:
    """The ", here: HOST:PORT" hint for a pasted URL, so the user need not work it out."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port or 443
    except ValueError:  # a bad port or bracket: no hint rather than a wrong one
        return ""
    if not host:
        return ""
    shown = f"[{host}]" if ":" in host else host
    path = (
        f" (and --http-get {parts.path} to fetch its path)" if parts.path not in ("", "/") else ""
    )
    return f", here: {shown}:{port}{path}"


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


def one_line(exc: BaseException, offered: Sequence[str] = DEFAULT_VERSIONS) -> str:
    """The first line of an error, with what a command-line user needs to act on it."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, ClientCertificateRejected) and exc.selection is not None:
        from .summary import short_reason

        selection = exc.selection
        return f"{first}: {short_reason(selection.info, selection.verdicts)}; -v for the table"
    if isinstance(exc, CertificateVerificationError):
        for library, cli in _CLI_WORDING:
            first = first.replace(library, cli)
        return first
    if isinstance(exc, AlertReceived) and exc.description == "protocol_version":
        # The alert names the one thing in question; the suites and groups we offered
        # (which the library's message lists) are beside the point here.
        names = [v.replace("TLSv", "TLS ") for v in offered]
        if len(offered) == 1:
            return (
                f"the server refused our ClientHello with protocol_version: it does not speak "
                f"{names[0]}, the only version we offered; try without --tls{offered[0][4:]}"
            )
        return (
            "the server refused our ClientHello with protocol_version: it speaks none of the "
            f"versions we offered ({' and '.join(names)}); older ones are not implemented"
        )
    return first


def fail(exc: BaseException, offered: Sequence[str] = DEFAULT_VERSIONS) -> int:
    """One clear line on stderr and a non-zero exit, for errors the user can act on."""
    # The user's input, not the peer (the HTTP layer's TLS errors are also ssl's, and
    # ssl.SSLCertVerificationError is a ValueError: still the peer's side).
    usage = isinstance(exc, IdentityError) or (
        isinstance(exc, ValueError) and not isinstance(exc, TLSEngineError)
    )
    kind = "error" if usage or isinstance(exc, TLSEngineError) else type(exc).__name__
    print(f"tlsengine: {kind}: {one_line(exc, offered)}", file=sys.stderr)
    return 2 if usage else 1
