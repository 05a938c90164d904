"""PKCS#12 (RFC 7292) loading that keeps every identity, and a small encoder.

OpenSSL, pyOpenSSL and `cryptography` return only the first private key of a PFX, but Java
keystores routinely hold several, and the handshake must be able to choose among them. So
the PFX is walked here: every ContentInfo (plain or password-encrypted), every SafeBag
(keys, shrouded keys, certificates, nested SafeContents), then keys are paired with their
certificates and each chain is rebuilt from the other certificates in the file.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NoReturn

from cryptography import x509
from cryptography.exceptions import InternalError, InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from ..errors import (
    IdentityError,
    IdentityMismatchError,
    PKCS12FormatError,
    PKCS12PasswordError,
    UnsupportedKeyError,
)
from . import der, pbe
from .model import Identity, PrivateKey, private_key_of, public_key_der
from .sources import Source, read_pkcs12

DATA = "1.2.840.113549.1.7.1"
SIGNED_DATA = "1.2.840.113549.1.7.2"
ENVELOPED_DATA = "1.2.840.113549.1.7.3"
ENCRYPTED_DATA = "1.2.840.113549.1.7.6"

_BAG = "1.2.840.113549.1.12.10.1."
KEY_BAG = _BAG + "1"
SHROUDED_KEY_BAG = _BAG + "2"
CERT_BAG = _BAG + "3"
CRL_BAG = _BAG + "4"
SECRET_BAG = _BAG + "5"
SAFE_CONTENTS_BAG = _BAG + "6"

X509_CERTIFICATE = "1.2.840.113549.1.9.22.1"
FRIENDLY_NAME = "1.2.840.113549.1.9.20"
LOCAL_KEY_ID = "1.2.840.113549.1.9.21"

#: Longest chain we will assemble; real ones have 2-4 certificates.
MAX_CHAIN = 16

_SAFE_LABEL = "encrypted certificate safe (EncryptedData)"


@dataclass(frozen=True)
class PKCS12Budget:
    """The most work one PKCS#12 load may demand; a file over it is refused, before the work
    where the file shows its cost up front, with a `PKCS12FormatError` naming the limit.

    A load reads and checks the whole visible structure (every ContentInfo, SafeBag and
    algorithm parameter) before its first key derivation, and decrypts everything before
    its first key validation, so a damaged or hostile file fails fast.
    """

    #: Key-derivation iterations summed over the MAC and every encrypted safe and key bag,
    #: each PBKDF2 or PKCS#12 KDF run counted. An OpenSSL 3 default file needs about 6,000;
    #: GnuTLS certtool's 3DES files 600,000 a run, 5,400,000 for a leaf with two CA
    #: certificates (one safe per certificate). PBKDF2 runs about 10 M iterations a second
    #: here, our Python PKCS#12 KDF about 2-4 M.
    max_iterations: int = 16_000_000
    #: Private-key bags (keytool keystores with a few hundred entries exist).
    max_keys: int = 1024
    #: Private-key validation, in units of one RSA-2048 key (about 30 ms): an RSA key of n
    #: bits counts ceil((n/2048)^3.4), as its primality checks grow about that fast (4096:
    #: 11, 8192: 111); EC and EdDSA keys validate thousands of times faster and count 0.
    max_key_work: int = 128
    #: Bytes of the PKCS#12 itself.
    max_size: int = 4 << 20

    def __post_init__(self) -> None:
        for name in ("max_iterations", "max_keys", "max_key_work", "max_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise IdentityError(f"PKCS12Budget.{name} must be a positive int, not {value!r}")


#: The budget `load_pkcs12` uses when given none; a process that trusts bigger files may
#: assign a `PKCS12Budget` of its own here.
DEFAULT_BUDGET = PKCS12Budget()


def _over_budget(limit: str, found: str, value: int) -> pbe.BudgetExceeded:
    return pbe.BudgetExceeded(
        f"this PKCS#12 {found}, over the load budget of {value:,} ({limit}); if you trust "
        f"the file, raise it: load_pkcs12(..., budget=PKCS12Budget({limit}=...)) or set "
        "tlsengine.identity.pkcs12.DEFAULT_BUDGET"
    )


@dataclass
class _KeyEntry:
    key: PrivateKey
    local_id: bytes | None
    name: str | None


@dataclass
class _PendingKey:
    """A key bag as found: PKCS#8 bytes (sealed when ``encryption`` is set), not yet loaded."""

    body: bytes
    encryption: pbe.Encryption | None
    local_id: bytes | None
    name: str | None


@dataclass
class _SealedSafe:
    """An encryptedData ContentInfo whose SafeContents are read once decrypted."""

    encryption: pbe.Encryption
    body: bytes


@dataclass
class _CertEntry:
    cert: x509.Certificate
    local_id: bytes | None
    name: str | None
    subject: x509.Name  # parsed once: cryptography re-parses on every attribute access
    issuer: x509.Name


def load_pkcs12(
    data: Source, password: str | bytes | None = None, *, budget: PKCS12Budget | None = None
) -> list[Identity]:
    """Every identity (key + leaf + chain) in a PKCS#12, in the order its keys appear.

    ``data`` is bytes, a base64 string (armour and line breaks allowed) or a path.
    ``budget`` bounds the work the file may demand (default `DEFAULT_BUDGET`).
    Raises `PKCS12PasswordError`, `PKCS12FormatError`, `IdentityMismatchError` or
    `UnsupportedKeyError`; nothing else escapes.
    """
    return parse_pkcs12(read_pkcs12(data), password, budget=budget)


def parse_pkcs12(
    raw: bytes, password: str | bytes | None = None, *, budget: PKCS12Budget | None = None
) -> list[Identity]:
    """`load_pkcs12` for bytes already in hand.

    Order of work: structure (cheap, complete for everything not encrypted), then the MAC
    and decryptions (PBKDF2 / PKCS#12 KDF, charged to the budget), then key validation.
    """
    limits = DEFAULT_BUDGET if budget is None else budget
    if not isinstance(limits, PKCS12Budget):
        raise IdentityError(f"budget must be a PKCS12Budget, not {type(limits).__name__}")
    if len(raw) > limits.max_size:
        raise _over_budget("max_size", f"is {len(raw):,} bytes", limits.max_size)
    pw = pbe.Password.of(password)
    pw.meter = pbe.WorkMeter(limits.max_iterations)
    try:
        pfx = der.parse(raw, "PFX")
        items = pfx.sequence("PFX", 2, 3)
    except PKCS12FormatError as exc:
        raise PKCS12FormatError(f"not a PKCS#12 file ({exc})") from None
    version = items[0].integer("PFX version")
    if version != 3:
        raise PKCS12FormatError(f"PFX version is {version}; only version 3 exists")
    content = _data_content(items[1], "PFX authSafe")
    spec = pbe.parse_mac(items[2]) if len(items) == 3 else None
    walker = _Walker(pw, has_mac=spec is not None, budget=limits)
    walker.authenticated_safe(content)
    walker.check_budget(spec.cost if spec is not None else 0)
    if spec is not None:
        matched = pbe.mac_matches(spec, content, pw)
        if matched is None:
            _raise_mac_failure(walker, pw)
        pw.confirm(matched)
    walker.open()
    return walker.identities()


def _data_content(node: der.Node, what: str) -> bytes:
    """The OCTET STRING inside a ContentInfo of type data."""
    items = node.sequence(what, 1, 2)
    ctype = items[0].oid(what)
    if ctype == SIGNED_DATA:
        raise PKCS12FormatError(
            f"{what}: public-key integrity mode (signedData) is not supported; "
            "re-export the file with password integrity"
        )
    if ctype != DATA:
        raise PKCS12FormatError(f"{what}: expected data content, got {ctype}")
    if len(items) < 2:
        raise PKCS12FormatError(f"{what}: content missing")
    return items[1].explicit(0, what).octet_string(what)


def _raise_mac_failure(walker: _Walker, pw: pbe.Password) -> NoReturn:
    """Tell a wrong password from a damaged file when the contents allow it."""
    if not pw.given:
        raise PKCS12PasswordError(
            "this PKCS#12 is password-protected and no password was given (its MAC "
            "did not verify without one)"
        )
    walker.has_mac = False  # probe: does the unconfirmed password decrypt the contents?
    try:
        walker.open()
    except PKCS12PasswordError:
        raise PKCS12PasswordError(
            "wrong password for this PKCS#12 (the integrity MAC did not verify)"
        ) from None
    except pbe.BudgetExceeded:
        raise
    except PKCS12FormatError:
        pass
    else:
        if walker.decrypted:
            raise PKCS12FormatError(
                "the PKCS#12 integrity MAC does not match although the password decrypts "
                "its contents: the file is corrupted"
            )
    raise PKCS12PasswordError(
        "wrong password or corrupted file: the PKCS#12 integrity MAC did not verify"
    )


class _Walker:
    """Collects keys and certificates from every bag of one PFX, in three steps: read the
    structure (`authenticated_safe`), decrypt (`open`), validate keys and pair them with
    certificates (`identities`). Nothing expensive runs before the structure is whole."""

    def __init__(
        self, pw: pbe.Password, *, has_mac: bool, budget: PKCS12Budget | None = None
    ) -> None:
        self.pw = pw
        self.has_mac = has_mac
        self.budget = budget
        self.pending: list[_PendingKey] = []
        self.sealed: list[_SealedSafe] = []
        self.plain_keys: list[tuple[bytes, bool, bytes | None, str | None]] = []
        self.certs: list[_CertEntry] = []
        self.decrypted = 0

    # ------------------------------------------------------------------ structure

    def authenticated_safe(self, content: bytes) -> None:
        for info in der.parse(content, "AuthenticatedSafe").sequence("AuthenticatedSafe"):
            self.content_info(info)

    def content_info(self, node: der.Node) -> None:
        what = "ContentInfo"
        items = node.sequence(what, 1, 2)
        ctype = items[0].oid(what)
        if ctype == DATA:
            self.safe_contents(_data_content(node, "ContentInfo(data)"), "SafeContents")
        elif ctype == ENCRYPTED_DATA:
            if len(items) < 2:
                raise PKCS12FormatError("ContentInfo(encryptedData): content missing")
            self.encrypted_data(items[1].explicit(0, "ContentInfo(encryptedData)"))
        elif ctype == ENVELOPED_DATA:
            raise PKCS12FormatError(
                "public-key privacy mode (envelopedData) is not supported; re-export the "
                "file with password privacy"
            )
        else:
            raise PKCS12FormatError(f"ContentInfo: unsupported content type {ctype}")

    def encrypted_data(self, node: der.Node) -> None:
        what = "EncryptedData"
        items = node.sequence(what, 2, 3)
        info = items[1].sequence(f"{what} EncryptedContentInfo", 2, 3)
        if len(info) < 3:
            return  # no content: nothing to decrypt
        body = info[2]
        if body.tag not in (0x80, 0xA0):
            raise PKCS12FormatError(f"{what}: encryptedContent has tag 0x{body.tag:02x}")
        encryption = pbe.parse_encryption(info[1], _SAFE_LABEL)
        self.sealed.append(_SealedSafe(encryption, body.octets(what)))

    def safe_contents(self, data: bytes, what: str) -> None:
        self.safe_contents_node(der.parse(data, what))

    def safe_contents_node(self, node: der.Node) -> None:
        for bag in node.sequence("SafeContents"):
            self.safe_bag(bag)

    def safe_bag(self, node: der.Node) -> None:
        items = node.sequence("SafeBag", 2, 3)
        bag_id = items[0].oid("SafeBag bagId")
        value = items[1].explicit(0, "SafeBag bagValue")
        local_id, name = _attributes(items[2]) if len(items) == 3 else (None, None)
        if bag_id == KEY_BAG:
            self.pending.append(_PendingKey(value.encoded, None, local_id, name))
        elif bag_id == SHROUDED_KEY_BAG:
            alg, body = value.sequence("EncryptedPrivateKeyInfo", 2, 2)
            encryption = pbe.parse_encryption(alg, _key_label(name))
            sealed = body.octet_string("EncryptedPrivateKeyInfo")
            self.pending.append(_PendingKey(sealed, encryption, local_id, name))
        elif bag_id == CERT_BAG:
            self.add_cert(value, local_id, name)
        elif bag_id == SAFE_CONTENTS_BAG:
            self.safe_contents_node(value)
        # CRL and secret bags carry nothing an identity needs.

    def check_budget(self, mac_cost: int) -> None:
        """Refuse now a file whose visible structure already asks for too much work."""
        budget = self.budget
        if budget is not None:
            keys = len(self.pending) + len(self.plain_keys)
            if keys > budget.max_keys:
                raise _over_budget("max_keys", f"holds {keys:,} private keys", budget.max_keys)
            plain = [k.body for k in self.pending if k.encryption is None]
            work = sum(_key_work(pkcs8) for pkcs8 in plain + [k[0] for k in self.plain_keys])
            if work > budget.max_key_work:
                raise _over_budget(
                    "max_key_work",
                    f"holds private keys worth {work:,} RSA-2048 validations",
                    budget.max_key_work,
                )
        specs = [s.encryption for s in self.sealed]
        specs += [k.encryption for k in self.pending if k.encryption is not None]
        derivations = {spec.derivation for spec in specs if not spec.derived(self.pw)}
        self.pw.meter.check(mac_cost + sum(cost for _, cost in derivations), "PKCS#12")

    # ------------------------------------------------------------------ decryption

    def open(self) -> None:
        """Decrypt every encrypted safe (reading its bags) and then every shrouded key."""
        sealed, self.sealed = self.sealed, []
        for safe in sealed:
            plain = self.decrypt(safe.encryption, safe.body, _SAFE_LABEL)
            try:
                self.safe_contents(plain, f"SafeContents in {_SAFE_LABEL}")
            except PKCS12FormatError:
                if self.pw.confirmed:
                    raise
                raise self.bad_password(_SAFE_LABEL) from None
        self.check_budget(0)  # key bags found inside the safes count too
        pending, self.pending = self.pending, []
        for entry in pending:
            if entry.encryption is None:
                self.plain_keys.append((entry.body, False, entry.local_id, entry.name))
                continue
            label = _key_label(entry.name)
            plain = self.decrypt(entry.encryption, entry.body, label)
            try:  # cheap: garbage under a wrong password fails here, before key validation
                der.parse(plain, "PrivateKeyInfo").expect(der.SEQUENCE, "PrivateKeyInfo")
            except PKCS12FormatError:
                if self.pw.confirmed:
                    raise PKCS12FormatError(
                        f"{label}: PKCS#8 PrivateKeyInfo is malformed"
                    ) from None
                raise self.bad_password(label) from None
            self.plain_keys.append((plain, True, entry.local_id, entry.name))
        self.check_budget(0)  # the decrypted keys' validation work

    def decrypt(self, encryption: pbe.Encryption, data: bytes, label: str) -> bytes:
        try:
            plain = pbe.decrypt(encryption, data, self.pw, label)
        except pbe.BadDecrypt:
            raise self.bad_password(label) from None
        self.decrypted += 1
        return plain

    def bad_password(self, label: str) -> PKCS12FormatError | PKCS12PasswordError:
        if self.pw.confirmed:
            return PKCS12FormatError(
                f"{label} does not decrypt although the MAC verified the password: the file "
                "is corrupted or its contents use a second password (OpenSSL -twopass)"
            )
        if not self.pw.given:
            return PKCS12PasswordError(f"the {label} is encrypted and no password was given")
        if self.has_mac:
            return PKCS12PasswordError(f"wrong password: the {label} does not decrypt")
        return PKCS12PasswordError(
            f"wrong password: the {label} does not decrypt (the file has no MAC, so a "
            "corrupted file looks the same)"
        )

    # ------------------------------------------------------------------ bags

    def load_keys(self) -> tuple[list[_KeyEntry], list[UnsupportedKeyError]]:
        """Validate every decrypted key (the expensive step, so the last one)."""
        keys: list[_KeyEntry] = []
        unsupported: list[UnsupportedKeyError] = []
        for pkcs8, encrypted, local_id, name in self.plain_keys:
            try:
                key = serialization.load_der_private_key(pkcs8, None)
            except UnsupportedAlgorithm:
                problem = f"the {_key_label(name)} uses an unsupported algorithm"
                unsupported.append(UnsupportedKeyError(problem))
                continue
            except (ValueError, TypeError, InternalError):
                # InternalError: OpenSSL refuses an Ed25519/Ed448 key of the wrong length
                # that way (found by the issue 12 fuzz campaign)
                if encrypted and not self.pw.confirmed:
                    raise self.bad_password(_key_label(name)) from None
                raise PKCS12FormatError(
                    "private key bag: PKCS#8 PrivateKeyInfo is malformed"
                ) from None
            try:
                usable = private_key_of(key)
            except UnsupportedKeyError as exc:
                unsupported.append(exc)
                continue
            keys.append(_KeyEntry(usable, local_id, name))
        return keys, unsupported

    def add_cert(self, value: der.Node, local_id: bytes | None, name: str | None) -> None:
        cert_type, body = value.sequence("CertBag", 2, 2)
        if cert_type.oid("CertBag certId") != X509_CERTIFICATE:
            return  # SDSI certificates: nothing TLS can use
        raw = body.explicit(0, "CertBag certValue").octet_string("CertBag certValue")
        try:
            cert = x509.load_der_x509_certificate(raw)
            # cryptography parses lazily; touch what we use so damage surfaces here, typed.
            subject, issuer = cert.subject, cert.issuer
            cert.not_valid_before_utc, cert.not_valid_after_utc  # noqa: B018
        except Exception:  # noqa: BLE001 - cryptography raises several types for bad DER
            raise PKCS12FormatError("CertBag: certificate is not valid DER X.509") from None
        self.certs.append(_CertEntry(cert, local_id, name, subject, issuer))

    # ------------------------------------------------------------------ pairing

    def identities(self) -> list[Identity]:
        keys, unsupported = self.load_keys()
        chains = _ChainBuilder(self.certs)
        result: list[Identity] = []
        unpaired = 0
        for entry in keys:
            index = chains.leaf_for(entry)
            if index is None:
                unpaired += 1
                continue
            leaf = self.certs[index]
            alias = entry.name or leaf.name
            try:
                leaf.cert.extensions  # noqa: B018 - selection reads them; fail now if broken
                ident = Identity.create(leaf.cert, entry.key, chains.chain(index), alias=alias)
            except UnsupportedKeyError:
                raise
            except Exception:  # noqa: BLE001 - lazily parsed fields of an untrusted cert
                raise PKCS12FormatError(
                    f"certificate {leaf.cert.subject.rfc4514_string()} has malformed fields"
                ) from None
            result.append(ident)
        if result:
            return result
        if unsupported:
            raise unsupported[0]
        if unpaired:
            raise IdentityMismatchError(
                f"the PKCS#12 holds {unpaired} private key(s) but no certificate matches any of "
                "them; export the key together with its certificate"
            )
        if self.certs:
            raise IdentityMismatchError(
                f"the PKCS#12 holds {len(self.certs)} certificate(s) but no private key; a "
                "client identity needs the key too"
            )
        raise IdentityMismatchError("the PKCS#12 holds no keys and no certificates")


_RSA_OIDS = frozenset({"1.2.840.113549.1.1.1", "1.2.840.113549.1.1.10"})


def _key_work(pkcs8: bytes) -> int:
    """What validating this PKCS#8 key costs, in RSA-2048 validations (see PKCS12Budget).

    Read with our DER reader, without loading the key: only the RSA modulus size matters.
    Anything that does not read as an RSA key counts 0 (cryptography will judge it).
    """
    try:
        info = der.parse(pkcs8, "PrivateKeyInfo").sequence("PrivateKeyInfo", 3)
        if info[1].sequence("AlgorithmIdentifier", 1)[0].oid("algorithm") not in _RSA_OIDS:
            return 0
        body = der.parse(info[2].octet_string("privateKey"), "RSAPrivateKey")
        modulus = body.sequence("RSAPrivateKey", 2)[1].expect(der.INTEGER, "modulus").content
    except PKCS12FormatError:
        return 0
    digits = modulus.lstrip(b"\x00")
    bits = len(digits) * 8 - (8 - digits[0].bit_length()) if digits else 0
    return math.ceil((bits / 2048) ** 3.4)


def _key_label(name: str | None) -> str:
    """How messages name a key bag: by its friendlyName when it has one, so a user with a
    many-key keystore learns which key failed."""
    return f"private key {name!r}" if name else "private key"


def _attributes(node: der.Node) -> tuple[bytes | None, str | None]:
    """localKeyId and friendlyName from a bag's attribute SET (others are ignored)."""
    local_id = name = None
    for attribute in node.expect(der.SET, "SafeBag attributes").children("SafeBag attributes"):
        attr_id, values = attribute.sequence("PKCS12Attribute", 2, 2)
        oid = attr_id.oid("PKCS12Attribute attrId")
        found = values.expect(der.SET, "PKCS12Attribute values").children("attrValues")
        if not found:
            continue
        if oid == LOCAL_KEY_ID:
            local_id = found[0].octet_string("localKeyId")
        elif oid == FRIENDLY_NAME:
            node0 = found[0]
            if node0.tag == der.BMP_STRING:
                name = der.decode_bmp(node0.content, "friendlyName") or None
            elif node0.tag == der.UTF8_STRING:
                try:
                    name = node0.content.decode("utf-8") or None
                except UnicodeDecodeError:
                    raise PKCS12FormatError("friendlyName is not valid UTF-8") from None
    return local_id, name


class _ChainBuilder:
    """Pairs keys with leaves and links each leaf to its issuers, verifying signatures once."""

    def __init__(self, certs: list[_CertEntry]) -> None:
        self.certs = certs
        self.by_subject: dict[x509.Name, list[int]] = {}
        self._by_spki: dict[bytes, list[int]] | None = None
        self._verified: dict[tuple[int, int], bool] = {}
        for i, entry in enumerate(certs):
            self.by_subject.setdefault(entry.subject, []).append(i)

    def leaf_for(self, entry: _KeyEntry) -> int | None:
        """The certificate for this key: same public key, preferring a matching localKeyId."""
        public = entry.key.public_key()
        if entry.local_id is not None:  # the usual case: one comparison, no re-encoding
            for i, cert in enumerate(self.certs):
                if cert.local_id == entry.local_id and _same_key(cert.cert, public):
                    return i
        candidates = self._spki_index().get(public_key_der(public), [])
        return candidates[0] if candidates else None

    def _spki_index(self) -> dict[bytes, list[int]]:
        if self._by_spki is None:
            self._by_spki = {}
            for i, entry in enumerate(self.certs):
                try:
                    spki = public_key_der(entry.cert.public_key())
                except (ValueError, UnsupportedAlgorithm):
                    continue
                self._by_spki.setdefault(spki, []).append(i)
        return self._by_spki

    def chain(self, leaf: int) -> tuple[x509.Certificate, ...]:
        path = [leaf]
        current = leaf
        while len(path) < MAX_CHAIN:
            entry = self.certs[current]
            if entry.issuer == entry.subject:
                break
            parent = next(
                (
                    i
                    for i in self.by_subject.get(entry.issuer, [])
                    if i not in path and self._issued(current, i)
                ),
                None,
            )
            if parent is None:
                break
            path.append(parent)
            current = parent
        return tuple(self.certs[i].cert for i in path)

    def _issued(self, child: int, issuer: int) -> bool:
        pair = (child, issuer)
        if pair not in self._verified:
            self._verified[pair] = _verify_link(self.certs[child].cert, self.certs[issuer].cert)
        return self._verified[pair]


def _same_key(cert: x509.Certificate, public: object) -> bool:
    try:
        return cert.public_key() == public
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return False


# Links already checked in this process: reloading the same keystore (a config reload, a
# retry after a wrong password) should not pay for the same signature checks again.
_LINKS: dict[tuple[bytes, bytes], bool] = {}
_LINKS_MAX = 4096


def _verify_link(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer``'s key signed ``child`` (names already match)."""
    key = (child.public_bytes(serialization.Encoding.DER), issuer.tbs_certificate_bytes)
    known = _LINKS.get(key)
    if known is not None:
        return known
    try:
        child.verify_directly_issued_by(issuer)
        result = True
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        result = False
    if len(_LINKS) >= _LINKS_MAX:
        _LINKS.clear()
    _LINKS[key] = result
    return result


# --------------------------------------------------------------------------- encoder


def build_pkcs12(
    identities: Iterable[Identity],
    password: str | None,
    *,
    iterations: int = 2048,
    extra_certificates: Iterable[x509.Certificate] = (),
) -> bytes:
    """Encode identities as one PKCS#12 the way OpenSSL 3 does by default.

    Keys and certificates are encrypted with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) and the
    file carries an HMAC-SHA256 MAC; every identity gets its alias as friendlyName and the
    SHA-1 of its leaf as localKeyId. One salt is used for the whole file, so a loader derives
    the encryption key once; each encryption has its own random IV. ``password=None``
    writes an unencrypted file without a MAC (keys in plain keyBags).
    """
    if not 1 <= iterations <= pbe.MAX_PBKDF2_ITERATIONS:
        raise IdentityError(f"iterations must be between 1 and {pbe.MAX_PBKDF2_ITERATIONS}")
    salt = os.urandom(16)
    key = None
    if password is not None:
        key = pbe.pbkdf2("sha256", password.encode("utf-8"), salt, iterations, 32)

    def seal(plain: bytes) -> tuple[bytes, bytes]:
        assert key is not None
        iv = os.urandom(16)
        return pbe.pbes2_algorithm(salt, iterations, iv), pbe.encrypt_aes_cbc(key, iv, plain)

    cert_bags: list[bytes] = []
    key_bags: list[bytes] = []
    seen: set[bytes] = set()

    def add_ca(cert: x509.Certificate) -> None:  # each chain certificate once, unnamed
        raw = cert.public_bytes(serialization.Encoding.DER)
        if raw not in seen:
            seen.add(raw)
            cert_bags.append(_safe_bag(CERT_BAG, _cert_bag(raw), None))

    for ident in identities:
        leaf = ident.certificate.public_bytes(serialization.Encoding.DER)
        attrs = der.set_of(
            [
                _attribute(FRIENDLY_NAME, der.bmp_string(ident.alias)),
                _attribute(LOCAL_KEY_ID, der.octet_string(hashlib.sha1(leaf).digest())),
            ]
        )
        cert_bags.append(_safe_bag(CERT_BAG, _cert_bag(leaf), attrs))
        seen.add(leaf)
        pkcs8 = ident.private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        if key is None:
            key_bags.append(_safe_bag(KEY_BAG, pkcs8, attrs))
        else:
            alg, sealed = seal(pkcs8)
            body = der.sequence(alg, der.octet_string(sealed))
            key_bags.append(_safe_bag(SHROUDED_KEY_BAG, body, attrs))
        for cert in ident.chain[1:]:
            add_ca(cert)
    for cert in extra_certificates:
        add_ca(cert)

    cert_safe = der.sequence(*cert_bags)
    key_safe = der.sequence(*key_bags)
    if key is None:
        cert_info = _data_info(cert_safe)
    else:
        alg, sealed = seal(cert_safe)
        encrypted = der.sequence(
            der.integer(0),
            der.sequence(der.oid(DATA), alg, der.implicit_primitive(0, sealed)),
        )
        cert_info = der.sequence(der.oid(ENCRYPTED_DATA), der.explicit(0, encrypted))
    auth_safe = der.sequence(cert_info, _data_info(key_safe))
    parts = [der.integer(3), _data_info(auth_safe)]
    if password is not None:
        parts.append(pbe.mac_data(auth_safe, password, os.urandom(16), iterations))
    return der.sequence(*parts)


def _attribute(oid: str, value: bytes) -> bytes:
    return der.sequence(der.oid(oid), der.set_of([value]))


def _safe_bag(bag_id: str, value: bytes, attrs: bytes | None) -> bytes:
    return der.sequence(der.oid(bag_id), der.explicit(0, value), *([attrs] if attrs else []))


def _cert_bag(raw: bytes) -> bytes:
    return der.sequence(der.oid(X509_CERTIFICATE), der.explicit(0, der.octet_string(raw)))


def _data_info(content: bytes) -> bytes:
    return der.sequence(der.oid(DATA), der.explicit(0, der.octet_string(content)))
