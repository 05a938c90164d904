"""`ClientConfig`: what one connection needs to know, shared by every handshake machine.

Its own module so that connection.py and the per-version machines (tls13.py) both import it
without importing each other.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..identity.model import Identity
from .keyshare import SeededRandom

__all__ = ["DEFAULT_SIGNATURE_SCHEMES", "ClientConfig", "Hooks"]


#: What ClientConfig offers in signature_algorithms by default (also what the testing
#: strategies put in the requests they draw).
DEFAULT_SIGNATURE_SCHEMES: tuple[str, ...] = (
    "ecdsa_secp256r1_sha256",
    "ecdsa_secp384r1_sha384",
    "ecdsa_secp521r1_sha512",
    "ed25519",
    "ed448",
    "rsa_pss_rsae_sha256",
    "rsa_pss_rsae_sha384",
    "rsa_pss_rsae_sha512",
    # certificates only (never a TLS 1.3 CertificateVerify): most chains are PKCS#1 signed
    "rsa_pkcs1_sha256",
    "rsa_pkcs1_sha384",
    "rsa_pkcs1_sha512",
)


def _default_signature_schemes() -> tuple[str, ...]:
    return DEFAULT_SIGNATURE_SCHEMES


@dataclass(frozen=True)
class Hooks:
    """Research hooks on one connection; every one is off (None) by default.

    ``on_message(direction, name, raw)`` sees each whole handshake message: ``"in"`` as
    soon as it is reassembled (before its handler judges it), ``"out"`` as it goes to the
    record layer. ``raw`` is the message with its 4-byte header; decode it with tlslite-ng.

    ``select(info, identities) -> Selection`` replaces identity selection entirely (the
    context's ``select_identity`` callback, by contrast, runs after the built-in filters).

    ``unsafe_mutate_outgoing(name, raw) -> bytes`` rewrites an outgoing handshake message
    *after* it was hashed into our transcript and *before* it is encrypted: the peer sees
    the rewritten bytes, we keep the original in our transcript. It exists to test
    servers; a connection using it is broken by design.
    """

    on_message: Callable[[str, str, bytes], None] | None = None
    select: Callable[[Any, Sequence[Identity]], Any] | None = None
    unsafe_mutate_outgoing: Callable[[str, bytes], bytes] | None = None


@dataclass
class ClientConfig:
    """Everything one connection needs to know; the socket layer fills it from ClientContext.

    ``verify_chain`` is the ONLY check of the server's certificate chain and host name:
    with ``None`` (the default) the server is NOT verified at all, only its possession of
    the certificate's key. The socket layer always installs a verifier when verify=True;
    anyone driving ClientConnection directly must pass one too.

    Resumption: ``session`` is what an earlier connection to the same server left (for
    TLS 1.3 a `SessionTicket`); each version's machine offers only sessions of its own
    kind and ignores any other. ``save_session`` is called with every session a
    connection makes resumable (TLS 1.3: each NewSessionTicket). ``clock`` gives
    monotonic seconds: the core reads no clock of its own, so it stamps tickets with it
    and ages them with it when offering (obfuscated_ticket_age, lifetime); without a
    clock no ticket is offered. ``session_reused`` on the connection tells the outcome.
    """

    server_name: str | bytes | None = None  # SNI (omitted for IP literals); bytes: ASCII
    alpn_protocols: Sequence[str] = ()
    identities: Sequence[Identity] = ()  # snapshot taken at handshake start
    select: Callable[[Any, Sequence[Identity]], Any] | None = None
    verify_chain: Callable[[list[bytes]], None] | None = None
    cipher_suites: Sequence[str] = (
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
    )
    #: TLS 1.2 suites (RFC 5289, RFC 7905): ECDHE with AEAD only, in preference order.
    cipher_suites_12: Sequence[str] = (
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    )
    groups: Sequence[str] = ("x25519", "secp256r1", "secp384r1", "X25519MLKEM768")
    key_share_groups: Sequence[str] = ("x25519",)
    signature_schemes: Sequence[str] = field(default_factory=_default_signature_schemes)
    max_version: str = "TLSv1.3"
    min_version: str = "TLSv1.2"
    post_handshake_auth: bool = True
    send_client_root: bool = False  # a self-signed root ending our chain is left out
    #: TLS 1.2 server-initiated renegotiation: "never", "once" or "freely" (RFC 5746 only).
    renegotiation: str = "once"
    now: datetime | None = None
    trace: bool = False
    random: Callable[[int], bytes] = os.urandom
    session: Any = field(default=None, repr=False)
    save_session: Callable[[Any], None] | None = None
    clock: Callable[[], float] | None = None
    #: NSS key log hook ``(label, client_random, secret)``, called as each traffic secret
    #: is derived (for Wireshark). Off by default; only set when the user asks for a key
    #: log (``SSLContext.keylog_filename``), the one place secrets may leave the process.
    keylog: Callable[[str, bytes, bytes], None] | None = field(default=None, repr=False)
    #: Deterministic mode (harnesses only): the ClientHello random, session id and every
    #: key share's private key derive from this seed, so a handshake replays byte for byte.
    #: Anyone who knows the seed can decrypt the connection.
    seed: bytes | None = field(default=None, repr=False)
    hooks: Hooks | None = None

    def __post_init__(self) -> None:
        if self.hooks is not None and self.hooks.select is not None:
            self.select = self.hooks.select  # the hook replaces selection outright
        # a fresh stream per config, so dataclasses.replace() of a used one starts over
        if self.seed is not None and (
            self.random is os.urandom or isinstance(self.random, SeededRandom)
        ):
            self.random = SeededRandom(self.seed)
