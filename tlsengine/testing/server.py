"""`TestServer`: a programmable TLS server for client-certificate tests, on tlslite-ng.

Real servers (OpenSSL, GnuTLS, nginx) decide for themselves what their CertificateRequest
carries. A harness that wants to probe a client's identity selection needs to dictate it:
which CA names (TLS 1.3 extension 47, which tlslite-ng's server never sends), which
``signature_algorithms`` (including code points nobody implements), which
``signature_algorithms_cert``, which groups, and whether a missing certificate is fatal.

How the CertificateRequest is shaped: tlslite-ng builds it inside its monolithic
``handshakeServer`` with no hook. It hands every outgoing handshake message to
``_queue_message`` (TLS 1.3) or ``_sendMsg`` (TLS 1.2) before hashing and writing it, so a
``TLSConnection`` subclass overrides both and rewrites the CertificateRequest there, in place,
before it is serialised. The transcript hash therefore covers exactly what went on the wire.
Incoming messages are observed the same way, through ``_getMsg``, to record what the client
sent (Certificate chain, CertificateVerify scheme, message order). Post-handshake
authentication uses tlslite-ng's own ``request_post_handshake_auth``, whose request passes
through the same ``_sendMsg`` hook and so carries the same CA names and schemes.

tlslite-ng verifies the client's CertificateVerify but not its chain; with ``trusted`` set,
this server checks the chain up to one of those CAs itself and answers with ``unknown_ca``,
as OpenSSL would. With ``require_client_cert``, an empty Certificate earns
``certificate_required``. Both alerts go out after the client's Finished, which is where a
TLS 1.3 client has to expect them.

X25519MLKEM768: tlslite-ng 0.8.2 implements the hybrid groups but takes ML-KEM from the
optional ``kyber-py`` package. ``enable_mlkem()`` plugs `cryptography`'s ML-KEM into
tlslite-ng instead (process-wide, additive: it enables the groups, changes no default). A
server asked for an ML-KEM group calls it.

Only tlslite-ng, `cryptography` and the standard library are used, so a user's harness needs
nothing beyond tlsengine's own dependencies.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar, Literal, Self

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import mlkem
from tlslite import HandshakeSettings, TLSConnection, X509CertChain, parsePEMKey
from tlslite.constants import (
    AlertDescription,
    CipherSuite,
    ExtensionType,
    GroupName,
    HandshakeType,
    SignatureScheme,
)
from tlslite.errors import TLSLocalAlert
from tlslite.extensions import SignatureAlgorithmsCertExtension, TLSExtension
from tlslite.messages import (
    Certificate,
    CertificateRequest,
    CertificateVerify,
    HandshakeMsg,
    ServerHello,
    ServerKeyExchange,
)
from tlslite.utils.codec import Writer

from ..identity.model import PrivateKey

__all__ = [
    "ClientRecord",
    "ResigningServer",
    "TestServer",
    "ThreadedServer",
    "enable_mlkem",
    "scheme_name",
]

_VERSIONS = {"TLSv1.2": (3, 3), "TLSv1.3": (3, 4)}
_VERSION_NAMES = {v: k for k, v in _VERSIONS.items()}
# IANA suite name -> tlslite-ng cipher name (the TLS 1.3 suites and the TLS 1.2 AEADs share it)
_CIPHERS = {
    "TLS_AES_128_GCM_SHA256": "aes128gcm",
    "TLS_AES_256_GCM_SHA384": "aes256gcm",
    "TLS_CHACHA20_POLY1305_SHA256": "chacha20-poly1305",
}
_MLKEM_GROUPS = ("x25519mlkem768", "secp256r1mlkem768", "secp384r1mlkem1024")
_MAX_REQUEST = 65536
# RFC 8446 section 4.2: tlslite-ng 0.8.2 has no constants for these two
CERTIFICATE_AUTHORITIES = 47
OID_FILTERS = 48


def scheme_name(code: tuple[int, int] | int) -> str:
    """RFC 8446 name of a signature scheme, or ``0xHHHH`` for a code point tlslite lacks."""
    pair = code if isinstance(code, tuple) else (code >> 8, code & 0xFF)
    name = SignatureScheme.toRepr(pair)
    return name if name else f"0x{pair[0]:02x}{pair[1]:02x}"


def _scheme_pair(scheme: str | int) -> tuple[int, int]:
    if isinstance(scheme, int):
        if not 0 <= scheme <= 0xFFFF:
            raise ValueError(f"signature scheme code {scheme} is not a 16-bit value")
        return (scheme >> 8, scheme & 0xFF)
    pair = getattr(SignatureScheme, scheme, None)
    if not isinstance(pair, tuple):
        raise ValueError(f"unknown signature scheme {scheme!r}; use an RFC 8446 name or an int")
    return pair


def _name_der(name: x509.Name | x509.Certificate | bytes) -> bytes:
    if isinstance(name, x509.Certificate):
        name = name.subject
    if isinstance(name, x509.Name):
        return name.public_bytes()
    return bytes(name)


def _ca_names_extension(ders: Sequence[bytes]) -> TLSExtension:
    """certificate_authorities (RFC 8446 section 4.2.4): authorities<3..2^16-1> of DNs."""
    inner = Writer()
    for der in ders:
        inner.addVarSeq(bytearray(der), 1, 2)
    outer = Writer()
    outer.addVarSeq(inner.bytes, 1, 2)
    return TLSExtension(extType=CERTIFICATE_AUTHORITIES).create(outer.bytes)


def _oid_content(dotted: str) -> bytes:
    """Content octets of a DER OBJECT IDENTIFIER (what oid_filters carries)."""
    try:
        arcs = [int(a) for a in dotted.split(".")]
        if len(arcs) < 2 or arcs[0] > 2 or min(arcs) < 0:
            raise ValueError
    except ValueError:
        raise ValueError(f"{dotted!r} is not a dotted object identifier") from None
    out = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        while arc := arc >> 7:
            chunk.append(0x80 | (arc & 0x7F))
        out += bytes(reversed(chunk))
    return bytes(out)


OidFilter = x509.ExtensionType | tuple[x509.ObjectIdentifier | str, bytes]


def _oid_filters_extension(filters: Sequence[OidFilter]) -> TLSExtension:
    """oid_filters (RFC 8446 section 4.2.5): OIDFilter filters<0..2^16-1>."""
    inner = Writer()
    for item in filters:
        if isinstance(item, x509.ExtensionType):
            oid, value = item.oid.dotted_string, item.public_bytes()
        else:
            oid = item[0].dotted_string if isinstance(item[0], x509.ObjectIdentifier) else item[0]
            value = item[1]
        inner.addVarSeq(bytearray(_oid_content(oid)), 1, 1)
        inner.addVarSeq(bytearray(value), 1, 2)
    outer = Writer()
    outer.addVarSeq(inner.bytes, 1, 2)
    return TLSExtension(extType=OID_FILTERS).create(outer.bytes)


# --------------------------------------------------------------------------- ML-KEM


_PublicKeyClass = type[mlkem.MLKEM768PublicKey] | type[mlkem.MLKEM1024PublicKey]
_PrivateKeyClass = type[mlkem.MLKEM768PrivateKey] | type[mlkem.MLKEM1024PrivateKey]


class _MLKEM768:
    """The slice of kyber-py's ``ML_KEM_768`` API tlslite-ng calls, on `cryptography`."""

    # Typed for both sizes: _MLKEM1024 swaps in the ML-KEM-1024 classes.
    public_key: ClassVar[_PublicKeyClass] = mlkem.MLKEM768PublicKey
    private_key: ClassVar[_PrivateKeyClass] = mlkem.MLKEM768PrivateKey

    @classmethod
    def keygen(cls) -> tuple[bytes, Any]:
        key = cls.private_key.generate()
        return key.public_key().public_bytes_raw(), key

    @classmethod
    def encaps(cls, ek: bytes) -> tuple[bytes, bytes]:
        return cls.public_key.from_public_bytes(bytes(ek)).encapsulate()

    @staticmethod
    def decaps(dk: Any, ciphertext: bytes) -> bytes:
        return dk.decapsulate(bytes(ciphertext))


class _MLKEM1024(_MLKEM768):
    public_key = mlkem.MLKEM1024PublicKey
    private_key = mlkem.MLKEM1024PrivateKey


_mlkem_lock = threading.Lock()


def enable_mlkem() -> None:
    """Let tlslite-ng negotiate the hybrid ML-KEM groups using `cryptography`'s ML-KEM."""
    from tlslite import handshakesettings, keyexchange

    with _mlkem_lock:
        if getattr(keyexchange, "ML_KEM_AVAILABLE", False):
            return
        keyexchange.ML_KEM_768 = _MLKEM768
        keyexchange.ML_KEM_1024 = _MLKEM1024
        for group in _MLKEM_GROUPS:
            if group not in handshakesettings.ALL_CURVE_NAMES:
                handshakesettings.ALL_CURVE_NAMES.append(group)
        keyexchange.ML_KEM_AVAILABLE = True


# --------------------------------------------------------------------------- records


@dataclass
class ClientRecord:
    """What one client did on one connection, for a test's assertions."""

    peer: tuple[str, int]
    version: str | None = None
    cipher: str | None = None
    group: str | None = None
    handshake_messages: list[str] = field(default_factory=list)  # types received, in order
    certificate_received: bool = False  # a Certificate message arrived (maybe empty)
    chain: list[x509.Certificate] = field(default_factory=list)
    scheme: str | None = None  # the client's CertificateVerify scheme
    offered_schemes: list[str] = field(default_factory=list)  # what our request carried
    post_handshake: bool = False  # a post-handshake CertificateRequest was answered
    accepted: bool = False  # handshake done and our client-certificate policy satisfied
    error: str | None = None  # why not

    @property
    def subjects(self) -> list[str]:
        """RFC 4514 subjects of the client's chain, leaf first."""
        return [c.subject.rfc4514_string() for c in self.chain]

    @property
    def subject(self) -> str | None:
        """RFC 4514 subject of the client's leaf; None when it sent no certificate."""
        return self.subjects[0] if self.chain else None


class _Connection(TLSConnection):
    """tlslite-ng's server, with the CertificateRequest rewritten and the client observed."""

    def __init__(self, sock: socket.socket, server: TestServer, record: ClientRecord) -> None:
        super().__init__(sock)
        self._srv = server
        self._record = record

    def _shape(self, msg: Any) -> None:
        self._shape_fields(msg)
        mutate = getattr(self._srv, "mutate", None)
        if mutate is not None:  # ResigningServer: after our shaping, before the hash
            mutate(msg)

    def _shape_fields(self, msg: Any) -> None:
        if isinstance(msg, CertificateRequest):
            self._srv._shape_request(msg)
            self._record.offered_schemes = [
                scheme_name(s) for s in msg.supported_signature_algs or []
            ]
        elif isinstance(msg, ServerHello):
            share = msg.getExtension(ExtensionType.key_share)
            if share is not None and getattr(share, "server_share", None) is not None:
                self._record.group = _group_name(share.server_share.group)
        elif isinstance(msg, ServerKeyExchange) and getattr(msg, "named_curve", None):
            self._record.group = _group_name(msg.named_curve)

    def _queue_message(self, msg: Any) -> None:
        self._shape(msg)
        super()._queue_message(msg)

    def _sendMsg(  # tlslite-ng's name and signature
        self, msg: Any, randomizeFirstBlock: bool = True, update_hashes: bool = True
    ) -> Iterator[Any]:
        self._shape(msg)
        return super()._sendMsg(msg, randomizeFirstBlock, update_hashes)

    def _getMsg(  # tlslite-ng's name and signature
        self, expectedType: Any, secondaryType: Any = None, constructorType: Any = None
    ) -> Iterator[Any]:
        for result in super()._getMsg(expectedType, secondaryType, constructorType):
            if isinstance(result, HandshakeMsg):
                self._observe(result)
            yield result

    def _observe(self, msg: HandshakeMsg) -> None:
        rec = self._record
        rec.handshake_messages.append(HandshakeType.toStr(msg.handshakeType))
        if isinstance(msg, Certificate):
            rec.certificate_received = True
            chain = msg.cert_chain.x509List if msg.cert_chain else []
            rec.chain = [x509.load_der_x509_certificate(bytes(c.bytes)) for c in chain]
        elif isinstance(msg, CertificateVerify):
            rec.scheme = scheme_name(msg.signatureAlgorithm)

    def send_alert(self, description: int, reason: str) -> None:
        """Fatal alert after the handshake, the way a server rejects a client certificate."""
        try:
            for _ in self._sendError(description, reason):
                pass
        except TLSLocalAlert:
            pass


def _group_name(code: int) -> str:
    return GroupName.toRepr(code) or f"0x{code:04x}"


# --------------------------------------------------------------------------- server


class ThreadedServer:
    """A loopback listener with one thread per connection and records for assertions.

    Subclasses implement ``_serve(sock, peer)`` and call ``_publish(record)`` once the
    connection's handshake has ended either way; tests wait for records with
    ``next_record()``. Stopping is bounded: connections get a second to finish, then their
    sockets are shut down so no thread outlives the test by more than ``timeout``.
    """

    def __init__(self, host: str = "127.0.0.1", timeout: float = 10.0) -> None:
        self.host = host
        self.timeout = timeout
        self.port = 0
        self.records: list[Any] = []
        self._published = threading.Condition()
        self._taken = 0
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._live: set[socket.socket] = set()  # connection sockets still being served
        self._stop = threading.Event()

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind((self.host, 0))
        listener.listen(16)
        listener.settimeout(0.1)  # how often the accept loop looks at the stop flag
        self._listener = listener
        self.port = listener.getsockname()[1]
        name = f"{type(self).__name__}-accept"
        accept = threading.Thread(target=self._accept_loop, name=name, daemon=True)
        accept.start()
        self._threads.append(accept)

    def stop(self) -> None:
        """Stop accepting; give connections a second to finish, then cut them off."""
        self._stop.set()
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept() on Linux
            except OSError:
                pass
        deadline = time.monotonic() + 1.0
        for t in list(self._threads):
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        for sock in list(self._live):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in list(self._threads):
            t.join(timeout=self.timeout)
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def next_record(self, timeout: float = 10.0) -> Any:
        """The oldest record not yet taken, waiting until that connection's handshake ends."""
        with self._published:
            if not self._published.wait_for(lambda: len(self.records) > self._taken, timeout):
                raise TimeoutError(f"no TLS connection finished within {timeout} s")
            self._taken += 1
            return self.records[self._taken - 1]

    def _publish(self, record: Any) -> None:
        with self._published:
            self.records.append(record)
            self._published.notify_all()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                sock, peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._handle, args=(sock, peer), daemon=True)
            t.start()
            self._threads.append(t)

    def _handle(self, sock: socket.socket, peer: tuple[str, int]) -> None:
        self._live.add(sock)
        sock.settimeout(self.timeout)
        try:
            self._serve(sock, peer)
        finally:
            self._live.discard(sock)
            sock.close()

    def _serve(self, sock: socket.socket, peer: tuple[str, int]) -> None:
        raise NotImplementedError


class TestServer(ThreadedServer):
    """A TLS server on 127.0.0.1 whose CertificateRequest a test controls.

    Use as a context manager; ``port`` is set on entry. Each connection's ``ClientRecord``
    lands in ``records`` and can be awaited with ``next_record()``. After the handshake the
    server either answers one HTTP request (``app="http"``, the body names the client's
    subject) or echoes until the client closes (``app="echo"``), then sends close_notify.

    Client authentication: ``request_client_cert`` asks in the handshake and accepts an
    empty answer; ``require_client_cert`` rejects one (``certificate_required``);
    ``trusted`` CAs are checked (``unknown_ca``); ``post_handshake_auth`` asks after the
    HTTP request instead (TLS 1.3 post-handshake authentication), before answering it.
    The request carries ``ca_names`` (extension 47 in TLS 1.3, the CA list in TLS 1.2),
    ``signature_schemes`` (names or raw code points), ``signature_schemes_cert``,
    ``oid_filters`` (extension values such as ``x509.ExtendedKeyUsage([...])``) and any
    ``extra_request_extensions`` verbatim. A client that signs with a scheme outside
    ``signature_schemes`` gets ``illegal_parameter``.
    """

    __test__ = False  # not a pytest test class despite the name

    def __init__(
        self,
        cert_chain: Sequence[x509.Certificate],
        key: PrivateKey,
        *,
        request_client_cert: bool = False,
        require_client_cert: bool = False,
        trusted: Sequence[x509.Certificate] | None = None,
        ca_names: Sequence[x509.Name | x509.Certificate | bytes] | None = None,
        signature_schemes: Sequence[str | int] | None = None,
        signature_schemes_cert: Sequence[str | int] | None = None,
        oid_filters: Sequence[OidFilter] = (),
        extra_request_extensions: Sequence[tuple[int, bytes]] = (),
        post_handshake_auth: bool = False,
        groups: Sequence[str] | None = None,
        cipher_suites: Sequence[str] | None = None,
        versions: Sequence[Literal["TLSv1.2", "TLSv1.3"]] = ("TLSv1.3",),
        app: Literal["http", "echo"] = "http",
        host: str = "127.0.0.1",
        timeout: float = 10.0,
    ) -> None:
        super().__init__(host, timeout)
        if not cert_chain:
            raise ValueError("cert_chain needs at least the server's leaf certificate")
        # in-handshake request, unless the certificate is to be asked for after it
        self.request_client_cert = (request_client_cert or require_client_cert) and not (
            post_handshake_auth
        )
        self.require_client_cert = require_client_cert
        self.trusted = list(trusted or [])
        self.ca_names = [_name_der(n) for n in ca_names] if ca_names is not None else None
        self.signature_schemes = (
            [_scheme_pair(s) for s in signature_schemes] if signature_schemes else None
        )
        self.signature_schemes_cert = (
            [_scheme_pair(s) for s in signature_schemes_cert] if signature_schemes_cert else None
        )
        self.oid_filters = list(oid_filters)
        _oid_filters_extension(self.oid_filters)  # bad OIDs fail here, not mid-handshake
        self.extra_request_extensions = list(extra_request_extensions)
        if post_handshake_auth and app != "http":
            raise ValueError("post_handshake_auth needs app='http' (it asks after the request)")
        self.post_handshake_auth = post_handshake_auth
        self.app = app
        self._settings = self._make_settings(groups, cipher_suites, versions)
        pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in cert_chain)
        self._chain = X509CertChain()
        self._chain.parsePemList(pem.decode("ascii"))
        self._key = _tlslite_key(key)

    # ------------------------------------------------------------ configuration

    @staticmethod
    def _make_settings(
        groups: Sequence[str] | None,
        cipher_suites: Sequence[str] | None,
        versions: Sequence[str],
    ) -> HandshakeSettings:
        settings = HandshakeSettings()
        try:
            pairs = sorted(_VERSIONS[v] for v in versions)
        except KeyError as exc:
            raise ValueError(f"unknown TLS version {exc.args[0]!r}; use TLSv1.2/TLSv1.3") from exc
        if not pairs:
            raise ValueError("versions must name at least one TLS version")
        settings.minVersion, settings.maxVersion = pairs[0], pairs[-1]
        if cipher_suites:
            try:
                settings.cipherNames = [_CIPHERS[s] for s in cipher_suites]
            except KeyError as exc:
                raise ValueError(
                    f"unknown cipher suite {exc.args[0]!r}; use one of {', '.join(_CIPHERS)}"
                ) from exc
        else:
            settings.cipherNames = list(_CIPHERS.values())
        if groups:
            if any(g in _MLKEM_GROUPS for g in groups):
                enable_mlkem()
            settings.eccCurves = list(groups)
            settings.keyShares = list(groups)
            settings.dhGroups = []
        try:
            return settings.validate()
        except ValueError as exc:
            raise ValueError(f"tlslite-ng refuses these settings: {exc}") from exc

    def _shape_request(self, msg: CertificateRequest) -> None:
        """Rewrite tlslite-ng's CertificateRequest with what this test asked for."""
        if self.signature_schemes is not None:
            msg.supported_signature_algs = list(self.signature_schemes)
        if msg.version >= (3, 4):
            exts = msg.extensions or []
            drop = {CERTIFICATE_AUTHORITIES, OID_FILTERS, ExtensionType.signature_algorithms_cert}
            drop |= {t for t, _ in self.extra_request_extensions}
            exts = [e for e in exts if e.extType not in drop]
            if self.ca_names:
                exts.append(_ca_names_extension(self.ca_names))
            if self.oid_filters:
                exts.append(_oid_filters_extension(self.oid_filters))
            if self.signature_schemes_cert is not None:
                exts.append(SignatureAlgorithmsCertExtension().create(self.signature_schemes_cert))
            for ext_type, data in self.extra_request_extensions:
                exts.append(TLSExtension(extType=ext_type).create(bytearray(data)))
            msg.extensions = exts
        elif self.ca_names is not None:
            msg.certificate_authorities = [bytearray(d) for d in self.ca_names]

    # ------------------------------------------------------------ records

    def next_record(self, timeout: float = 10.0) -> ClientRecord:
        return super().next_record(timeout)

    @property
    def client_subjects(self) -> list[str]:
        """Subjects of the chain the latest client sent (waits for a first connection)."""
        with self._published:
            if not self._published.wait_for(lambda: bool(self.records), self.timeout):
                raise TimeoutError(f"no TLS connection finished within {self.timeout} s")
            return self.records[-1].subjects

    # ------------------------------------------------------------ per connection

    def _serve(self, sock: socket.socket, peer: tuple[str, int]) -> None:
        record = ClientRecord(peer=peer)
        conn = _Connection(sock, self, record)
        request: bytes | None = None
        try:
            self._handshake(conn, record)
            if record.accepted and self.app == "http":
                request = self._read_request(conn)
                if self.post_handshake_auth:
                    self._post_handshake_auth(conn, record)
        except Exception as exc:  # every failure is data for the test
            record.accepted = False
            record.error = record.error or f"{type(exc).__name__}: {exc}"
        finally:
            self._publish(record)
        try:
            if record.accepted:
                self._respond(conn, record, request)
        except Exception:  # the client may close as it likes; the record stands
            pass

    def _handshake(self, conn: _Connection, record: ClientRecord) -> None:
        try:
            conn.handshakeServer(
                certChain=self._chain,
                privateKey=self._key,
                reqCert=self.request_client_cert,
                reqCAs=self._tls12_ca_list(),
                settings=self._settings,
                # HTTP clients (urllib3, curl) offer ALPN; tlslite-ng's TLS 1.3 server fails
                # on an offer when it was given no list, so the HTTP app names its protocol
                alpn=[bytearray(b"http/1.1")] if self.app == "http" else None,
            )
        except Exception as exc:  # every failure is data for the test
            record.error = f"{type(exc).__name__}: {exc}"
            return
        record.version = _VERSION_NAMES.get(tuple(conn.version), str(conn.version))
        record.cipher = CipherSuite.ietfNames.get(conn.session.cipherSuite)
        # with post_handshake_auth the certificate is judged once it has been asked for
        verdict = None if self.post_handshake_auth else self._judge(record)
        if verdict is None:
            record.accepted = True
            return
        description, reason = verdict
        record.error = f"{AlertDescription.toStr(description)}: {reason}"
        conn.send_alert(description, reason)

    def _tls12_ca_list(self) -> list[bytearray] | None:
        """TLS 1.2 carries CA names in the request itself (tlslite-ng refuses them unasked)."""
        if not self.request_client_cert or not self.ca_names:
            return None
        return [bytearray(d) for d in self.ca_names]

    def _judge(self, record: ClientRecord) -> tuple[int, str] | None:
        """Our client-certificate policy: None to accept, else (alert, reason)."""
        if not record.chain:
            if self.require_client_cert:
                if record.version == "TLSv1.3":
                    return AlertDescription.certificate_required, "no client certificate"
                return AlertDescription.handshake_failure, "no client certificate"
            return None
        if self.signature_schemes is not None and record.scheme is not None:
            offered = {scheme_name(s) for s in self.signature_schemes}
            if record.scheme not in offered:
                return AlertDescription.illegal_parameter, f"{record.scheme} was not offered"
        if self.trusted and not _chains_to(record.chain, self.trusted):
            return AlertDescription.unknown_ca, "client chain does not reach a trusted CA"
        return None

    def _post_handshake_auth(self, conn: _Connection, record: ClientRecord) -> None:
        """TLS 1.3 post-handshake CertificateRequest; waits for the client's answer."""
        if record.version != "TLSv1.3" or not conn._pha_supported:
            record.accepted = False
            record.error = "client did not offer post_handshake_auth"
            return
        conn.client_cert_required = self.require_client_cert
        seen = record.handshake_messages.count("finished")
        for _ in conn.request_post_handshake_auth(self._settings):
            pass
        while record.handshake_messages.count("finished") == seen and not conn.closed:
            conn.read(max=None, min=0)
        record.post_handshake = True
        verdict = self._judge(record)
        if verdict is not None:
            record.accepted = False
            description, reason = verdict
            record.error = f"{AlertDescription.toStr(description)}: {reason}"
            conn.send_alert(description, reason)

    @staticmethod
    def _read_request(conn: _Connection) -> bytes:
        request = b""
        while b"\r\n\r\n" not in request and len(request) < _MAX_REQUEST:
            chunk = conn.read(max=16384)
            if not chunk:
                break
            request += bytes(chunk)
        return request

    def _respond(self, conn: _Connection, record: ClientRecord, request: bytes | None) -> None:
        if self.app == "echo":
            while data := conn.read(max=16384):
                conn.write(data)
        else:
            body = (record.subject or "no client certificate").encode() + b"\n"
            head = (
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            conn.write(head.encode() + body)
        conn.close()


def _chains_to(chain: Sequence[x509.Certificate], trusted: Sequence[x509.Certificate]) -> bool:
    """Whether the chain, followed up from the leaf, reaches a trusted CA by valid signatures."""
    for i, cert in enumerate(chain):
        if cert in trusted or any(_issued_by(cert, anchor) for anchor in trusted):
            return True
        if i + 1 == len(chain) or not _issued_by(cert, chain[i + 1]):
            return False
    return False


def _issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _tlslite_key(key: PrivateKey) -> Any:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return parsePEMKey(pem.decode("ascii"), private=True)


class ResigningServer(TestServer):
    """A `TestServer` that hands every outgoing handshake message (a tlslite-ng object)
    to ``mutate(msg)`` to edit in place, *before* it is hashed: tlslite-ng then signs its
    CertificateVerify and MACs its Finished over the edited messages, so a hostile
    CertificateRequest is authentic and reaches the client's selection live.

    ``mutate`` sees ServerHello, EncryptedExtensions, CertificateRequest, Certificate, ...
    in order; it should leave alone what it does not mean to change.
    """

    def __init__(
        self,
        cert_chain: Sequence[x509.Certificate],
        key: PrivateKey,
        *,
        mutate: Callable[[Any], None],
        **kwargs: Any,
    ) -> None:
        super().__init__(cert_chain, key, **kwargs)
        self.mutate = mutate
