"""The TLS 1.3 client handshake (RFC 8446), one handler per incoming message.

Read it top to bottom as the RFC's Appendix A client state machine: ``_send_client_hello``
(START -> WAIT_SH), ``_handle_server_hello`` (also HelloRetryRequest),
``_handle_encrypted_extensions``, ``_handle_certificate_request``, ``_handle_certificate``,
``_handle_certificate_verify``, ``_handle_finished`` (which sends our flight: Certificate,
CertificateVerify and Finished when a CertificateRequest came) and the post-handshake
messages. Every handler has the same four beats: decode, hash, act, transition.

The class is a mixin: ``ClientConnection`` (connection.py) supplies the record I/O
(``_send_handshake_flight``, ``_set_read_keys``, ...) and the public attributes.
"""

from __future__ import annotations

import enum
import functools
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.constant_time import bytes_eq
from tlslite.constants import TLS_1_1_DOWNGRADE_SENTINEL, TLS_1_2_DOWNGRADE_SENTINEL, TLS_1_3_HRR
from tlslite.messages import NewSessionTicket

from ..errors import (
    CertificateVerificationError,
    DecodeError,
    HandshakeError,
    IdentityError,
    TLSError,
)
from ..selection.request import CertificateRequestInfo
from ..selection.schemes import key_profile, scheme_name, sign, usable_schemes, verify
from .config import ClientConfig
from .events import (
    Event,
    HandshakeComplete,
    KeyUpdated,
    PostHandshakeAuthCompleted,
    SessionTicketReceived,
)
from .keyschedule import (
    CIPHER_SUITES,
    CipherSuite,
    KeySchedule,
    Transcript,
    finished_verify_data,
    next_traffic_secret,
    psk_binder,
    transcript_digest,
)
from .keyshare import GROUP_NAMES, GROUPS, KeyShare
from .prf import CIPHER_SUITES_12
from .record import fatal
from .trace import Trace
from .wire import (
    EXT_EARLY_DATA,
    EXT_POST_HANDSHAKE_AUTH,
    SCHEME_CODES,
    certificate_request_fields,
    chain_der,
    check_certificate_entries,
    checked_extensions,
    decode,
    decode_certificate13_entries,
    decode_certificate_request13,
    decode_certificate_verify13,
    decode_encrypted_extensions,
    decode_server_hello,
    encode_certificate13,
    encode_certificate_verify13,
    encode_client_hello,
    encode_handshake,
    ext_alpn,
    ext_cookie,
    ext_empty,
    ext_key_share,
    ext_pre_shared_key,
    ext_psk_key_exchange_modes,
    ext_server_name,
    ext_signature_algorithms,
    ext_supported_groups,
    ext_supported_versions,
    extensions_by_type,
    server_leaf,
)

if TYPE_CHECKING:
    from ..identity.model import Identity

__all__ = ["State", "SessionTicket", "TLS13Handshake", "Transcript"]


class State(enum.Enum):
    """Client states of RFC 8446 Appendix A, then the TLS 1.2 ones, plus CLOSED.

    TLS 1.2 (tls12.py) shares START, WAIT_SH, WAIT_FINISHED and CONNECTED and names the
    rest after the message RFC 5246 section 7.3's figure has the client wait for next.
    """

    START = "START"
    WAIT_SH = "WAIT_SH"
    WAIT_EE = "WAIT_EE"
    WAIT_CERT_CR = "WAIT_CERT_CR"
    WAIT_CERT = "WAIT_CERT"
    WAIT_CV = "WAIT_CV"
    WAIT_FINISHED = "WAIT_FINISHED"
    CONNECTED = "CONNECTED"
    # TLS 1.2 (RFC 5246 section 7.3)
    WAIT_SERVER_CERTIFICATE = "WAIT_SERVER_CERTIFICATE"
    WAIT_SERVER_KEY_EXCHANGE = "WAIT_SERVER_KEY_EXCHANGE"
    WAIT_CERTIFICATE_REQUEST_OR_DONE = "WAIT_CERTIFICATE_REQUEST_OR_DONE"
    WAIT_SERVER_HELLO_DONE = "WAIT_SERVER_HELLO_DONE"
    WAIT_CHANGE_CIPHER_SPEC = "WAIT_CHANGE_CIPHER_SPEC"
    CLOSED = "CLOSED"


# Handshake message types (RFC 8446 section 4).
CLIENT_HELLO = 1
SERVER_HELLO = 2
NEW_SESSION_TICKET = 4
ENCRYPTED_EXTENSIONS = 8
CERTIFICATE = 11
CERTIFICATE_REQUEST = 13
CERTIFICATE_VERIFY = 15
FINISHED = 20
KEY_UPDATE = 24

MESSAGE_NAMES = {
    CLIENT_HELLO: "ClientHello",
    SERVER_HELLO: "ServerHello",
    NEW_SESSION_TICKET: "NewSessionTicket",
    ENCRYPTED_EXTENSIONS: "EncryptedExtensions",
    CERTIFICATE: "Certificate",
    CERTIFICATE_REQUEST: "CertificateRequest",
    CERTIFICATE_VERIFY: "CertificateVerify",
    FINISHED: "Finished",
    KEY_UPDATE: "KeyUpdate",
}

# Extension code points used below.
EXT_SERVER_NAME = 0
EXT_SUPPORTED_GROUPS = 10
EXT_ALPN = 16
EXT_PRE_SHARED_KEY = 41
EXT_SUPPORTED_VERSIONS = 43
EXT_COOKIE = 44
EXT_KEY_SHARE = 51

TLS13 = (3, 4)
TLS12 = (3, 3)
_SERVER_CV_CONTEXT = b" " * 64 + b"TLS 1.3, server CertificateVerify\x00"
_CLIENT_CV_CONTEXT = b" " * 64 + b"TLS 1.3, client CertificateVerify\x00"
_MAX_TICKET_LIFETIME = 7 * 24 * 3600
#: Tickets kept per connection: the newest few are all resumption could use, and a server
#: sending thousands must not grow our memory.
MAX_SESSION_TICKETS = 8
#: NewSessionTickets taken per connection; later ones are dropped unread (no PSK derived, no
#: event): a server issuing tickets without end must not make us derive secrets without end.
MAX_TICKETS_PER_CONNECTION = 64
#: KeyUpdates accepted in a row without application data between them; the next one is
#: fatal (unexpected_message), as BoringSSL's kMaxKeyUpdates and rustls do: each costs a key
#: derivation and, when update_requested, a KeyUpdate of ours.
MAX_KEY_UPDATES = 32
#: Post-handshake CertificateRequests answered per connection: each costs a signature with
#: the client key; real servers ask once (Apache, OpenSSL, GnuTLS re-authentication).
MAX_POST_HANDSHAKE_REQUESTS = 32

#: Schemes that may sign a TLS 1.3 CertificateVerify (RFC 8446 section 4.4.3: no PKCS#1
#: v1.5, no SHA-1); the rest of signature_algorithms only speaks about certificates.
CV_SCHEMES = frozenset(
    {
        "ecdsa_secp256r1_sha256",
        "ecdsa_secp384r1_sha384",
        "ecdsa_secp521r1_sha512",
        "rsa_pss_rsae_sha256",
        "rsa_pss_rsae_sha384",
        "rsa_pss_rsae_sha512",
        "ed25519",
        "ed448",
    }
)

# --------------------------------------------------------------------------- helpers


class HeldSession:
    """What every resumable session shares, whatever its version: an expiry on the caller's
    clock, and a refusal to be pickled (it holds a secret that must never leave memory)."""

    received_at: float | None
    lifetime: int

    @property
    def expires_at(self) -> float | None:
        """When the server stops honouring it, on the clock of ``received_at``."""
        return None if self.received_at is None else self.received_at + self.lifetime

    def __reduce__(self) -> NoReturn:  # never let pickle carry the secret to disk or a queue
        raise TypeError(
            f"{type(self).__name__} objects hold a resumption secret and cannot be pickled"
        )


@dataclass
class SessionTicket(HeldSession):
    """A NewSessionTicket with the PSK it stands for (kept in memory for resumption).

    It also carries what a resumed connection inherits from the one that made it, since a
    resumed handshake sends neither side's certificate: the server chain verified then
    (``peer_certificates``) and the identity we had sent (``client_identity``).
    ``received_at`` is the caller's clock (``ClientConfig.clock``) when it arrived; a
    ticket without it cannot be aged, so it is never offered.
    """

    version: ClassVar[str] = "TLSv1.3"

    ticket: bytes = field(repr=False)
    lifetime: int
    age_add: int
    nonce: bytes
    cipher: str
    server_name: str | None
    psk: bytes = field(repr=False)
    alpn_protocol: str | None = None
    received_at: float | None = None
    peer_certificates: tuple[bytes, ...] = field(default=(), repr=False)
    client_identity: Identity | None = field(default=None, repr=False)

    @property
    def hash_name(self) -> str:
        """The suite hash it was made under; only a suite with this hash may resume it."""
        return CIPHER_SUITES[self.cipher].hash_name


def _host_key(host: str | None) -> str | None:
    """A server name as resumption compares it: DNS names are case-blind, root dot optional."""
    return host.rstrip(".").lower() if host else None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _server_name_text(server_name: object) -> str | None:
    """``config.server_name`` as text: ASCII bytes (as ``ssl`` accepts them) are decoded."""
    if server_name is None or isinstance(server_name, str):
        return server_name
    if isinstance(server_name, (bytes, bytearray, memoryview)):
        try:
            return bytes(server_name).decode("ascii")
        except UnicodeDecodeError:
            raise HandshakeError(
                f"server_name {bytes(server_name)!r} is not ASCII; pass Unicode host names "
                "as str (they are IDNA-encoded for SNI)"
            ) from None
    raise HandshakeError(
        f"server_name must be a str (or ASCII bytes), not {type(server_name).__name__}"
    )


#: One host name label after IDNA: letters, digits, hyphens (not first or last) and, as
#: Python's ssl, OpenSSL and rustls accept them for internal hosts, underscores.
_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")


def _sni_bytes(server_name: str | None) -> bytes | None:
    """The SNI host name (RFC 6066 section 3): none for IP literals, IDNA for the rest.

    Anything that is not a host name (NUL, spaces, wildcards, empty or over-long labels)
    is refused here, before the ClientHello exists, so it never reaches the wire.
    """
    if not server_name or _is_ip(server_name):
        return None
    host = server_name[:-1] if server_name.endswith(".") else server_name
    try:
        name = host.encode("idna")
    except UnicodeError as exc:
        raise HandshakeError(
            f"server_name {server_name!r} is not a valid DNS host name: {exc}"
        ) from None
    labels = name.split(b".")
    bad = next((label for label in labels if not _LABEL.fullmatch(label.decode("ascii"))), None)
    if bad is not None or len(name) > 253:
        why = (
            f"label {bad.decode('ascii')!r} is not letters, digits and inner hyphens (1-63)"
            if bad is not None
            else "longer than 253 bytes"
        )
        raise HandshakeError(f"server_name {server_name!r} is not a valid DNS host name: {why}")
    return name


def _alpn_bytes(protocols: Sequence[str]) -> list[bytes]:
    out = []
    for protocol in protocols:
        raw = protocol.encode("utf-8")
        if not 1 <= len(raw) <= 255:
            raise HandshakeError(f"ALPN protocol name {protocol!r} must be 1-255 bytes")
        out.append(raw)
    return out


def _verdict_rows(selection: Any) -> list[dict[str, Any]]:
    """Selection verdicts as plain dicts for the trace (tuples or objects both accepted)."""
    rows = []
    for item in getattr(selection, "verdicts", None) or ():
        if isinstance(item, tuple):
            identity, verdict, notes, reason = (tuple(item) + (None,) * 4)[:4]
        else:
            identity = getattr(item, "identity", None)
            verdict = getattr(item, "verdict", None)
            notes = getattr(item, "notes", None)
            reason = getattr(item, "reason", None)
        rows.append(
            {
                "alias": getattr(identity, "alias", None),
                "fingerprint": getattr(identity, "fingerprint", None),
                "verdict": verdict,
                "notes": list(notes or ()),
                "reason": reason,
            }
        )
    return rows


# --------------------------------------------------------------------------- the machine


class ConnectionState:
    """The attributes ClientConnection holds that both version machines read and set
    (declared once here for the type checker; ClientConnection.__init__ creates them)."""

    config: ClientConfig
    state: State
    handshake_complete: bool
    version: str | None
    cipher: str | None
    alpn_protocol: str | None
    peer_certificates: list[bytes]
    certificate_request: Any
    selection: Any
    client_identity: Identity | None
    session_tickets: list[Any]  # SessionTicket, or a TLS 1.2 tls12.Session12
    session_reused: bool
    _identities: tuple[Identity, ...]
    _answered_certificate_request: bool
    _write_closed: bool


class TLS13Handshake(ConnectionState):
    """The TLS 1.3 client state machine (mixed into ClientConnection)."""

    # supplied by ClientConnection
    transcript: Trace
    _key_updates_in_a_row: int
    _tickets_received: int

    def _send_handshake_flight(self, messages: Sequence[bytes]) -> None:
        raise NotImplementedError

    def _set_read_keys(self, suite: CipherSuite, secret: bytes) -> None:
        raise NotImplementedError

    def _set_write_keys(self, suite: CipherSuite, secret: bytes) -> None:
        raise NotImplementedError

    def _send_change_cipher_spec(self) -> None:
        raise NotImplementedError

    def _trace(self, direction: str, message: str, **fields: Any) -> None:
        raise NotImplementedError

    def _read_secret(self) -> bytes:
        raise NotImplementedError

    def _write_secret(self) -> bytes:
        raise NotImplementedError

    if TYPE_CHECKING:  # supplied by TLS12Handshake (tls12.py), earlier in the MRO

        def _tls12_client_hello_extensions(self) -> list[Any]: ...

        def _server_chose_tls12(self, hello: Any) -> bool: ...

        def _handle_server_hello12(
            self, raw: bytes, events: list[Event], hello: Any = None
        ) -> None: ...

    # ------------------------------------------------------------------ setup

    def _init_tls13(self) -> None:
        cfg = self.config
        unknown = [s for s in cfg.cipher_suites if s not in CIPHER_SUITES]
        if unknown or not cfg.cipher_suites:
            raise HandshakeError(
                f"unsupported cipher suites {unknown}; choose from {', '.join(CIPHER_SUITES)}"
            )
        unknown12 = [s for s in cfg.cipher_suites_12 if s not in CIPHER_SUITES_12]
        if unknown12 or not cfg.cipher_suites_12:
            raise HandshakeError(
                f"unsupported TLS 1.2 cipher suites {unknown12}; choose from "
                f"{', '.join(CIPHER_SUITES_12)}"
            )
        bad_groups = [g for g in cfg.groups if g not in GROUPS]
        if bad_groups or not cfg.groups:
            raise HandshakeError(
                f"unsupported groups {bad_groups}; choose from {', '.join(GROUPS)}"
            )
        bad_schemes = [s for s in cfg.signature_schemes if s not in SCHEME_CODES]
        if bad_schemes:
            raise HandshakeError(f"unknown signature schemes {bad_schemes}")
        versions = ("TLSv1.2", "TLSv1.3")
        if cfg.min_version not in versions or cfg.max_version not in versions:
            raise HandshakeError(
                f"versions {cfg.min_version}..{cfg.max_version}: use 'TLSv1.2' or 'TLSv1.3'"
            )
        if versions.index(cfg.min_version) > versions.index(cfg.max_version):
            raise HandshakeError(f"min_version {cfg.min_version} is above {cfg.max_version}")
        self._offer13 = cfg.max_version == "TLSv1.3"
        self._offer12 = cfg.min_version == "TLSv1.2"
        self._server_name = _server_name_text(cfg.server_name)
        self._sni = _sni_bytes(self._server_name)
        self._alpn = _alpn_bytes(cfg.alpn_protocols)
        self._hs = Transcript()
        self._client_hello = b""
        self._suite: CipherSuite | None = None
        self._schedule: KeySchedule | None = None
        self._shares: dict[int, KeyShare] = {}
        self._random = bytes(cfg.random(32))
        self._session_id = bytes(cfg.random(32))  # middlebox compatibility (appendix D.4)
        if len(self._random) != 32 or len(self._session_id) != 32:
            raise HandshakeError("config.random(n) must return exactly n bytes")
        self._hrr_seen = False
        self._hrr_suite: int | None = None
        self._cookie: bytes | None = None
        self._server_public_key: Any = None
        self._cert_request_context: bytes | None = None
        self._resumption_master = b""
        self._offered_exts: set[int] = set()
        self._request_contexts: set[bytes] = set()
        self._offer: SessionTicket | None = self._resumable_session() if self._offer13 else None

    # ------------------------------------------------------------------ START -> WAIT_SH

    def _send_client_hello(self) -> None:
        cfg = self.config
        if not self._shares:
            wanted = [g for g in cfg.key_share_groups if g in cfg.groups] or [cfg.groups[0]]
            for group in wanted:
                share = KeyShare(group, seed=cfg.seed)
                self._shares[share.code] = share
        exts: list[tuple[int, bytes]] = []
        if self._sni is not None:
            exts.append(ext_server_name(self._sni))
        exts.append(ext_supported_groups([GROUPS[g] for g in cfg.groups]))
        exts.append(ext_signature_algorithms([SCHEME_CODES[s] for s in cfg.signature_schemes]))
        if self._alpn:
            exts.append(ext_alpn(self._alpn))
        suites: list[int] = []
        if self._offer12:  # extended_master_secret, renegotiation_info, ec_point_formats
            exts += [(e.extType, bytes(e.extData)) for e in self._tls12_client_hello_extensions()]
        if self._offer13:
            suites += [CIPHER_SUITES[s].code for s in cfg.cipher_suites]
            exts.append(ext_supported_versions([0x0304, 0x0303] if self._offer12 else [0x0304]))
            exts.append(ext_psk_key_exchange_modes([1]))  # psk_dhe_ke
            if cfg.post_handshake_auth and self._identities:
                exts.append(ext_empty(EXT_POST_HANDSHAKE_AUTH))
            if self._cookie is not None:
                exts.append(ext_cookie(self._cookie))
            exts.append(ext_key_share([(s.code, s.public) for s in self._shares.values()]))
        if self._offer12:
            suites += [CIPHER_SUITES_12[s].code for s in cfg.cipher_suites_12]
        if self._offer is not None:  # pre_shared_key goes last, its binder filled in below
            exts.append(self._psk_extension(self._offer))
        self._offered_exts = {ext_type for ext_type, _ in exts}
        raw = encode_client_hello(self._random, self._session_id, suites, exts)
        if self._offer is not None:
            raw = self._sign_psk(raw, self._offer)
        self._client_hello = raw
        self._hs.update(raw)
        self._send_handshake_flight([raw])
        self._trace(
            "out",
            "ClientHello",
            versions=[
                v for v, on in (("TLSv1.3", self._offer13), ("TLSv1.2", self._offer12)) if on
            ],
            cipher_suites=list(cfg.cipher_suites if self._offer13 else ())
            + list(cfg.cipher_suites_12 if self._offer12 else ()),
            groups=list(cfg.groups),
            key_shares=[s.group for s in self._shares.values()],
            server_name=self._server_name,
            alpn=list(cfg.alpn_protocols),
            post_handshake_auth=EXT_POST_HANDSHAKE_AUTH in self._offered_exts,
            retry=self._hrr_seen,
            resumption=self._offer is not None,
        )
        self.state = State.WAIT_SH

    # ------------------------------------------------------------------ WAIT_SH

    def _handle_server_hello(self, raw: bytes, events: list[Event]) -> None:
        hello = decode_server_hello(raw)
        if hello.random == TLS_1_3_HRR:
            self._handle_hello_retry_request(hello, raw)
            return
        if self._server_chose_tls12(hello):  # the ServerHello's version picks the machine
            self._handle_server_hello12(raw, events, hello)
            return
        exts = extensions_by_type(
            hello,
            frozenset({EXT_SUPPORTED_VERSIONS, EXT_KEY_SHARE, EXT_PRE_SHARED_KEY}),
            "ServerHello",
            self.state.value,
            tls13=True,
        )
        suite = self._check_hello_common(hello, exts, "ServerHello")
        resumed = self._accepted_psk(exts.get(EXT_PRE_SHARED_KEY), suite)
        key_share = exts.get(EXT_KEY_SHARE)
        entry = getattr(key_share, "server_share", None)
        if entry is None or entry.group not in self._shares:
            raise fatal(
                "illegal_parameter",
                "ServerHello key_share is missing or names a group we sent no share for",
                state=self.state.value,
            )
        if self._hrr_suite is not None and suite.code != self._hrr_suite:
            raise fatal("illegal_parameter", "ServerHello cipher suite differs from the HRR's")
        # hash
        if not self._hrr_seen:
            self._hs.start(suite.hash_name)
        self._hs.update(raw)
        # act
        share = self._shares[entry.group]
        shared = share.exchange(bytes(entry.key_exchange))
        self._suite = suite
        self._schedule = KeySchedule(suite, resumed.psk if resumed is not None else None)
        if resumed is not None:
            self._resume(resumed)
        client_secret, server_secret = self._schedule.handshake(shared, self._hs.digest())
        self._client_hs_secret = client_secret
        self._server_hs_secret = server_secret
        self._log_secret("CLIENT_HANDSHAKE_TRAFFIC_SECRET", client_secret)
        self._log_secret("SERVER_HANDSHAKE_TRAFFIC_SECRET", server_secret)
        self._set_read_keys(suite, server_secret)
        self._set_write_keys(suite, client_secret)
        self._shares = {}
        self.version = "TLSv1.3"
        self.cipher = suite.name
        self._trace(
            "in",
            "ServerHello",
            version="TLSv1.3",
            cipher=suite.name,
            group=share.group,
            resumed=self.session_reused,
        )
        # transition
        self.state = State.WAIT_EE

    def _check_hello_common(self, hello: Any, exts: dict[int, Any], what: str) -> CipherSuite:
        """Checks shared by ServerHello and HelloRetryRequest (RFC 8446 section 4.1.3)."""
        versions = exts.get(EXT_SUPPORTED_VERSIONS)
        chosen = getattr(versions, "version", None)
        if versions is not None and chosen != TLS13:
            # RFC 8446 4.2.1: a selected_version we did not offer (0x0303, a draft) is
            # illegal_parameter; only a ServerHello without the extension speaks TLS 1.2.
            shown = f"0x{chosen[0]:02x}{chosen[1]:02x}" if isinstance(chosen, tuple) else chosen
            raise fatal(
                "illegal_parameter",
                f"{what} supported_versions selects {shown}, which we did not offer "
                "(RFC 8446 section 4.2.1)",
                state=self.state.value,
            )
        if chosen != TLS13:
            tail = bytes(hello.random[-8:])
            if tail in (TLS_1_2_DOWNGRADE_SENTINEL, TLS_1_1_DOWNGRADE_SENTINEL):
                raise fatal(
                    "illegal_parameter",
                    f"{what} carries a downgrade sentinel: something between us and the "
                    "server removed TLS 1.3 (RFC 8446 section 4.1.3)",
                    state=self.state.value,
                )
            # only a HelloRetryRequest gets here: a ServerHello without supported_versions
            # went to the TLS 1.2 machine
            raise fatal(
                "protocol_version",
                f"{what} lacks supported_versions, which a TLS 1.3 server must send "
                "(RFC 8446 section 4.1.4)",
                state=self.state.value,
            )
        if not self._offer13:
            raise fatal(
                "protocol_version",
                f"server chose TLS 1.3, but maximum_version is {self.config.max_version}",
                state=self.state.value,
            )
        if hello.server_version != (3, 3):
            raise fatal("illegal_parameter", f"{what} legacy_version is not 0x0303")
        if bytes(hello.session_id) != self._session_id:
            raise fatal("illegal_parameter", f"{what} does not echo our legacy_session_id")
        if hello.compression_method != 0:
            raise fatal("illegal_parameter", f"{what} picks a compression method")
        offered = {CIPHER_SUITES[s].code: CIPHER_SUITES[s] for s in self.config.cipher_suites}
        if hello.cipher_suite not in offered:
            raise fatal(
                "illegal_parameter",
                f"{what} picks cipher suite 0x{hello.cipher_suite:04x}, which we did not offer",
                state=self.state.value,
            )
        return offered[hello.cipher_suite]

    def _handle_hello_retry_request(self, hello: Any, raw: bytes) -> None:
        if self._hrr_seen:
            raise fatal("unexpected_message", "a second HelloRetryRequest (RFC 8446 4.1.4)")
        exts = extensions_by_type(
            hello,
            frozenset({EXT_SUPPORTED_VERSIONS, EXT_KEY_SHARE, EXT_COOKIE}),
            "HelloRetryRequest",
            self.state.value,
            tls13=True,
        )
        suite = self._check_hello_common(hello, exts, "HelloRetryRequest")
        if self._offer is not None and self._offer.hash_name != suite.hash_name:
            self._offer = None  # RFC 8446 4.1.4: offer no PSK the chosen suite cannot use
        group = getattr(exts.get(EXT_KEY_SHARE), "selected_group", None)
        cookie = getattr(exts.get(EXT_COOKIE), "cookie", None)
        if group is not None:
            name = GROUP_NAMES.get(group)
            if name not in self.config.groups or group in self._shares:
                raise fatal(
                    "illegal_parameter",
                    f"HelloRetryRequest asks for group 0x{group:04x}, which we did not offer "
                    "or already sent a share for",
                )
        if group is None and cookie is None:
            raise fatal("illegal_parameter", "HelloRetryRequest would not change the ClientHello")
        # hash: ClientHello1 becomes message_hash, then the HRR itself
        self._hs.restart_after_hrr(suite.hash_name)
        self._hs.update(raw)
        # act
        self._hrr_seen = True
        self._hrr_suite = suite.code
        self._cookie = bytes(cookie) if cookie is not None else None
        if group is not None:
            share = KeyShare(GROUP_NAMES[group], seed=self.config.seed)
            self._shares = {share.code: share}
        self._trace(
            "in",
            "HelloRetryRequest",
            cipher=suite.name,
            group=GROUP_NAMES.get(group) if group is not None else None,
            cookie=cookie is not None,
        )
        self._send_change_cipher_spec()
        # transition (back to WAIT_SH via a second ClientHello)
        self._send_client_hello()

    # ------------------------------------------------------------------ WAIT_EE

    def _handle_encrypted_extensions(self, raw: bytes, events: list[Event]) -> None:
        allowed = frozenset({EXT_SERVER_NAME, EXT_SUPPORTED_GROUPS, EXT_ALPN} & self._offered_exts)
        raw_exts = checked_extensions(raw, "EncryptedExtensions", allowed, self.state.value)
        if any(t == EXT_SERVER_NAME and data for t, data in raw_exts):  # RFC 6066 3: SHALL be
            raise fatal(  # empty; BoringSSL sends decode_error
                "decode_error",
                "EncryptedExtensions server_name acknowledgement is not empty",
                state=self.state.value,
                error=DecodeError,
            )
        message = decode_encrypted_extensions(raw)
        exts = extensions_by_type(message, allowed, "EncryptedExtensions", self.state.value)
        self._hs.update(raw)
        self._accept_alpn(exts.get(EXT_ALPN))
        self._trace("in", "EncryptedExtensions", alpn=self.alpn_protocol, extensions=sorted(exts))
        # a resumed handshake authenticates both sides by the PSK: no certificates follow
        self.state = State.WAIT_FINISHED if self.session_reused else State.WAIT_CERT_CR

    def _accept_alpn(self, alpn: Any) -> None:
        """The server's ALPN answer (EncryptedExtensions, or a TLS 1.2 ServerHello)."""
        if alpn is None:
            return
        names = alpn.protocol_names or []
        if len(names) != 1:
            raise fatal("illegal_parameter", "ALPN answer must name exactly one protocol")
        chosen = bytes(names[0]).decode("ascii", "replace")
        if chosen not in self.config.alpn_protocols:
            raise fatal("illegal_parameter", f"server picked ALPN {chosen!r}, not offered")
        self.alpn_protocol = chosen

    # ------------------------------------------------------------------ WAIT_CERT_CR

    def _handle_certificate_request(self, raw: bytes, events: list[Event]) -> None:
        post_handshake = self.state is State.CONNECTED
        checked_extensions(raw, "CertificateRequest", None, self.state.value)
        message = decode_certificate_request13(raw)
        context = bytes(message.certificate_request_context)
        if post_handshake and not context:
            raise fatal("illegal_parameter", "post-handshake CertificateRequest needs a context")
        if not post_handshake and context:
            raise fatal("illegal_parameter", "CertificateRequest context must be empty here")
        info = _request_info(raw, self.state.value, post_handshake, self._server_name)
        self.certificate_request = info
        if self.config.trace:
            self._trace(
                "in",
                "CertificateRequest",
                post_handshake=post_handshake,
                certificate_authorities=[n.rfc4514_string() for n in info.certificate_authorities],
                signature_schemes=list(info.signature_schemes),
                signature_schemes_cert=None
                if info.signature_schemes_cert is None
                else list(info.signature_schemes_cert),
                oid_filters=[oid for oid, _ in info.oid_filters],
            )
        if post_handshake:
            self._answer_post_handshake_request(raw, info, context, events)
            return
        self._hs.update(raw)
        self._cert_request_context = context
        self.state = State.WAIT_CERT

    # ------------------------------------------------------------------ WAIT_CERT

    def _handle_certificate(self, raw: bytes, events: list[Event]) -> None:
        context, entries = decode_certificate13_entries(raw)
        check_certificate_entries(entries, self.state.value)
        ders = [der for der, _ in entries]
        if context:
            raise fatal("decode_error", "server Certificate has a non-empty request context")
        if not ders:
            raise fatal(
                "decode_error",
                "server sent an empty Certificate (RFC 8446 section 4.4.2.4)",
                error=DecodeError,
            )
        self._load_server_leaf(ders)
        self._hs.update(raw)
        self.state = State.WAIT_CV

    def _load_server_leaf(self, ders: list[bytes]) -> None:
        """Keep the chain and the leaf's public key (TLS 1.2 and 1.3); trace the leaf."""
        try:  # parsed once per distinct leaf; errors are still ours to translate
            leaf = server_leaf(ders[0])
        except Exception as exc:  # ValueError, KeyError, UnsupportedAlgorithm, ...
            raise fatal(
                "bad_certificate",
                f"server certificate does not parse: {exc or type(exc).__name__}",
                error=CertificateVerificationError,
            ) from None
        if not leaf.signing_allowed:
            raise fatal(
                "illegal_parameter",
                f"server certificate {leaf.subject} has a KeyUsage without digitalSignature, "
                "so its key may not sign the handshake (RFC 8446 4.4.2.2, RFC 5246 7.4.2)",
                error=CertificateVerificationError,
            )
        self._server_public_key = leaf.public_key
        self.peer_certificates = ders
        self._trace(
            "in", "Certificate", chain_length=len(ders), subject=leaf.subject, issuer=leaf.issuer
        )

    # ------------------------------------------------------------------ WAIT_CV

    def _handle_certificate_verify(self, raw: bytes, events: list[Event]) -> None:
        message = decode_certificate_verify13(raw)
        hi, lo = message.signatureAlgorithm
        scheme = scheme_name(hi << 8 | lo)
        if scheme not in self.config.signature_schemes or scheme not in CV_SCHEMES:
            raise fatal(
                "illegal_parameter",
                f"server signed with {scheme}, which we did not offer for CertificateVerify",
            )
        content = _SERVER_CV_CONTEXT + self._hs.digest()
        try:
            verify(
                self._server_public_key,
                scheme,
                bytes(message.signature),
                content,
                version="TLSv1.3",
            )
        except (InvalidSignature, IdentityError, ValueError, TypeError):
            raise fatal(
                "decrypt_error",
                f"server CertificateVerify ({scheme}) does not verify with its certificate's key",
                state="WAIT_CV",
            ) from None
        self._hs.update(raw)
        self._trace("in", "CertificateVerify", scheme=scheme)
        self._verify_server_chain()
        self.state = State.WAIT_FINISHED

    def _verify_server_chain(self) -> None:
        """The one verify call (TLS 1.2 and 1.3), after the server proved its key."""
        if self.config.verify_chain is None:
            return
        try:
            self.config.verify_chain(list(self.peer_certificates))
        except CertificateVerificationError as exc:
            exc.send_alert = _verification_alert(exc)
            raise
        except TLSError:
            raise
        except Exception as exc:  # a verifier bug must still end in a TLSError
            raise fatal("internal_error", f"server chain verification failed: {exc!r}") from exc

    # ------------------------------------------------------------------ WAIT_FINISHED

    def _handle_finished(self, raw: bytes, events: list[Event]) -> None:
        assert self._suite is not None and self._schedule is not None
        suite = self._suite
        expected = finished_verify_data(suite.hash_name, self._server_hs_secret, self._hs.digest())
        if len(raw) != 4 + len(expected) or not bytes_eq(raw[4:], expected):
            raise fatal("decrypt_error", "server Finished does not verify", state="WAIT_FINISHED")
        self._hs.update(raw)
        self._trace("in", "Finished")
        client_app, server_app = self._schedule.application(self._hs.digest())
        self._log_secret("CLIENT_TRAFFIC_SECRET_0", client_app)
        self._log_secret("SERVER_TRAFFIC_SECRET_0", server_app)
        self._set_read_keys(suite, server_app)
        # our flight: [Certificate, CertificateVerify,] Finished under handshake keys
        flight: list[bytes] = []
        if self._cert_request_context is not None:
            flight += self._client_certificate_messages(self._cert_request_context, self._hs)
        finished = encode_handshake(
            FINISHED,
            finished_verify_data(suite.hash_name, self._client_hs_secret, self._hs.digest()),
        )
        self._hs.update(finished)
        flight.append(finished)
        self._send_handshake_flight(flight)
        self._trace("out", "Finished")
        self._set_write_keys(suite, client_app)
        self._resumption_master = self._schedule.resumption_master(self._hs.digest())
        self._client_hs_secret = self._server_hs_secret = b""
        self.state = State.CONNECTED
        self.handshake_complete = True
        events.append(
            HandshakeComplete(
                version="TLSv1.3",
                cipher=suite.name,
                alpn_protocol=self.alpn_protocol,
                client_certificate_sent=self.client_identity is not None
                and not self.session_reused,
                session_reused=self.session_reused,
            )
        )

    def _client_certificate_messages(self, context: bytes, transcript: Transcript) -> list[bytes]:
        """Select an identity and build Certificate (+ CertificateVerify), hashing both."""
        identity, scheme = self._select_identity()
        self._answered_certificate_request = True
        ders = chain_der(identity.chain, self.config.send_client_root) if identity else ()
        certificate = encode_certificate13(context, ders)
        transcript.update(certificate)
        messages = [certificate]
        self._trace(
            "out",
            "Certificate",
            empty=identity is None,
            alias=identity.alias if identity else None,
            subject=identity.subject if identity else None,
            chain_length=len(ders),
        )
        if identity is not None and scheme is not None:
            content = _CLIENT_CV_CONTEXT + transcript.digest()
            try:
                signature = sign(identity.private_key, scheme, content)
            except IdentityError as exc:
                raise fatal("internal_error", f"cannot sign CertificateVerify: {exc}") from None
            verify = encode_certificate_verify13(SCHEME_CODES[scheme], signature)
            transcript.update(verify)
            messages.append(verify)
            self._trace("out", "CertificateVerify", scheme=scheme)
        self.client_identity = identity
        return messages

    def _select_identity(self) -> tuple[Identity | None, str | None]:
        """Run selection on the store snapshot; pick a CertificateVerify scheme for the winner."""
        info = self.certificate_request
        try:
            if self.config.select is not None:
                selection = self.config.select(info, self._identities)
            else:
                from ..selection.select import select_identity

                selection = select_identity(info, self._identities, now=self.config.now)
        except TLSError:
            raise
        except Exception as exc:
            raise fatal("internal_error", f"client certificate selection failed: {exc!r}") from exc
        self.selection = selection
        identity = getattr(selection, "identity", None)
        scheme = getattr(selection, "scheme", None)
        offered = list(getattr(info, "signature_schemes", ()) or ())
        version = getattr(info, "version", "TLSv1.3")
        if identity is not None:
            usable = usable_schemes(key_profile(identity.private_key), offered, version)
            if scheme not in usable:
                scheme = usable[0] if usable else None
            if scheme is None:
                identity = None  # nothing it can sign that the server takes: send none
        if self.config.trace:  # verdicts are built lazily: only pay for them when tracing
            self._trace(
                "selection",
                "Selection",
                chosen=identity.alias if identity else None,
                scheme=scheme,
                candidates=_verdict_rows(selection),
            )
        return identity, scheme

    # ------------------------------------------------------------------ CONNECTED

    def _answer_post_handshake_request(
        self, raw: bytes, info: Any, context: bytes, events: list[Event]
    ) -> None:
        if EXT_POST_HANDSHAKE_AUTH not in self._offered_exts:
            raise fatal(
                "unexpected_message",
                "post-handshake CertificateRequest although we did not offer post_handshake_auth",
            )
        if context in self._request_contexts:
            raise fatal(
                "illegal_parameter",
                "post-handshake CertificateRequest repeats a request context (RFC 8446 4.3.2)",
            )
        if len(self._request_contexts) >= MAX_POST_HANDSHAKE_REQUESTS:
            raise fatal(
                "unexpected_message",
                f"more than {MAX_POST_HANDSHAKE_REQUESTS} post-handshake CertificateRequests on "
                "one connection; refusing to keep signing",
            )
        self._request_contexts.add(context)
        if self._write_closed:
            # We sent close_notify: nothing more may go out (RFC 8446 6.1), least of all
            # our identity. Reading goes on, so the request is dropped, not fatal.
            self._trace("in", "CertificateRequestIgnored", reason="we already sent close_notify")
            return
        assert self._suite is not None
        transcript = self._main_transcript.copy()
        transcript.update(raw)
        messages = self._client_certificate_messages(context, transcript)
        finished = encode_handshake(
            FINISHED,
            finished_verify_data(self._suite.hash_name, self._write_secret(), transcript.digest()),
        )
        messages.append(finished)
        self._send_handshake_flight(messages)
        self._trace("out", "Finished", post_handshake=True)
        events.append(PostHandshakeAuthCompleted(self.client_identity is not None))

    def _handle_new_session_ticket(self, raw: bytes, events: list[Event]) -> None:
        raw_exts = checked_extensions(raw, "NewSessionTicket", None, self.state.value)
        if any(t == EXT_EARLY_DATA and len(data) != 4 for t, data in raw_exts):
            raise fatal(  # max_early_data_size is a uint32 (RFC 8446 section 4.2.10)
                "decode_error", "NewSessionTicket early_data is not 4 bytes", error=DecodeError
            )
        message = decode(NewSessionTicket, raw, "NewSessionTicket")
        if message.ticket_lifetime > _MAX_TICKET_LIFETIME:
            raise fatal("illegal_parameter", "ticket lifetime exceeds 7 days (RFC 8446 4.6.1)")
        if not message.ticket:
            raise fatal("decode_error", "NewSessionTicket with an empty ticket", error=DecodeError)
        if message.ticket_lifetime == 0:  # "discarded immediately" (RFC 8446 4.6.1)
            self._trace("in", "NewSessionTicket", lifetime=0, discarded=True)
            return
        self._tickets_received += 1
        if self._tickets_received > MAX_TICKETS_PER_CONNECTION:
            if self._tickets_received == MAX_TICKETS_PER_CONNECTION + 1:  # say so once
                self._trace("in", "NewSessionTicket", discarded=True, reason="too many")
            return
        assert self._schedule is not None and self._suite is not None
        ticket = SessionTicket(
            ticket=bytes(message.ticket),
            lifetime=message.ticket_lifetime,
            age_add=message.ticket_age_add,
            nonce=bytes(message.ticket_nonce),
            cipher=self._suite.name,
            server_name=self._server_name,
            psk=self._schedule.ticket_psk(self._resumption_master, bytes(message.ticket_nonce)),
            alpn_protocol=self.alpn_protocol,
            received_at=self.config.clock() if self.config.clock is not None else None,
            peer_certificates=tuple(self.peer_certificates),
            client_identity=self.client_identity,
        )
        self.session_tickets.append(ticket)
        del self.session_tickets[:-MAX_SESSION_TICKETS]  # keep the newest only
        self._trace("in", "NewSessionTicket", lifetime=ticket.lifetime)
        if self.config.save_session is not None:
            self.config.save_session(ticket)
        events.append(SessionTicketReceived(lifetime=ticket.lifetime, ticket=ticket.ticket))

    # ------------------------------------------------------------------ resumption (PSK)

    def _resumable_session(self) -> SessionTicket | None:
        """``config.session`` if it is a TLS 1.3 ticket this connection may offer, else None.

        Refused (and said so in the trace): no clock to age it, past its lifetime, made
        for another server name (RFC 8446 4.6.1), or no offered suite shares its hash.
        """
        ticket, clock = self.config.session, self.config.clock
        if not isinstance(ticket, SessionTicket):
            return None  # none given, or another version's session
        hashes = {CIPHER_SUITES[s].hash_name for s in self.config.cipher_suites}
        if clock is None or ticket.received_at is None:
            why = "no clock to age the ticket with (ClientConfig.clock)"
        elif not 0 <= clock() - ticket.received_at < ticket.lifetime:
            why = f"the ticket's lifetime of {ticket.lifetime} s is over"
        elif _host_key(ticket.server_name) != _host_key(self._server_name):
            why = "the ticket was issued for another server name"
        elif ticket.hash_name not in hashes:
            why = f"no offered cipher suite uses the ticket's hash ({ticket.hash_name})"
        else:
            return ticket
        self._trace("local", "SessionNotOffered", reason=why)
        return None

    def _psk_extension(self, ticket: SessionTicket) -> tuple[int, bytes]:
        """pre_shared_key naming ``ticket``, with a zero binder for `_sign_psk` to replace."""
        assert self.config.clock is not None and ticket.received_at is not None
        age_ms = int((self.config.clock() - ticket.received_at) * 1000)
        size = CIPHER_SUITES[ticket.cipher].hash_length
        return ext_pre_shared_key([(ticket.ticket, (age_ms + ticket.age_add) % 2**32)], [size])

    def _sign_psk(self, hello: bytes, ticket: SessionTicket) -> bytes:
        """``hello`` (pre_shared_key last) with its binder over the truncated hello.

        RFC 8446 4.2.11.2: the binder covers the transcript up to the binders list (after a
        HelloRetryRequest, message_hash(ClientHello1) and the HRR come first).
        """
        size = CIPHER_SUITES[ticket.cipher].hash_length
        truncated = hello[: -(2 + 1 + size)]  # binders<2>: one binder<1> of ``size`` bytes
        if self._hrr_seen:
            transcript = self._hs.copy()
            transcript.update(truncated)
            truncated_hash = transcript.digest()
        else:
            truncated_hash = transcript_digest(ticket.hash_name, truncated)
        binder = psk_binder(ticket.hash_name, ticket.psk, truncated_hash)
        return truncated + (size + 1).to_bytes(2, "big") + bytes((size,)) + binder

    def _accepted_psk(self, extension: Any, suite: CipherSuite) -> SessionTicket | None:
        """The ticket a ServerHello's pre_shared_key resumes (None: a full handshake).

        It must name our one identity (0) and come with a suite of the ticket's hash.
        """
        if extension is None:
            return None
        selected = getattr(extension, "selected", None)
        if self._offer is None:
            raise fatal("illegal_parameter", "ServerHello accepts a PSK we never offered")
        if selected != 0:
            raise fatal(
                "illegal_parameter",
                f"ServerHello selects PSK identity {selected}; we offered only identity 0",
            )
        if suite.hash_name != self._offer.hash_name:
            raise fatal(
                "illegal_parameter",
                f"ServerHello resumes a {self._offer.hash_name} ticket under {suite.name}",
            )
        return self._offer

    def _resume(self, ticket: SessionTicket) -> None:
        """Take over what the original connection established; nothing here re-sends it."""
        self.session_reused = True
        self.peer_certificates = list(ticket.peer_certificates)
        self.client_identity = ticket.client_identity

    def _log_secret(self, label: str, secret: bytes) -> None:
        """Hand a traffic secret to the user's key log, if they asked for one."""
        keylog = self.config.keylog
        if keylog is not None:
            keylog(label, self._random, secret)

    def _handle_key_update(self, raw: bytes, events: list[Event]) -> None:
        if len(raw) != 5 or raw[4] not in (0, 1):
            raise fatal("illegal_parameter" if len(raw) == 5 else "decode_error", "bad KeyUpdate")
        requested = raw[4] == 1
        self._key_updates_in_a_row += 1
        if self._key_updates_in_a_row > MAX_KEY_UPDATES:
            raise fatal(
                "unexpected_message",
                f"more than {MAX_KEY_UPDATES} KeyUpdates without application data between them",
                state=self.state.value,
            )
        assert self._suite is not None
        self._set_read_keys(
            self._suite, next_traffic_secret(self._suite.hash_name, self._read_secret())
        )
        self._trace("in", "KeyUpdate", update_requested=requested)
        if requested and not self._write_closed:  # after close_notify we owe no answer
            self._send_key_update(False)
        events.append(KeyUpdated(requested=requested))

    def _send_key_update(self, update_requested: bool) -> None:
        assert self._suite is not None
        self._send_handshake_flight([encode_handshake(KEY_UPDATE, bytes((int(update_requested),)))])
        self._set_write_keys(
            self._suite, next_traffic_secret(self._suite.hash_name, self._write_secret())
        )
        self._trace("out", "KeyUpdate", update_requested=update_requested)

    # ------------------------------------------------------------------ dispatch

    def _handle_handshake_message(self, raw: bytes, events: list[Event]) -> bool:
        """Route one message by (state, type); returns True when it changed the read keys."""
        msg_type = raw[0]
        handler_name = _HANDLERS.get((self.state, msg_type))
        if handler_name is None:
            raise unexpected_message(self.state, msg_type, _HANDLERS, MESSAGE_NAMES)
        getattr(self, handler_name)(raw, events)
        if self.state is State.CONNECTED and msg_type == FINISHED:
            self._main_transcript = self._hs
        return msg_type in (SERVER_HELLO, FINISHED, KEY_UPDATE)


def unexpected_message(
    state: State,
    msg_type: int,
    handlers: Mapping[tuple[State, int], str],
    names: Mapping[int, str],
    where: str = "",
) -> TLSError:
    """The error for a message no handler takes in ``state``, naming what would have fitted."""
    expected = ", ".join(names.get(t, str(t)) for (s, t) in handlers if s is state)
    got = names.get(msg_type, f"message type {msg_type}")
    return fatal(
        "unexpected_message",
        f"unexpected {got}{where}; expected {expected or 'nothing'}",
        state=state.value,
    )


_HANDLERS: dict[tuple[State, int], str] = {
    (State.WAIT_SH, SERVER_HELLO): "_handle_server_hello",
    (State.WAIT_EE, ENCRYPTED_EXTENSIONS): "_handle_encrypted_extensions",
    (State.WAIT_CERT_CR, CERTIFICATE_REQUEST): "_handle_certificate_request",
    (State.WAIT_CERT_CR, CERTIFICATE): "_handle_certificate",
    (State.WAIT_CERT, CERTIFICATE): "_handle_certificate",
    (State.WAIT_CV, CERTIFICATE_VERIFY): "_handle_certificate_verify",
    (State.WAIT_FINISHED, FINISHED): "_handle_finished",
    (State.CONNECTED, NEW_SESSION_TICKET): "_handle_new_session_ticket",
    (State.CONNECTED, KEY_UPDATE): "_handle_key_update",
    (State.CONNECTED, CERTIFICATE_REQUEST): "_handle_certificate_request",
}


#: The alert RFC 8446 section 6.2 names for the verify layer's failed rules; every other
#: rule (bad signature, name mismatch, policy, ...) is a bad_certificate.
_VERIFICATION_ALERTS = {
    "expired": "certificate_expired",
    "not-yet-valid": "certificate_expired",
    "unknown-issuer": "unknown_ca",
}


def _verification_alert(exc: CertificateVerificationError) -> str:
    return _VERIFICATION_ALERTS.get(exc.rule or "", "bad_certificate")


@functools.lru_cache(maxsize=64)
def _request_info(
    raw: bytes, state: str, post_handshake: bool, server_name: str | None
) -> CertificateRequestInfo:
    """The CertificateRequestInfo of one CertificateRequest message, decoded once per
    distinct message: a server sends the same request every time, and normalising its CA
    names is the costly part. The info is frozen, so connections may share it."""
    message = decode_certificate_request13(raw)
    return _make_request_info(
        context=bytes(message.certificate_request_context),
        post_handshake=post_handshake,
        server_name=server_name,
        **certificate_request_fields(message, state),
    )


def _make_request_info(**kwargs: Any) -> CertificateRequestInfo:
    """The selection layer's view of a TLS 1.3 CertificateRequest (no certificate_types).

    Whatever the server's CA names or OID filters do to the decoders below us, the result is
    a DecodeError (decode_error alert), never a KeyError or ValueError escaping.
    """
    try:
        return CertificateRequestInfo(version="TLSv1.3", certificate_types=None, **kwargs)
    except TLSError:
        raise
    except Exception as exc:
        raise fatal(
            "decode_error",
            f"CertificateRequest does not decode: {exc!r}",
            error=DecodeError,
        ) from None
