"""The TLS 1.2 client handshake (RFC 5246 with RFC 7627, 5746, 8422, 7905), one handler per message.

Read it top to bottom as RFC 5246 section 7.3's figure, full handshake, client side:

    ClientHello          -> WAIT_SH                           (shared with TLS 1.3)
    ServerHello          -> WAIT_SERVER_CERTIFICATE           _handle_server_hello12
    Certificate          -> WAIT_SERVER_KEY_EXCHANGE          _handle_certificate12
    ServerKeyExchange    -> WAIT_CERTIFICATE_REQUEST_OR_DONE  _handle_server_key_exchange
    CertificateRequest   -> WAIT_SERVER_HELLO_DONE            _handle_certificate_request12
    ServerHelloDone      -> WAIT_CHANGE_CIPHER_SPEC           _handle_server_hello_done
        (we send Certificate, ClientKeyExchange, CertificateVerify, [ChangeCipherSpec], Finished)
    [ChangeCipherSpec]   -> WAIT_FINISHED                     _handle_change_cipher_spec12
    Finished             -> CONNECTED                         _handle_finished12
    HelloRequest (CONNECTED): renegotiate, by the context's policy, back to WAIT_SH

Session tickets (RFC 5077): the ClientHello carries session_ticket (empty, or a ticket from
``config.session``); a NewSessionTicket may come before the server's ChangeCipherSpec. A
ServerHello echoing our session_id resumes: (NewSessionTicket), ChangeCipherSpec, Finished
from the server first, then ours.

Every handler has the four beats of tls13.py: decode, hash, act, transition. Only ECDHE
with AEAD suites exists; extended master secret (RFC 7627) and secure renegotiation
(RFC 5746) are required, so a server without them is refused with a message that says so.
The class is a mixin beside `TLS13Handshake`; ClientConnection supplies the record I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.constant_time import bytes_eq
from tlslite.constants import TLS_1_1_DOWNGRADE_SENTINEL, TLS_1_2_DOWNGRADE_SENTINEL
from tlslite.extensions import (
    ECPointFormatsExtension,
    RenegotiationInfoExtension,
    SessionTicketExtension,
    SignatureAlgorithmsExtension,
    SNIExtension,
    SupportedGroupsExtension,
    TLSExtension,
)
from tlslite.messages import ClientHello, ServerHello

from ..errors import DecodeError, HandshakeError, IdentityError, TLSError
from ..selection.request import CertificateRequestInfo
from ..selection.schemes import scheme_name, sign, verify
from .events import Event, HandshakeComplete, RenegotiationCompleted
from .keyschedule import transcript_digest
from .keyshare import GROUP_NAMES, GROUPS, KeyShare
from .prf import (
    CIPHER_SUITES_12,
    CipherSuite12,
    extended_master_secret,
    finished_verify_data12,
    key_block,
)
from .record import RecordProtection12, fatal
from .tls13 import ConnectionState, HeldSession, State, unexpected_message
from .wire import SCHEME_CODES, chain_der, decode, encode_handshake, extensions_by_type
from .wire12 import (
    decode_certificate12,
    decode_certificate_request12,
    decode_new_session_ticket12,
    decode_server_key_exchange,
    encode_certificate12,
    encode_certificate_verify12,
    encode_client_key_exchange,
)

if TYPE_CHECKING:
    from ..identity.model import Identity

__all__ = ["TLS12Handshake", "RENEGOTIATION_POLICIES", "Session12"]

RENEGOTIATION_POLICIES = ("never", "once", "freely")

# Handshake message types only TLS 1.2 uses (RFC 5246 section 7.4).
HELLO_REQUEST = 0
NEW_SESSION_TICKET = 4
SERVER_KEY_EXCHANGE = 12
SERVER_HELLO_DONE = 14
SERVER_HELLO = 2
CERTIFICATE = 11
CERTIFICATE_REQUEST = 13
FINISHED = 20

MESSAGE_NAMES_12 = {
    HELLO_REQUEST: "HelloRequest",
    SERVER_HELLO: "ServerHello",
    CERTIFICATE: "Certificate",
    SERVER_KEY_EXCHANGE: "ServerKeyExchange",
    CERTIFICATE_REQUEST: "CertificateRequest",
    SERVER_HELLO_DONE: "ServerHelloDone",
    NEW_SESSION_TICKET: "NewSessionTicket",
    FINISHED: "Finished",
}

EXT_SERVER_NAME = 0
EXT_EC_POINT_FORMATS = 11
EXT_ALPN = 16
EXT_EXTENDED_MASTER_SECRET = 23
EXT_SESSION_TICKET = 35
EXT_SUPPORTED_VERSIONS = 43
EXT_RENEGOTIATION_INFO = 0xFF01

#: Groups a TLS 1.2 ServerKeyExchange may name: the hybrid exists only in TLS 1.3.
ECDHE_GROUPS_12 = frozenset({"x25519", "secp256r1", "secp384r1"})
_VERSION_NAMES = {(3, 0): "SSL 3.0", (3, 1): "TLS 1.0", (3, 2): "TLS 1.1", (3, 3): "TLS 1.2"}


#: How long a ticket is offered when the server gives no lifetime hint (RFC 5077 3.3: 0 is
#: "unspecified"), and the most we believe of a hint: OpenSSL's default is 2 hours.
DEFAULT_TICKET_LIFETIME = 7200
MAX_TICKET_LIFETIME = 7 * 24 * 3600


@dataclass
class Session12(HeldSession):
    """A TLS 1.2 session a server sealed into a ticket (RFC 5077), kept in memory only.

    It holds the master secret and what a resumed connection inherits (the server chain
    verified then, the identity we had sent), like the TLS 1.3 `SessionTicket`.
    """

    version: ClassVar[str] = "TLSv1.2"

    ticket: bytes = field(repr=False)
    lifetime: int
    cipher: str
    server_name: str | None
    master_secret: bytes = field(repr=False)
    received_at: float | None = None
    alpn_protocol: str | None = None
    peer_certificates: tuple[bytes, ...] = field(default=(), repr=False)
    client_identity: Identity | None = field(default=None, repr=False)


class TLS12Handshake(ConnectionState):
    """The TLS 1.2 client state machine (mixed into ClientConnection beside TLS13Handshake)."""

    # supplied by ClientConnection / TLS13Handshake
    _ccs_sent: bool
    _server_name: str | None
    _sni: bytes | None
    _alpn: list[bytes]
    _random: bytes
    _session_id: bytes
    _client_hello: bytes
    _shares: dict[int, KeyShare]
    _offered_exts: set[int]
    _offer12: bool
    _offer13: bool
    _server_public_key: Any
    _read: Any
    _write: Any

    if TYPE_CHECKING:  # supplied by ClientConnection and TLS13Handshake (later in the MRO)

        def _send_handshake_flight(self, messages: list[bytes]) -> None: ...

        def _send_change_cipher_spec12(self) -> None: ...

        def _send_alert(self, name: str, level: int = 2) -> None: ...

        def _trace(self, direction: str, message: str, **fields: Any) -> None: ...

        def _load_server_leaf(self, ders: list[bytes]) -> None: ...

        def _verify_server_chain(self) -> None: ...

        def _accept_alpn(self, alpn: Any) -> None: ...

        def _select_identity(self) -> tuple[Identity | None, str | None]: ...

        def _log_secret(self, label: str, secret: bytes) -> None: ...

    # ------------------------------------------------------------------ setup

    def _init_tls12(self) -> None:
        if self.config.renegotiation not in RENEGOTIATION_POLICIES:
            raise HandshakeError(
                f"renegotiation={self.config.renegotiation!r}; use one of "
                f"{', '.join(RENEGOTIATION_POLICIES)}"
            )
        self._messages12 = bytearray()  # handshake messages since the ClientHello
        self._client_verify_data = b""  # RFC 5746: bound into the next renegotiation
        self._server_verify_data = b""
        self._requested12 = False
        self._renegotiations = 0
        self.renegotiation_refused: str | None = None  # why we last refused a HelloRequest
        self._pending_read: RecordProtection12 | None = None
        self._master = b""
        self._ticket_offer: Session12 | None = self._resumable_session12()
        self._resumed12 = False
        self._ticket_expected = False  # the server acknowledged session_ticket
        self._new_ticket: tuple[int, bytes] | None = None  # (lifetime hint, ticket)

    # ------------------------------------------------------------------ ClientHello parts

    def _tls12_client_hello_extensions(self) -> list[Any]:
        """What a ClientHello needs so that a TLS 1.2 server can answer it as we require;
        session_ticket (RFC 5077) only on a first handshake with resumption on."""
        exts = [
            TLSExtension(extType=EXT_EXTENDED_MASTER_SECRET).create(bytearray()),
            ECPointFormatsExtension().create([0]),  # uncompressed only (RFC 8422 5.1.2)
            RenegotiationInfoExtension().create(bytearray(self._renegotiation_binding())),
        ]
        if not self.handshake_complete and self.config.save_session is not None:
            offer = self._ticket_offer
            exts.append(SessionTicketExtension().create(bytearray(offer.ticket if offer else b"")))
        return exts

    def _resumable_session12(self) -> Session12 | None:
        """``config.session`` if it is a TLS 1.2 ticket this connection may offer."""
        session, clock = self.config.session, self.config.clock
        if not isinstance(session, Session12) or not self._offer12:
            return None
        if clock is None or session.expires_at is None or session.expires_at <= clock():
            why = "the TLS 1.2 ticket has expired (or there is no clock to age it)"
        elif session.cipher not in self.config.cipher_suites_12:
            why = f"its cipher suite {session.cipher} is no longer offered"
        elif (session.server_name or "").lower() != (self._server_name or "").lower():
            why = "the ticket was issued for another server name"
        else:
            return session
        self._trace("local", "SessionNotOffered", reason=why)
        return None

    def _renegotiation_binding(self) -> bytes:
        """renegotiated_connection: empty at first, client_verify_data on renegotiation."""
        return self._client_verify_data

    def _server_chose_tls12(self, hello: Any) -> bool:
        """A ServerHello without supported_versions negotiates by its legacy version."""
        return not any(e.extType == EXT_SUPPORTED_VERSIONS for e in hello.extensions or ())

    # ------------------------------------------------------------------ WAIT_SH

    def _handle_server_hello12(self, raw: bytes, events: list[Event], hello: Any = None) -> None:
        if hello is None:
            hello = decode(ServerHello, raw, "ServerHello")
        renegotiating = self.handshake_complete
        self._check_version12(hello, renegotiating)
        suite = self._check_suite12(hello)
        exts = self._check_extensions12(hello)
        resumed = self._resumes(hello, suite, renegotiating)
        # hash
        self._messages12 = bytearray(self._client_hello) + raw
        # act
        self._ccs_sent = True  # TLS 1.3's middlebox CCS never applies from here on
        self._suite12 = suite
        self._server_random = bytes(hello.random)
        self._ticket_expected = EXT_SESSION_TICKET in exts
        if not renegotiating:
            self._accept_alpn(exts.get(EXT_ALPN))
        self.version = "TLSv1.2"
        self.cipher = suite.name
        self._trace(
            "in",
            "ServerHello",
            version="TLSv1.2",
            cipher=suite.name,
            renegotiation=renegotiating,
            resumed=resumed is not None,
        )
        if resumed is not None:  # abbreviated handshake (RFC 5077 3.1, RFC 5246 7.3)
            self._resume12(resumed)
            self.state = State.WAIT_CHANGE_CIPHER_SPEC
            return
        # transition
        self.state = State.WAIT_SERVER_CERTIFICATE

    def _check_extensions12(self, hello: Any) -> dict[int, Any]:
        """Only what we offered; EMS and renegotiation_info required (RFC 7627, 5746)."""
        offered = frozenset(
            {
                EXT_SERVER_NAME,
                EXT_EC_POINT_FORMATS,
                EXT_ALPN,
                EXT_EXTENDED_MASTER_SECRET,
                EXT_RENEGOTIATION_INFO,
                EXT_SESSION_TICKET,
            }
            & self._offered_exts
        )
        exts = extensions_by_type(hello, offered, "ServerHello", self.state.value)
        if EXT_EXTENDED_MASTER_SECRET not in exts:
            raise fatal(
                "handshake_failure",
                "the TLS 1.2 server does not support the extended master secret (RFC 7627), "
                "which tlsengine requires; enable it on the server or use TLS 1.3",
                state=self.state.value,
            )
        self._check_renegotiation_info(exts.get(EXT_RENEGOTIATION_INFO))
        points = exts.get(EXT_EC_POINT_FORMATS)
        if points is not None and 0 not in (points.formats or ()):
            raise fatal("illegal_parameter", "server does not accept uncompressed EC points")
        return exts

    def _resumes(self, hello: Any, suite: CipherSuite12, renegotiating: bool) -> Session12 | None:
        """The ticket session a ServerHello resumes: it echoes our session_id (RFC 5077 3.4)."""
        echoed = bytes(hello.session_id)
        if renegotiating or not echoed or echoed != self._session_id:
            return None
        offer = self._ticket_offer
        if offer is None:
            raise fatal("illegal_parameter", "ServerHello resumes a session we never offered")
        if suite.name != offer.cipher:
            raise fatal(
                "illegal_parameter",
                f"ServerHello resumes a {offer.cipher} session under {suite.name}",
            )
        return offer

    def _resume12(self, session: Session12) -> None:
        """Take over the original connection's master secret, server chain and identity."""
        self._resumed12 = True
        self.session_reused = True
        self._master = session.master_secret
        self._log_secret("CLIENT_RANDOM", self._master)
        self.peer_certificates = list(session.peer_certificates)
        self.client_identity = session.client_identity
        keys = key_block(self._suite12, self._master, self._random, self._server_random)
        self._pending_read = RecordProtection12(self._suite12, keys.server_key, keys.server_iv)

    def _check_version12(self, hello: Any, renegotiating: bool) -> None:
        version = tuple(hello.server_version)
        tail = bytes(hello.random[-8:])
        if (
            self._offer13
            and not renegotiating
            and tail
            in (
                TLS_1_2_DOWNGRADE_SENTINEL,
                TLS_1_1_DOWNGRADE_SENTINEL,
            )
        ):
            raise fatal(
                "illegal_parameter",
                "ServerHello carries a downgrade sentinel: something between us and the server "
                "removed TLS 1.3 (RFC 8446 section 4.1.3)",
                state=self.state.value,
            )
        if version != (3, 3):
            name = _VERSION_NAMES.get(version, f"version {version}")
            raise fatal(
                "protocol_version",
                f"server chose {name}; tlsengine speaks TLS 1.2 and TLS 1.3 only",
                state=self.state.value,
            )
        if not self._offer12:
            raise fatal(
                "protocol_version",
                f"server chose TLS 1.2, but minimum_version is {self.config.min_version}",
                state=self.state.value,
            )
        if hello.compression_method != 0:
            raise fatal("illegal_parameter", "ServerHello picks a compression method")

    def _check_suite12(self, hello: Any) -> CipherSuite12:
        offered = {
            CIPHER_SUITES_12[s].code: CIPHER_SUITES_12[s] for s in self.config.cipher_suites_12
        }
        suite = offered.get(hello.cipher_suite)
        if suite is None:
            raise fatal(
                "illegal_parameter",
                f"ServerHello picks cipher suite 0x{hello.cipher_suite:04x}, which we did not "
                "offer for TLS 1.2",
                state=self.state.value,
            )
        return suite

    def _check_renegotiation_info(self, ext: Any) -> None:
        """RFC 5746 3.4/3.5: present always; empty at first, both verify_data after."""
        if ext is None:
            raise fatal(
                "handshake_failure",
                "the TLS 1.2 server does not support secure renegotiation (RFC 5746 "
                "renegotiation_info), which tlsengine requires",
                state=self.state.value,
            )
        expected = self._client_verify_data + self._server_verify_data
        got = bytes(ext.renegotiated_connection or b"")
        if not bytes_eq(got, expected):
            raise fatal(
                "handshake_failure",
                "ServerHello renegotiation_info does not match the previous handshake "
                "(RFC 5746 section 3.4)",
                state=self.state.value,
            )

    # ------------------------------------------------------------------ WAIT_SERVER_CERTIFICATE

    def _handle_certificate12(self, raw: bytes, events: list[Event]) -> None:
        ders = decode_certificate12(raw)
        if not ders:
            raise fatal(
                "decode_error",
                "server sent an empty Certificate (every suite we offer authenticates it)",
                error=DecodeError,
            )
        if self.handshake_complete and self.peer_certificates[:1] != ders[:1]:
            raise fatal(
                "bad_certificate",
                "the server's certificate changed during renegotiation (refused, as Go and "
                "NSS do: the peer we verified must stay the peer we talk to)",
                state=self.state.value,
            )
        self._messages12 += raw
        self._load_server_leaf(ders)
        self._check_server_key_type()
        self.state = State.WAIT_SERVER_KEY_EXCHANGE

    def _check_server_key_type(self) -> None:
        """ECDHE_ECDSA needs an EC server key, ECDHE_RSA an RSA one (RFC 8422 5.3)."""
        key = self._server_public_key
        auth = self._suite12.auth
        ok = isinstance(key, ec.EllipticCurvePublicKey if auth == "ecdsa" else rsa.RSAPublicKey)
        if not ok:
            raise fatal(
                "unsupported_certificate",
                f"server certificate key ({type(key).__name__}) does not fit {self._suite12.name}",
            )

    # ------------------------------------------------------------------ WAIT_SERVER_KEY_EXCHANGE

    def _handle_server_key_exchange(self, raw: bytes, events: list[Event]) -> None:
        ske = decode_server_key_exchange(raw)
        group = GROUP_NAMES.get(ske.group)
        if group not in ECDHE_GROUPS_12 or group not in self.config.groups:
            raise fatal(
                "illegal_parameter",
                f"ServerKeyExchange uses group 0x{ske.group:04x}, which we did not offer",
            )
        scheme = scheme_name(ske.scheme)
        if scheme not in self.config.signature_schemes:
            raise fatal(
                "illegal_parameter",
                f"server signed its key exchange with {scheme}, which we did not offer",
            )
        signed = self._random + self._server_random + ske.params
        try:
            verify(self._server_public_key, scheme, ske.signature, signed, version="TLSv1.2")
        except (InvalidSignature, IdentityError, ValueError, TypeError):
            raise fatal(
                "decrypt_error",
                f"ServerKeyExchange signature ({scheme}) does not verify with the server "
                "certificate's key",
                state=self.state.value,
            ) from None
        self._messages12 += raw
        self._trace("in", "ServerKeyExchange", group=group, scheme=scheme)
        # the server proved its key: now the chain, before any identity can leave us
        self._verify_server_chain()
        self._server_share = (group, ske.public)
        self.state = State.WAIT_CERTIFICATE_REQUEST_OR_DONE

    # ------------------------------------------------------- WAIT_CERTIFICATE_REQUEST_OR_DONE

    def _handle_certificate_request12(self, raw: bytes, events: list[Event]) -> None:
        request = decode_certificate_request12(raw)
        info = _request_info12(request, self._server_name)
        self._messages12 += raw
        self.certificate_request = info
        self._trace(
            "in",
            "CertificateRequest",
            certificate_types=list(info.certificate_types or ()),
            certificate_authorities=[n.rfc4514_string() for n in info.certificate_authorities],
            signature_schemes=list(info.signature_schemes),
            ignored_schemes=[f"0x{s:04x}" for s in request.signature_schemes if _md5_or_sha1(s)],
        )
        self._requested12 = True
        self.state = State.WAIT_SERVER_HELLO_DONE

    # ------------------------------------------------------------------ WAIT_SERVER_HELLO_DONE

    def _handle_server_hello_done(self, raw: bytes, events: list[Event]) -> None:
        if len(raw) != 4:
            raise fatal("decode_error", "ServerHelloDone has a body", error=DecodeError)
        self._messages12 += raw
        self._trace("in", "ServerHelloDone")
        flight: list[bytes] = []
        identity, scheme = None, None
        if self._requested12:
            identity, scheme = self._select_identity()
            self._answered_certificate_request = True
            flight.append(self._client_certificate12(identity))
        share, premaster = self._key_exchange12()
        flight.append(self._append12(encode_client_key_exchange(share.public)))
        self._trace("out", "ClientKeyExchange", group=share.group)
        suite = self._suite12
        self._master = extended_master_secret(
            suite.hash_name, premaster, transcript_digest(suite.hash_name, bytes(self._messages12))
        )
        self._log_secret("CLIENT_RANDOM", self._master)
        if identity is not None and scheme is not None:
            flight.append(self._certificate_verify12(identity, scheme))
        self.client_identity = identity
        self._send_handshake_flight(flight)
        self._send_client_finished12()
        self.state = State.WAIT_CHANGE_CIPHER_SPEC

    def _append12(self, message: bytes) -> bytes:
        self._messages12 += message
        return message

    def _client_certificate12(self, identity: Identity | None) -> bytes:
        # RFC 5246 7.4.2 lets the self-signed root go, as RFC 8446 4.4.2 does (same option)
        ders = chain_der(identity.chain, self.config.send_client_root) if identity else ()
        self._trace(
            "out",
            "Certificate",
            empty=identity is None,
            alias=identity.alias if identity else None,
            subject=identity.subject if identity else None,
            chain_length=len(ders),
        )
        return self._append12(encode_certificate12(ders))

    def _key_exchange12(self) -> tuple[KeyShare, bytes]:
        """Our ECDHE half in the server's group (reusing the TLS 1.3 share of that group)."""
        group, public = self._server_share
        share = self._shares.get(GROUPS[group]) or KeyShare(group)
        self._shares = {}
        return share, share.exchange(public)

    def _certificate_verify12(self, identity: Identity, scheme: str) -> bytes:
        """Signature over every handshake message so far (RFC 5246 section 7.4.8)."""
        try:
            signature = sign(identity.private_key, scheme, bytes(self._messages12))
        except IdentityError as exc:
            raise fatal("internal_error", f"cannot sign CertificateVerify: {exc}") from None
        self._trace("out", "CertificateVerify", scheme=scheme)
        return self._append12(encode_certificate_verify12(SCHEME_CODES[scheme], signature))

    def _finished_data(self, label: bytes) -> bytes:
        name = self._suite12.hash_name
        return finished_verify_data12(
            name, self._master, label, transcript_digest(name, bytes(self._messages12))
        )

    # ------------------------------------------------------------------ WAIT_CHANGE_CIPHER_SPEC

    def _handle_new_session_ticket12(self, raw: bytes, events: list[Event]) -> None:
        """RFC 5077 3.3: only after a ServerHello that acknowledged session_ticket."""
        if not self._ticket_expected or self._new_ticket is not None:
            raise fatal("unexpected_message", "NewSessionTicket the server did not announce")
        lifetime, ticket = decode_new_session_ticket12(raw)
        self._messages12 += raw
        self._trace("in", "NewSessionTicket", lifetime=lifetime, empty=not ticket)
        if ticket:  # an empty ticket: the server decided not to issue one after all
            self._new_ticket = (lifetime, ticket)

    def _handle_change_cipher_spec12(self) -> None:
        if self.state is not State.WAIT_CHANGE_CIPHER_SPEC:
            raise fatal(
                "unexpected_message",
                f"ChangeCipherSpec in state {self.state.value}",
                state=self.state.value,
            )
        if self._pending_read is None:
            raise fatal("unexpected_message", "ChangeCipherSpec before our key exchange")
        self._read, self._pending_read = self._pending_read, None
        self._trace("in", "ChangeCipherSpec")
        self.state = State.WAIT_FINISHED

    # ------------------------------------------------------------------ WAIT_FINISHED

    def _handle_finished12(self, raw: bytes, events: list[Event]) -> None:
        expected = self._finished_data(b"server finished")
        if len(raw) != 4 + len(expected) or not bytes_eq(raw[4:], expected):
            raise fatal("decrypt_error", "server Finished does not verify", state="WAIT_FINISHED")
        self._messages12 += raw
        self._trace("in", "Finished")
        self._server_verify_data = expected
        if self._resumed12:  # abbreviated: the server finished first, our CCS + Finished now
            self._send_client_finished12()
        self._save_session12()
        renegotiated = self.handshake_complete
        self._messages12 = bytearray()
        self._master = b""
        self._requested12 = False
        self._ticket_expected = False
        self.state = State.CONNECTED
        self.handshake_complete = True
        sent = self.client_identity is not None
        if renegotiated:
            events.append(RenegotiationCompleted(client_certificate_sent=sent))
            return
        events.append(
            HandshakeComplete(
                version="TLSv1.2",
                cipher=self._suite12.name,
                alpn_protocol=self.alpn_protocol,
                client_certificate_sent=sent and not self._resumed12,
                session_reused=self._resumed12,
            )
        )

    def _send_client_finished12(self) -> None:
        """Our ChangeCipherSpec and Finished: after our flight, or after the server's
        Finished when resuming. The server's keys wait for its ChangeCipherSpec."""
        suite = self._suite12
        keys = key_block(suite, self._master, self._random, self._server_random)
        if not self._resumed12:
            self._pending_read = RecordProtection12(suite, keys.server_key, keys.server_iv)
        self._send_change_cipher_spec12()
        self._write = RecordProtection12(suite, keys.client_key, keys.client_iv)
        verify_data = self._finished_data(b"client finished")
        self._send_handshake_flight([self._append12(encode_handshake(FINISHED, verify_data))])
        self._client_verify_data = verify_data
        self._trace("out", "Finished")

    def _save_session12(self) -> None:
        """Hand a ticket received in this handshake to the context's session cache.

        A resumed session the server did not renew (OpenSSL renews only when its ticket
        key rotated) goes back as it was: RFC 5077 lets a client reuse a ticket, and
        otherwise every other connection would be a full handshake.
        """
        if self._new_ticket is None:
            offer = self._ticket_offer
            if self._resumed12 and offer is not None and self.config.save_session is not None:
                self.session_tickets[:] = [offer]
                self.config.save_session(offer)
            return
        hint, ticket = self._new_ticket
        self._new_ticket = None
        clock = self.config.clock
        lifetime = min(hint or DEFAULT_TICKET_LIFETIME, MAX_TICKET_LIFETIME)
        session = Session12(
            ticket=ticket,
            lifetime=lifetime,
            cipher=self._suite12.name,
            server_name=self._server_name,
            master_secret=self._master,
            received_at=clock() if clock is not None else None,
            alpn_protocol=self.alpn_protocol,
            peer_certificates=tuple(self.peer_certificates),
            client_identity=self.client_identity,
        )
        self.session_tickets[:] = [session]  # what TLSSocket.session hands out
        if self.config.save_session is not None:
            self.config.save_session(session)

    # ------------------------------------------------------------------ CONNECTED

    def _handle_hello_request(self, raw: bytes, events: list[Event]) -> None:
        """Answer a server's renegotiation request under ``config.renegotiation``."""
        if len(raw) != 4:
            raise fatal("decode_error", "HelloRequest has a body", error=DecodeError)
        if self.state is not State.CONNECTED:  # "ignored ... while negotiating" (7.4.1.1)
            self._trace("in", "HelloRequest", ignored="a handshake is already under way")
            return
        policy = self.config.renegotiation
        done = self._renegotiations
        refuse = (
            "policy never"
            if policy == "never"
            else "policy once, already renegotiated"
            if policy == "once" and done >= 1
            else "we already sent close_notify"
            if self._write_closed
            else None
        )
        if refuse is not None:
            self._trace("in", "HelloRequest", refused=refuse)
            self.renegotiation_refused = refuse
            if not self._write_closed:
                self._send_alert("no_renegotiation", level=1)
            return
        self._renegotiations = done + 1
        self._trace("in", "HelloRequest", renegotiation=done + 1)
        self._send_client_hello12()

    def _send_client_hello12(self) -> None:
        """A renegotiation ClientHello: TLS 1.2 only, bound to the previous Finished."""
        cfg = self.config
        self._random = bytes(cfg.random(32))
        exts: list[Any] = []
        if self._sni is not None:
            exts.append(SNIExtension().create(bytearray(self._sni)))
        groups = [GROUPS[g] for g in cfg.groups if g in ECDHE_GROUPS_12]
        exts.append(SupportedGroupsExtension().create(groups))
        exts.append(
            SignatureAlgorithmsExtension().create(
                [divmod(SCHEME_CODES[s], 256) for s in cfg.signature_schemes]
            )
        )
        exts += self._tls12_client_hello_extensions()
        self._offered_exts = {e.extType for e in exts}
        hello = ClientHello().create(
            (3, 3),
            bytearray(self._random),
            bytearray(),
            [CIPHER_SUITES_12[s].code for s in cfg.cipher_suites_12],
            extensions=exts,
        )
        self._client_hello = bytes(hello.write())
        self._send_handshake_flight([self._client_hello])
        self.certificate_request = None
        self.selection = None
        self._trace(
            "out", "ClientHello", renegotiation=True, cipher_suites=list(cfg.cipher_suites_12)
        )
        self.state = State.WAIT_SH

    # ------------------------------------------------------------------ dispatch

    def _handle_handshake_message12(self, raw: bytes, events: list[Event]) -> bool:
        """Route one TLS 1.2 message by (state, type); keys change only on ChangeCipherSpec."""
        msg_type = raw[0]
        if msg_type == HELLO_REQUEST:  # not part of the handshake hash (7.4.1.1)
            self._handle_hello_request(raw, events)
            return False
        handler_name = _HANDLERS12.get((self.state, msg_type))
        if handler_name is None:
            raise unexpected_message(
                self.state, msg_type, _HANDLERS12, MESSAGE_NAMES_12, where=" in TLS 1.2"
            )
        getattr(self, handler_name)(raw, events)
        return False


_HANDLERS12: dict[tuple[State, int], str] = {
    (State.WAIT_SH, SERVER_HELLO): "_handle_server_hello12",
    (State.WAIT_SERVER_CERTIFICATE, CERTIFICATE): "_handle_certificate12",
    (State.WAIT_SERVER_KEY_EXCHANGE, SERVER_KEY_EXCHANGE): "_handle_server_key_exchange",
    (State.WAIT_CERTIFICATE_REQUEST_OR_DONE, CERTIFICATE_REQUEST): "_handle_certificate_request12",
    (State.WAIT_CERTIFICATE_REQUEST_OR_DONE, SERVER_HELLO_DONE): "_handle_server_hello_done",
    (State.WAIT_SERVER_HELLO_DONE, SERVER_HELLO_DONE): "_handle_server_hello_done",
    (State.WAIT_CHANGE_CIPHER_SPEC, NEW_SESSION_TICKET): "_handle_new_session_ticket12",
    (State.WAIT_FINISHED, FINISHED): "_handle_finished12",
}


def _md5_or_sha1(code: int) -> bool:
    """An RFC 5246 (hash, signature) pair with hash md5 (1) or sha1 (2)."""
    return code >> 8 in (1, 2)


def _request_info12(request: Any, server_name: str | None) -> CertificateRequestInfo:
    """The selection layer's view of a TLS 1.2 CertificateRequest; bad names -> DecodeError.

    MD5 and SHA-1 pairs are left out: RFC 9155 (updating RFC 5246) says they MUST NOT be
    used for TLS 1.2 signatures, so our CertificateVerify must never pick one.
    """
    try:
        return CertificateRequestInfo(
            version="TLSv1.2",
            certificate_types=list(request.certificate_types),
            certificate_authorities=list(request.certificate_authorities),
            signature_schemes=[s for s in request.signature_schemes if not _md5_or_sha1(s)],
            server_name=server_name,
        )
    except TLSError:
        raise
    except Exception as exc:
        raise fatal(
            "decode_error", f"CertificateRequest does not decode: {exc!r}", error=DecodeError
        ) from None
