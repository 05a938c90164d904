"""PKCS#12 (RFC 7292) loading that keeps every identity, and a small encoder.

OpenSSL, pyOpenSSL and `cryptography` return only the first private key of a PFX, but Java
keystores routinely hold several, and the handshake must be able to choose among them. So
the PFX is walked here: every ContentInfo (plain or password-encrypted), every SafeBag
(keys, shrouded keys, certificates, nested SafeContents), then keys are paired with their
certificates and each chain is rebuilt from the other certificates in the file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NoReturn

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
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
from .sources import Source, read_source

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


@dataclass
class _KeyEntry:
    key: PrivateKey
    local_id: bytes | None
    name: str | None


@dataclass
class _CertEntry:
    cert: x509.Certificate
    local_id: bytes | None
    name: str | None
    subject: x509.Name  # parsed once: cryptography re-parses on every attribute access
    issuer: x509.Name


def load_pkcs12(data: Source, password: str | bytes | None = None) -> list[Identity]:
    """Every identity (key + leaf + chain) in a PKCS#12, in the order its keys appear.

    ``data`` is bytes, a base64 string (armour and line breaks allowed) or a path.
    Raises `PKCS12PasswordError`, `PKCS12FormatError`, `IdentityMismatchError` or
    `UnsupportedKeyError`; nothing else escapes.
    """
    return parse_pkcs12(read_source(data), password)


def parse_pkcs12(raw: bytes, password: str | bytes | None = None) -> list[Identity]:
    """`load_pkcs12` for bytes already in hand."""
    pw = pbe.Password.of(password)
    try:
        pfx = der.parse(raw, "PFX")
        items = pfx.sequence("PFX", 2, 3)
    except PKCS12FormatError as exc:
        raise PKCS12FormatError(f"not a PKCS#12 file ({exc})") from None
    version = items[0].integer("PFX version")
    if version != 3:
        raise PKCS12FormatError(f"PFX version is {version}; only version 3 exists")
    content = _data_content(items[1], "PFX authSafe")
    if len(items) == 3:
        spec = pbe.parse_mac(items[2])
        matched = pbe.mac_matches(spec, content, pw)
        if matched is None:
            _raise_mac_failure(content, pw)
        else:
            pw.confirm(matched)
    walker = _Walker(pw, has_mac=len(items) == 3)
    walker.authenticated_safe(content)
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


def _raise_mac_failure(content: bytes, pw: pbe.Password) -> NoReturn:
    """Tell a wrong password from a damaged file when the contents allow it."""
    if not pw.given:
        raise PKCS12PasswordError(
            "this PKCS#12 is password-protected and no password was given (its MAC "
            "did not verify without one)"
        )
    probe = _Walker(pw, has_mac=False)
    try:
        probe.authenticated_safe(content)
    except PKCS12PasswordError:
        raise PKCS12PasswordError(
            "wrong password for this PKCS#12 (the integrity MAC did not verify)"
        ) from None
    except (PKCS12FormatError, IdentityMismatchError, UnsupportedKeyError):
        pass
    else:
        if probe.decrypted:
            raise PKCS12FormatError(
                "the PKCS#12 integrity MAC does not match although the password decrypts "
                "its contents: the file is corrupted"
            )
    raise PKCS12PasswordError(
        "wrong password or corrupted file: the PKCS#12 integrity MAC did not verify"
    )


class _Walker:
    """Collects keys and certificates from every bag of one PFX."""

    def __init__(self, pw: pbe.Password, *, has_mac: bool) -> None:
        self.pw = pw
        self.has_mac = has_mac
        self.keys: list[_KeyEntry] = []
        self.certs: list[_CertEntry] = []
        self.unsupported: list[UnsupportedKeyError] = []
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
        label = "encrypted certificate safe (EncryptedData)"
        plain = self.decrypt(info[1], body.octets(what), label)
        self.decrypted_safe(plain, label)

    def decrypted_safe(self, plain: bytes, label: str) -> None:
        try:
            self.safe_contents(plain, f"SafeContents in {label}")
        except PKCS12FormatError:
            if self.pw.confirmed:
                raise
            raise self.bad_password(label) from None

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
            self.add_key(value.encoded, local_id, name, encrypted=False)
        elif bag_id == SHROUDED_KEY_BAG:
            alg, body = value.sequence("EncryptedPrivateKeyInfo", 2, 2)
            label = _key_label(name)
            plain = self.decrypt(alg, body.octet_string("EncryptedPrivateKeyInfo"), label)
            self.add_key(plain, local_id, name, encrypted=True)
        elif bag_id == CERT_BAG:
            self.add_cert(value, local_id, name)
        elif bag_id == SAFE_CONTENTS_BAG:
            self.safe_contents_node(value)
        # CRL and secret bags carry nothing an identity needs.

    # ------------------------------------------------------------------ bags

    def decrypt(self, algorithm: der.Node, data: bytes, label: str) -> bytes:
        try:
            plain = pbe.decrypt(algorithm, data, self.pw, label)
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

    def add_key(
        self, pkcs8: bytes, local_id: bytes | None, name: str | None, *, encrypted: bool
    ) -> None:
        try:
            key = serialization.load_der_private_key(pkcs8, None)
        except UnsupportedAlgorithm:
            problem = f"the {_key_label(name)} uses an unsupported algorithm"
            self.unsupported.append(UnsupportedKeyError(problem))
            return
        except (ValueError, TypeError):
            if encrypted and not self.pw.confirmed:
                raise self.bad_password(_key_label(name)) from None
            raise PKCS12FormatError("private key bag: PKCS#8 PrivateKeyInfo is malformed") from None
        try:
            usable = private_key_of(key)
        except UnsupportedKeyError as exc:
            self.unsupported.append(exc)
            return
        self.keys.append(_KeyEntry(usable, local_id, name))

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
        chains = _ChainBuilder(self.certs)
        result: list[Identity] = []
        unpaired = 0
        for entry in self.keys:
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
        if self.unsupported:
            raise self.unsupported[0]
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
