"""Password-based encryption and MACs used inside PKCS#12 files.

RFC 7292 Appendix B's KDF feeds the PKCS#12 PBEs (3DES, 2-key 3DES, RC2, RC4) and the
classic MAC; PBES2 (RFC 8018) uses PBKDF2 from `cryptography`. Password encodings follow
OpenSSL so files it writes open here: a BMPString with two trailing NULs for the PKCS#12
KDF (no bytes at all for an absent password) and UTF-8 for PBKDF2.

Failures are reported as `BadDecrypt` (padding or cipher refused the data) so the caller,
who knows whether a MAC already vouched for the password, can say "wrong password" or
"corrupted file" accurately.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.decrepit.ciphers import algorithms as decrepit
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from ..errors import PKCS12FormatError
from . import der, rc2

# Iteration counts above these are hostile (they would hang the load), not real files.
MAX_PBKDF2_ITERATIONS = 10_000_000
MAX_KDF_ITERATIONS = 1_000_000

PBES2 = "1.2.840.113549.1.5.13"
PBKDF2 = "1.2.840.113549.1.5.12"
PBMAC1 = "1.2.840.113549.1.5.14"

_PKCS12_PBE = "1.2.840.113549.1.12.1."
# PKCS#12 PBE OID -> (cipher, key length, IV length)
PKCS12_PBES = {
    _PKCS12_PBE + "1": ("rc4", 16, 0),
    _PKCS12_PBE + "2": ("rc4", 5, 0),
    _PKCS12_PBE + "3": ("3des", 24, 8),
    _PKCS12_PBE + "4": ("3des", 16, 8),
    _PKCS12_PBE + "5": ("rc2", 16, 8),
    _PKCS12_PBE + "6": ("rc2", 5, 8),
}

# digest OID -> hashlib name (MAC digests and the PKCS#12 KDF)
DIGESTS = {
    "1.3.14.3.2.26": "sha1",
    "2.16.840.1.101.3.4.2.4": "sha224",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
    "2.16.840.1.101.3.4.2.5": "sha512_224",
    "2.16.840.1.101.3.4.2.6": "sha512_256",
}
DIGEST_OIDS = {name: oid for oid, name in DIGESTS.items()}

# PBKDF2 / PBMAC1 PRF OID -> hashlib name
HMACS = {
    "1.2.840.113549.2.7": "sha1",
    "1.2.840.113549.2.8": "sha224",
    "1.2.840.113549.2.9": "sha256",
    "1.2.840.113549.2.10": "sha384",
    "1.2.840.113549.2.11": "sha512",
    "1.2.840.113549.2.12": "sha512_224",
    "1.2.840.113549.2.13": "sha512_256",
}
HMAC_OIDS = {name: oid for oid, name in HMACS.items()}

# PBES2 encryption scheme OID -> (cipher, key length)
PBES2_CIPHERS = {
    "2.16.840.1.101.3.4.1.2": ("aes", 16),
    "2.16.840.1.101.3.4.1.22": ("aes", 24),
    "2.16.840.1.101.3.4.1.42": ("aes", 32),
    "1.2.840.113549.3.7": ("3des", 24),
}
AES256_CBC = "2.16.840.1.101.3.4.1.42"

_CRYPTO_HASH: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sha512_224": hashes.SHA512_224,
    "sha512_256": hashes.SHA512_256,
}
# hashlib name -> (constructor, block size v in bytes)
_HASHLIB: dict[str, tuple[Callable[..., hashlib._Hash], int]] = {
    "sha1": (hashlib.sha1, 64),
    "sha224": (hashlib.sha224, 64),
    "sha256": (hashlib.sha256, 64),
    "sha384": (hashlib.sha384, 128),
    "sha512": (hashlib.sha512, 128),
    "sha512_224": (lambda data=b"": hashlib.new("sha512_224", data), 128),
    "sha512_256": (lambda data=b"": hashlib.new("sha512_256", data), 128),
}

KDF_KEY, KDF_IV, KDF_MAC = 1, 2, 3


def _drop_unavailable_digests() -> None:
    """Forget truncated SHA-512 variants this Python's hashlib lacks (rare builds)."""
    for name in ("sha512_224", "sha512_256"):
        try:
            hashlib.new(name)
        except ValueError:
            for table in (DIGESTS, HMACS):
                for oid in [o for o, n in table.items() if n == name]:
                    del table[oid]


_drop_unavailable_digests()


class BadDecrypt(Exception):
    """Decryption produced no valid padding: wrong password or damaged ciphertext."""


class BudgetExceeded(PKCS12FormatError):
    """The file demands more work than the load's `PKCS12Budget` allows."""


class WorkMeter:
    """Key-derivation iterations one load has spent, against its budget's ``max_iterations``.

    Every PBKDF2 or PKCS#12 KDF run is charged before it starts, so a file over the budget
    is refused without doing the work; ``limit=None`` counts without refusing.
    """

    __slots__ = ("limit", "spent")

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self.spent = 0

    def check(self, iterations: int, what: str) -> None:
        """Refuse now if ``iterations`` more would exceed the limit (nothing is charged)."""
        if self.limit is not None and self.spent + iterations > self.limit:
            raise BudgetExceeded(
                f"{what}: this PKCS#12 needs at least {self.spent + iterations:,} key-derivation "
                f"iterations, over the load budget of {self.limit:,} (max_iterations); if you "
                "trust the file, raise it: load_pkcs12(..., budget=PKCS12Budget("
                "max_iterations=...)) or set tlsengine.identity.pkcs12.DEFAULT_BUDGET"
            )

    def charge(self, iterations: int, what: str) -> None:
        self.check(iterations, what)
        self.spent += iterations


# --------------------------------------------------------------------------- passwords


@dataclass
class Password:
    """The encodings one user password may take, narrowed once a MAC confirms one.

    ``bmp`` holds candidate byte strings for the PKCS#12 KDF, most likely first; ``utf8``
    is what PBKDF2 gets. ``None`` and ``""`` are ambiguous in PKCS#12 (OpenSSL writes
    either an empty BMPString or none at all), so both are candidates.
    """

    bmp: list[bytes] = field(repr=False)
    utf8: bytes = field(repr=False)
    given: bool = True
    confirmed: bool = False
    cache: dict[tuple, bytes] = field(default_factory=dict, repr=False)  # derived keys
    meter: WorkMeter = field(default_factory=WorkMeter, repr=False)  # the load's budget

    @classmethod
    def of(cls, password: str | bytes | None) -> Password:
        if password is None:
            return cls([b"", b"\x00\x00"], b"", given=False)
        if isinstance(password, bytes | bytearray | memoryview):
            raw = bytes(password)
            try:
                password = raw.decode("utf-8")
            except UnicodeDecodeError:  # not text: feed the bytes as OpenSSL would
                return cls([_widen(raw)], raw)
        if not isinstance(password, str):
            raise PKCS12FormatError(
                f"password must be str, bytes or None, not {type(password).__name__}"
            )
        utf8 = password.encode("utf-8", "surrogatepass")
        candidates = [bmp_password(password)]
        if password == "":
            candidates.append(b"")
        elif not password.isascii():
            # OpenSSL before 1.1.0 widened each UTF-8 byte on its own; its apps still try it.
            candidates.append(_widen(utf8))
        return cls(candidates, utf8)

    def confirm(self, bmp: bytes) -> None:
        """A MAC verified with this encoding: use only it from now on."""
        self.bmp = [bmp]
        self.confirmed = True


def _widen(raw: bytes) -> bytes:
    """Each byte as one BMPString code unit, NUL-terminated: OpenSSL's encoding of bytes it
    does not decode (raw passwords, and UTF-8 passwords before OpenSSL 1.1.0)."""
    return bytes(b for c in raw for b in (0, c)) + b"\x00\x00"


def bmp_password(password: str) -> bytes:
    """PKCS#12 password encoding: UTF-16BE (BMPString) plus a two-byte NUL terminator."""
    return password.encode("utf-16-be", "surrogatepass") + b"\x00\x00"


# --------------------------------------------------------------------------- KDFs


def pkcs12_kdf(
    digest: str, password: bytes, salt: bytes, iterations: int, purpose: int, length: int
) -> bytes:
    """RFC 7292 Appendix B.2: derive ``length`` bytes for ``purpose`` (1 key, 2 IV, 3 MAC).

    `cryptography` does not expose this KDF, so it is written out here over hashlib: the
    hash is iterated thousands of times and hashlib's per-call cost is a quarter of
    `cryptography`'s ``Hash`` objects, which decides the load time of a typical file.
    """
    ctor, v = _HASHLIB[digest]
    u = ctor().digest_size
    d = bytes((purpose,)) * v

    def stretch(data: bytes) -> bytes:
        if not data:
            return b""
        target = v * -(-len(data) // v)
        return (data * (target // len(data) + 1))[:target]

    i = bytearray(stretch(salt) + stretch(password))
    out = bytearray()
    while True:
        a = ctor(d + i).digest()
        for _ in range(iterations - 1):
            a = ctor(a).digest()
        out += a
        if len(out) >= length:
            return bytes(out[:length])
        b = int.from_bytes((a * (v // u + 1))[:v], "big") + 1
        mod = 1 << (8 * v)
        for pos in range(0, len(i), v):
            block = (int.from_bytes(i[pos : pos + v], "big") + b) % mod
            i[pos : pos + v] = block.to_bytes(v, "big")


def pbkdf2(prf: str, password: bytes, salt: bytes, iterations: int, length: int) -> bytes:
    """PBKDF2 (RFC 8018 section 5.2) through `cryptography`."""
    kdf = PBKDF2HMAC(_CRYPTO_HASH[prf](), length, salt, iterations)
    return kdf.derive(password)


def _check_iterations(count: int, limit: int, what: str) -> int:
    if not 1 <= count <= limit:
        raise PKCS12FormatError(f"{what}: iteration count {count} is out of range 1..{limit}")
    return count


# --------------------------------------------------------------------------- ciphers


def _cbc(algorithm: algorithms.BlockCipherAlgorithm, iv: bytes, data: bytes) -> bytes:
    try:
        dec = Cipher(algorithm, modes.CBC(iv)).decryptor()
        return dec.update(data) + dec.finalize()
    except ValueError as exc:  # wrong block length or IV size
        raise BadDecrypt(str(exc)) from exc


def _unpad(data: bytes, block: int) -> bytes:
    if not data or len(data) % block:
        raise BadDecrypt("ciphertext is not a whole number of blocks")
    n = data[-1]
    if not 1 <= n <= block or data[-n:] != bytes((n,)) * n:
        raise BadDecrypt("bad padding")
    return data[:-n]


def decrypt_cipher(name: str, key: bytes, iv: bytes, data: bytes) -> bytes:
    """Decrypt and unpad with one of our block ciphers (or RC4)."""
    if name == "rc4":
        dec = Cipher(decrepit.ARC4(key), mode=None).decryptor()
        return dec.update(data) + dec.finalize()
    if name == "aes":
        if len(iv) != 16:
            raise BadDecrypt("AES-CBC needs a 16-byte IV")
        return _unpad(_cbc(algorithms.AES(key), iv, data), 16)
    if len(iv) != 8 or not data or len(data) % 8:
        raise BadDecrypt("64-bit block cipher needs an 8-byte IV and whole blocks")
    if name == "3des":
        if len(key) == 16:  # two-key 3DES: K1 K2 K1
            key = key + key[:8]
        return _unpad(_cbc(decrepit.TripleDES(key), iv, data), 8)
    if name == "rc2":
        if len(key) == 16:
            return _unpad(_cbc(decrepit.RC2(key), iv, data), 8)
        return _unpad(rc2.cbc_decrypt(key, len(key) * 8, iv, data), 8)
    raise PKCS12FormatError(f"unsupported cipher {name}")


def encrypt_aes_cbc(key: bytes, iv: bytes, data: bytes) -> bytes:
    """AES-CBC with PKCS#7 padding, for `build_pkcs12`."""
    n = 16 - len(data) % 16
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(data + bytes((n,)) * n) + enc.finalize()


# --------------------------------------------------------------------------- algorithms


def _alg(node: der.Node, what: str) -> tuple[str, der.Node | None]:
    items = node.sequence(what, 1, 2)
    return items[0].oid(what), (items[1] if len(items) > 1 else None)


def _pbkdf2_params(node: der.Node | None, what: str) -> tuple[bytes, int, int | None, str]:
    """PBKDF2-params: salt, iteration count, optional key length, PRF name."""
    if node is None:
        raise PKCS12FormatError(f"{what}: PBKDF2 parameters missing")
    items = node.sequence(what, 2, 4)
    salt_node = items[0]
    if salt_node.tag != der.OCTET_STRING:
        raise PKCS12FormatError(f"{what}: only an explicit PBKDF2 salt is supported")
    salt = salt_node.content
    iterations = _check_iterations(items[1].integer(what), MAX_PBKDF2_ITERATIONS, what)
    key_length = None
    prf = "sha1"
    for extra in items[2:]:
        if extra.tag == der.INTEGER:
            key_length = extra.integer(what)
            if not 1 <= key_length <= 64:
                raise PKCS12FormatError(f"{what}: PBKDF2 key length {key_length} out of range")
        else:
            prf_oid, _ = _alg(extra, f"{what} PRF")
            if prf_oid not in HMACS:
                raise PKCS12FormatError(f"{what}: unsupported PBKDF2 PRF {prf_oid}")
            prf = HMACS[prf_oid]
    return salt, iterations, key_length, prf


@dataclass(frozen=True)
class Encryption:
    """A parsed encryption AlgorithmIdentifier: read (and checked) whole before any key is
    derived, so a load can sum the work a file demands before spending it."""

    scheme: str  # "pbes2" or "pkcs12" (a PKCS#12 PBE)
    cipher: str
    key_length: int
    salt: bytes
    iterations: int
    prf: str = "sha1"  # PBKDF2 PRF (PBES2 only)
    iv: bytes = b""  # PBES2: from the parameters
    iv_length: int = 0  # PKCS#12 PBE: derived with the key

    @property
    def derivation(self) -> tuple[tuple, int]:
        """(what identifies the key derivation, its iterations): the least this costs."""
        if self.scheme == "pbes2":
            return (
                "pbkdf2",
                self.prf,
                self.salt,
                self.iterations,
                self.key_length,
            ), self.iterations
        runs = 2 if self.iv_length else 1  # key and IV are two KDF runs
        ident = ("pkcs12", self.salt, self.iterations, self.key_length, self.iv_length)
        return ident, self.iterations * runs

    def derived(self, pw: Password) -> bool:
        """Whether this load already holds the key (so decrypting costs nothing more)."""
        if self.scheme == "pbes2":
            return self.derivation[0] in pw.cache
        tail = (self.salt, self.iterations, self.key_length, self.iv_length)
        return any(("pkcs12", candidate, *tail) in pw.cache for candidate in pw.bmp)


def parse_encryption(algorithm: der.Node, what: str) -> Encryption:
    """Read an AlgorithmIdentifier for PBES2 or a PKCS#12 PBE; no key is derived here.

    Raises `PKCS12FormatError` for parameters we cannot read or do not support.
    """
    oid, params = _alg(algorithm, what)
    if oid == PBES2:
        return _parse_pbes2(params, what)
    if oid in PKCS12_PBES:
        if params is None:
            raise PKCS12FormatError(f"{what}: PKCS#12 PBE parameters missing")
        salt_node, iter_node = params.sequence(f"{what} pkcs-12PbeParams", 2, 2)
        salt = salt_node.octet_string(what)
        iterations = _check_iterations(iter_node.integer(what), MAX_KDF_ITERATIONS, what)
        cipher, key_len, iv_len = PKCS12_PBES[oid]
        return Encryption("pkcs12", cipher, key_len, salt, iterations, iv_length=iv_len)
    raise PKCS12FormatError(
        f"{what}: unsupported encryption algorithm {oid} "
        "(supported: PBES2 with AES/3DES, PKCS#12 PBEs with 3DES/RC2/RC4)"
    )


def _parse_pbes2(params: der.Node | None, what: str) -> Encryption:
    if params is None:
        raise PKCS12FormatError(f"{what}: PBES2 parameters missing")
    kdf_node, scheme_node = params.sequence(f"{what} PBES2-params", 2, 2)
    kdf_oid, kdf_params = _alg(kdf_node, f"{what} keyDerivationFunc")
    if kdf_oid != PBKDF2:
        raise PKCS12FormatError(f"{what}: unsupported PBES2 key derivation {kdf_oid}")
    salt, iterations, key_length, prf = _pbkdf2_params(kdf_params, f"{what} PBKDF2-params")
    scheme_oid, iv_node = _alg(scheme_node, f"{what} encryptionScheme")
    if scheme_oid not in PBES2_CIPHERS:
        raise PKCS12FormatError(f"{what}: unsupported PBES2 cipher {scheme_oid}")
    cipher, size = PBES2_CIPHERS[scheme_oid]
    if key_length is not None and key_length != size:
        raise PKCS12FormatError(f"{what}: PBKDF2 key length does not fit the cipher")
    if iv_node is None or iv_node.tag != der.OCTET_STRING:
        raise PKCS12FormatError(f"{what}: PBES2 cipher IV missing")
    return Encryption("pbes2", cipher, size, salt, iterations, prf=prf, iv=iv_node.content)


def decrypt(spec: Encryption, data: bytes, pw: Password, what: str) -> bytes:
    """Decrypt ``data`` as ``spec`` says, charging each key derivation to ``pw.meter``.

    Raises `BadDecrypt` when no password encoding yields valid padding.
    """
    if spec.scheme == "pbes2":
        cache_key, cost = spec.derivation
        key = pw.cache.get(cache_key)
        if key is None:
            pw.meter.charge(cost, what)
            key = pbkdf2(spec.prf, pw.utf8, spec.salt, spec.iterations, spec.key_length)
            pw.cache[cache_key] = key
        return decrypt_cipher(spec.cipher, key, spec.iv, data)
    failure: BadDecrypt | None = None
    key_len, iv_len = spec.key_length, spec.iv_length
    for candidate in pw.bmp:
        cache_key = ("pkcs12", candidate, spec.salt, spec.iterations, key_len, iv_len)
        material = pw.cache.get(cache_key)
        if material is None:
            pw.meter.charge(spec.derivation[1], what)
            key = pkcs12_kdf("sha1", candidate, spec.salt, spec.iterations, KDF_KEY, key_len)
            iv = b""
            if iv_len:
                iv = pkcs12_kdf("sha1", candidate, spec.salt, spec.iterations, KDF_IV, iv_len)
            material = key + iv
            pw.cache[cache_key] = material
        try:
            return decrypt_cipher(spec.cipher, material[:key_len], material[key_len:], data)
        except BadDecrypt as exc:
            failure = exc
    raise failure or BadDecrypt("no password candidate")


def pbes2_algorithm(salt: bytes, iterations: int, iv: bytes) -> bytes:
    """AlgorithmIdentifier for PBES2 / PBKDF2-HMAC-SHA256 / AES-256-CBC."""
    kdf = der.algorithm(
        PBKDF2,
        der.sequence(
            der.octet_string(salt),
            der.integer(iterations),
            der.algorithm(HMAC_OIDS["sha256"]),
        ),
    )
    return der.algorithm(PBES2, der.sequence(kdf, der.algorithm(AES256_CBC, der.octet_string(iv))))


# --------------------------------------------------------------------------- MAC


@dataclass(frozen=True)
class MacSpec:
    """A parsed MacData: classic PKCS#12 HMAC or PBMAC1 (RFC 9579)."""

    digest: str  # hashlib name of the HMAC hash
    expected: bytes
    salt: bytes
    iterations: int
    pbmac1: tuple[str, bytes, int, int] | None = None  # (prf, salt, iterations, key length)

    @property
    def cost(self) -> int:
        """Iterations one verification attempt derives (the least checking the MAC costs)."""
        return self.pbmac1[2] if self.pbmac1 is not None else self.iterations


def parse_mac(node: der.Node) -> MacSpec:
    """MacData ::= SEQUENCE { mac DigestInfo, macSalt OCTET STRING, iterations INTEGER }."""
    what = "MacData"
    items = node.sequence(what, 2, 3)
    digest_info = items[0].sequence(f"{what} DigestInfo", 2, 2)
    alg_oid, alg_params = _alg(digest_info[0], f"{what} digestAlgorithm")
    expected = digest_info[1].octet_string(f"{what} digest")
    salt = items[1].octet_string(f"{what} macSalt")
    iterations = 1
    if len(items) == 3:
        iterations = _check_iterations(items[2].integer(what), MAX_KDF_ITERATIONS, what)
    if alg_oid == PBMAC1:
        return _parse_pbmac1(alg_params, expected, salt, iterations)
    if alg_oid not in DIGESTS:
        raise PKCS12FormatError(f"{what}: unsupported MAC digest {alg_oid}")
    return MacSpec(DIGESTS[alg_oid], expected, salt, iterations)


def _parse_pbmac1(params: der.Node | None, expected: bytes, salt: bytes, iters: int) -> MacSpec:
    what = "MacData PBMAC1-params"
    if params is None:
        raise PKCS12FormatError(f"{what}: missing")
    kdf_node, scheme_node = params.sequence(what, 2, 2)
    kdf_oid, kdf_params = _alg(kdf_node, what)
    if kdf_oid != PBKDF2:
        raise PKCS12FormatError(f"{what}: unsupported key derivation {kdf_oid}")
    k_salt, k_iters, k_len, prf = _pbkdf2_params(kdf_params, what)
    if k_len is None:
        raise PKCS12FormatError(f"{what}: PBKDF2 keyLength is required (RFC 9579)")
    scheme_oid, _ = _alg(scheme_node, what)
    if scheme_oid not in HMACS:
        raise PKCS12FormatError(f"{what}: unsupported MAC scheme {scheme_oid}")
    return MacSpec(HMACS[scheme_oid], expected, salt, iters, (prf, k_salt, k_iters, k_len))


def mac_matches(spec: MacSpec, content: bytes, password: Password) -> bytes | None:
    """The password encoding under which the MAC verifies, or None."""
    if spec.pbmac1 is not None:
        prf, salt, iterations, length = spec.pbmac1
        password.meter.charge(iterations, "MacData")
        key = pbkdf2(prf, password.utf8, salt, iterations, length)
        digest = hmac.new(key, content, _HASHLIB[spec.digest][0]).digest()
        return password.utf8 if hmac.compare_digest(digest, spec.expected) else None
    ctor = _HASHLIB[spec.digest][0]
    size = ctor().digest_size
    for candidate in password.bmp:
        password.meter.charge(spec.iterations, "MacData")
        key = pkcs12_kdf(spec.digest, candidate, spec.salt, spec.iterations, KDF_MAC, size)
        if hmac.compare_digest(hmac.new(key, content, ctor).digest(), spec.expected):
            return candidate
    return None


def mac_data(content: bytes, password: str, salt: bytes, iterations: int) -> bytes:
    """MacData with HMAC-SHA256 keyed by the PKCS#12 KDF, for `build_pkcs12`."""
    key = pkcs12_kdf("sha256", bmp_password(password), salt, iterations, KDF_MAC, 32)
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return der.sequence(
        der.sequence(der.algorithm(DIGEST_OIDS["sha256"]), der.octet_string(digest)),
        der.octet_string(salt),
        der.integer(iterations),
    )
