"""Key exchange for the TLS 1.3 key_share extension, all through `cryptography`.

Groups: x25519, secp256r1, secp384r1 and the hybrid X25519MLKEM768
(draft-ietf-tls-ecdhe-mlkem, code point 0x11EC, which tlslite-ng 0.8.2 also knows as
``GroupName.x25519mlkem768``). For the hybrid the client share is the ML-KEM-768
encapsulation key (1184 bytes) followed by an X25519 public key (32); the server answers
with the ML-KEM ciphertext (1088) followed by its X25519 key; the shared secret is the
ML-KEM secret followed by the X25519 secret.
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, mlkem, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ..errors import HandshakeError

__all__ = ["GROUPS", "GROUP_NAMES", "KeyShare", "SeededRandom", "seeded_bytes"]

#: Group name -> IANA NamedGroup code point.
GROUPS: dict[str, int] = {
    "x25519": 0x001D,
    "secp256r1": 0x0017,
    "secp384r1": 0x0018,
    "X25519MLKEM768": 0x11EC,
}
GROUP_NAMES: dict[int, str] = {code: name for name, code in GROUPS.items()}

_CURVES: dict[str, Callable[[], ec.EllipticCurve]] = {
    "secp256r1": ec.SECP256R1,
    "secp384r1": ec.SECP384R1,
}
_MLKEM_CT = 1088
_X25519_LEN = 32
# Group orders (SEC 2), to turn seeded bytes into a valid private scalar.
_ORDERS = {
    "secp256r1": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "secp384r1": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
}


def seeded_bytes(seed: bytes, label: str, length: int) -> bytes:
    """``length`` bytes that depend only on (seed, label): SHAKE256 as a labelled XOF."""
    digest = hashes.Hash(hashes.SHAKE256(length))
    digest.update(b"tlsengine deterministic mode\x00" + label.encode() + b"\x00" + bytes(seed))
    return digest.finalize()


class SeededRandom:
    """A ``random(n)`` for `ClientConfig` that replays: the i-th call depends on (seed, i).

    For deterministic handshakes in test harnesses only: anyone who knows the seed knows
    every value it gives, so a connection using it has no secrecy at all.
    """

    def __init__(self, seed: bytes) -> None:
        self._seed = bytes(seed)
        self._calls = 0

    def __repr__(self) -> str:
        return "SeededRandom(<seed hidden>)"

    def __call__(self, length: int) -> bytes:
        self._calls += 1
        return seeded_bytes(self._seed, f"random/{self._calls}", length)


def _bad_share(group: str, why: str) -> HandshakeError:
    err = HandshakeError(f"server key_share for {group} is invalid: {why}")
    err.send_alert = "illegal_parameter"
    return err


class KeyShare:
    """Our half of one group's key exchange: ``public`` goes on the wire, ``exchange`` finishes."""

    def __init__(self, group: str, seed: bytes | None = None) -> None:
        if group not in GROUPS:
            raise HandshakeError(
                f"unknown group {group!r}; supported: {', '.join(GROUPS)}", state="START"
            )
        self.group = group
        self.code = GROUPS[group]
        self._x25519: x25519.X25519PrivateKey | None = None
        self._ec: ec.EllipticCurvePrivateKey | None = None
        self._mlkem: mlkem.MLKEM768PrivateKey | None = None
        if seed is not None:
            self._seeded(bytes(seed))
        elif group == "x25519":
            self._x25519 = x25519.X25519PrivateKey.generate()
            self.public = self._x25519.public_key().public_bytes_raw()
        elif group in _CURVES:
            self._ec = ec.generate_private_key(_CURVES[group]())
            self.public = self._ec.public_key().public_bytes(
                Encoding.X962, PublicFormat.UncompressedPoint
            )
        else:
            self._mlkem = mlkem.MLKEM768PrivateKey.generate()
            self._x25519 = x25519.X25519PrivateKey.generate()
            self.public = (
                self._mlkem.public_key().public_bytes_raw()
                + self._x25519.public_key().public_bytes_raw()
            )

    def _seeded(self, seed: bytes) -> None:
        """Deterministic mode: the private keys come from the seed (see the module doc)."""
        group = self.group
        if group in _CURVES:
            scalar = int.from_bytes(seeded_bytes(seed, f"keyshare/{group}", 64), "big")
            self._ec = ec.derive_private_key(scalar % (_ORDERS[group] - 1) + 1, _CURVES[group]())
            self.public = self._ec.public_key().public_bytes(
                Encoding.X962, PublicFormat.UncompressedPoint
            )
            return
        self._x25519 = x25519.X25519PrivateKey.from_private_bytes(
            seeded_bytes(seed, f"keyshare/{group}/x25519", 32)
        )
        self.public = self._x25519.public_key().public_bytes_raw()
        if group == "X25519MLKEM768":
            self._mlkem = mlkem.MLKEM768PrivateKey.from_seed_bytes(
                seeded_bytes(seed, f"keyshare/{group}/mlkem", 64)
            )
            self.public = self._mlkem.public_key().public_bytes_raw() + self.public

    def __repr__(self) -> str:
        return f"KeyShare(group={self.group!r})"

    def exchange(self, peer: bytes) -> bytes:
        """The shared secret from the server's key_exchange bytes; bad input -> HandshakeError."""
        peer = bytes(peer)
        try:
            if self.group == "x25519":
                return self._x25519_exchange(peer)
            if self._ec is not None:
                curve = _CURVES[self.group]()
                if not peer or peer[0] != 4:
                    raise _bad_share(self.group, "not an uncompressed point")
                point = ec.EllipticCurvePublicKey.from_encoded_point(curve, peer)
                return self._ec.exchange(ec.ECDH(), point)
            if len(peer) != _MLKEM_CT + _X25519_LEN:
                raise _bad_share(self.group, f"{len(peer)} bytes, expected 1120")
            assert self._mlkem is not None
            kem_secret = self._mlkem.decapsulate(peer[:_MLKEM_CT])
            return kem_secret + self._x25519_exchange(peer[_MLKEM_CT:])
        except HandshakeError:
            raise
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise _bad_share(self.group, str(exc) or type(exc).__name__) from None

    def _x25519_exchange(self, peer: bytes) -> bytes:
        if len(peer) != _X25519_LEN:
            raise _bad_share(self.group, f"X25519 key of {len(peer)} bytes, expected 32")
        assert self._x25519 is not None
        # cryptography refuses an all-zero result (low-order point) with ValueError
        return self._x25519.exchange(x25519.X25519PublicKey.from_public_bytes(peer))
