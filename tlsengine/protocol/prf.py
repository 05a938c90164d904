"""The TLS 1.2 key derivation (RFC 5246 sections 5, 6.3, 7.4.9 and RFC 7627 section 4).

Pure functions of their inputs, like keyschedule.py for TLS 1.3, so each can be checked
against published vectors. HMAC comes from `cryptography`. Only the AEAD suites exist here
(RFC 5288 AES-GCM, RFC 7905 ChaCha20-Poly1305): no MAC keys in the key block.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, hmac

from .keyschedule import CIPHER_SUITES

__all__ = [
    "ALL_CIPHER_SUITES",
    "CIPHER_SUITES_12",
    "CipherSuite12",
    "KeyBlock",
    "extended_master_secret",
    "finished_verify_data12",
    "key_block",
    "prf",
]

_ALGORITHMS: dict[str, hashes.HashAlgorithm] = {
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
}
#: verify_data length of every TLS 1.2 suite we offer (RFC 5246 section 7.4.9).
VERIFY_DATA_LENGTH = 12


@dataclass(frozen=True)
class CipherSuite12:
    """One TLS 1.2 ECDHE AEAD suite: the server key it needs, its AEAD and PRF hash."""

    name: str
    code: int
    auth: str  # "ecdsa" | "rsa": the server certificate's key type
    aead: str  # "aesgcm" | "chacha20"
    key_length: int
    hash_name: str

    @property
    def fixed_iv_length(self) -> int:
        """GCM: a 4-byte salt plus an explicit 8-byte nonce per record; ChaCha20: 12 bytes."""
        return 4 if self.aead == "aesgcm" else 12


_SUITES_12 = (
    ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0xC02B, "ecdsa", "aesgcm", 16, "sha256"),
    ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xC02F, "rsa", "aesgcm", 16, "sha256"),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", 0xC02C, "ecdsa", "aesgcm", 32, "sha384"),
    ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0xC030, "rsa", "aesgcm", 32, "sha384"),
    ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", 0xCCA9, "ecdsa", "chacha20", 32, "sha256"),
    ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0xCCA8, "rsa", "chacha20", 32, "sha256"),
)
CIPHER_SUITES_12: dict[str, CipherSuite12] = {row[0]: CipherSuite12(*row) for row in _SUITES_12}
#: Every suite name either machine can offer (what ``ClientContext(cipher_suites=)`` takes).
ALL_CIPHER_SUITES: tuple[str, ...] = (*CIPHER_SUITES, *CIPHER_SUITES_12)


def prf(hash_name: str, secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
    """PRF(secret, label, seed) = P_hash(secret, label + seed), cut to ``length`` bytes."""
    algorithm = _ALGORITHMS[hash_name]
    seed = label + seed

    def mac(data: bytes) -> bytes:
        h = hmac.HMAC(secret, algorithm)
        h.update(data)
        return h.finalize()

    out = bytearray()
    a = seed  # A(0)
    while len(out) < length:
        a = mac(a)  # A(i) = HMAC(secret, A(i-1))
        out += mac(a + seed)
    return bytes(out[:length])


def extended_master_secret(hash_name: str, premaster: bytes, session_hash: bytes) -> bytes:
    """master_secret bound to the handshake so far (RFC 7627 section 4)."""
    return prf(hash_name, premaster, b"extended master secret", session_hash, 48)


@dataclass(frozen=True)
class KeyBlock:
    """The AEAD keys and IVs of both directions (RFC 5246 section 6.3, no MAC keys)."""

    client_key: bytes
    server_key: bytes
    client_iv: bytes
    server_iv: bytes

    def __repr__(self) -> str:  # never show keys
        return "KeyBlock(...)"


def key_block(
    suite: CipherSuite12, master: bytes, client_random: bytes, server_random: bytes
) -> KeyBlock:
    """Expand the master secret; note the seed is server_random + client_random here."""
    k, iv = suite.key_length, suite.fixed_iv_length
    block = prf(
        suite.hash_name, master, b"key expansion", server_random + client_random, 2 * (k + iv)
    )
    return KeyBlock(block[:k], block[k : 2 * k], block[2 * k : 2 * k + iv], block[2 * k + iv :])


def finished_verify_data12(
    hash_name: str, master: bytes, label: bytes, handshake_hash: bytes
) -> bytes:
    """Finished.verify_data; ``label`` is b"client finished" or b"server finished"."""
    return prf(hash_name, master, label, handshake_hash, VERIFY_DATA_LENGTH)
