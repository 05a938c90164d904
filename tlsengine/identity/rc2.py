"""RC2 (RFC 2268) with any effective key length, for legacy ``pbeWithSHAAnd40BitRC2-CBC``.

`cryptography` only offers RC2 with a 128-bit key, but OpenSSL's ``-legacy`` PKCS#12 files
still encrypt certificates with 40-bit RC2, so the key schedule and block decryption are
written out here. Speed is irrelevant: only a few kilobytes of certificates pass through.
"""

from __future__ import annotations

# RFC 2268 section 2: the permutation derived from the digits of pi.
PITABLE = bytes.fromhex(
    "d978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2"
    "179a59f587b34f1361456d8d09817d32bd8f40eb86b77b0bf09521225c6b4e82"
    "54d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626"
    "6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed7"
    "08e8eade8052eef784aa72ac354d6a2a961ad2715a1549744b9fd05e0418a4ec"
    "c2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731"
    "2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a9"
    "0d38341bab33ffb0bb480c5fb9b1cd2ec5f3db47e5a59c770aa62068fe7fc1ad"
)
_MASK = 0xFFFF
_SHIFTS = (1, 2, 3, 5)


def key_schedule(key: bytes, effective_bits: int) -> list[int]:
    """Expand ``key`` into the 64 16-bit round keys (RFC 2268 section 2)."""
    t = len(key)
    if not 1 <= t <= 128 or not 1 <= effective_bits <= 1024:
        raise ValueError("RC2 key must be 1..128 bytes with 1..1024 effective bits")
    table = bytearray(128)
    table[:t] = key
    for i in range(t, 128):
        table[i] = PITABLE[(table[i - 1] + table[i - t]) & 0xFF]
    t8 = (effective_bits + 7) // 8
    tm = 0xFF >> (8 * t8 - effective_bits)
    table[128 - t8] = PITABLE[table[128 - t8] & tm]
    for i in range(127 - t8, -1, -1):
        table[i] = PITABLE[table[i + 1] ^ table[i + t8]]
    return [table[2 * i] | (table[2 * i + 1] << 8) for i in range(64)]


def _decrypt_block(k: list[int], block: bytes) -> bytes:
    r = [block[0] | block[1] << 8, block[2] | block[3] << 8, block[4] | block[5] << 8,
         block[6] | block[7] << 8]  # fmt: skip
    j = 63
    for rounds in (5, -1, 6, -1, 5):
        if rounds < 0:  # reverse mashing round
            for i in (3, 2, 1, 0):
                r[i] = (r[i] - k[r[i - 1] & 63]) & _MASK
            continue
        for _ in range(rounds):  # reverse mixing rounds
            for i in (3, 2, 1, 0):
                s = _SHIFTS[i]
                x = ((r[i] >> s) | (r[i] << (16 - s))) & _MASK
                x -= k[j] + (r[i - 1] & r[i - 2]) + ((~r[i - 1]) & r[i - 3])
                r[i] = x & _MASK
                j -= 1
    return bytes(b for w in r for b in (w & 0xFF, w >> 8))


def _encrypt_block(k: list[int], block: bytes) -> bytes:
    r = [block[0] | block[1] << 8, block[2] | block[3] << 8, block[4] | block[5] << 8,
         block[6] | block[7] << 8]  # fmt: skip
    j = 0
    for rounds in (5, -1, 6, -1, 5):
        if rounds < 0:  # mashing round
            for i in (0, 1, 2, 3):
                r[i] = (r[i] + k[r[i - 1] & 63]) & _MASK
            continue
        for _ in range(rounds):
            for i in (0, 1, 2, 3):
                s = _SHIFTS[i]
                x = (r[i] + k[j] + (r[i - 1] & r[i - 2]) + ((~r[i - 1]) & r[i - 3])) & _MASK
                r[i] = ((x << s) | (x >> (16 - s))) & _MASK
                j += 1
    return bytes(b for w in r for b in (w & 0xFF, w >> 8))


def cbc_decrypt(key: bytes, effective_bits: int, iv: bytes, data: bytes) -> bytes:
    """RC2-CBC decryption without unpadding; ``data`` must be a multiple of 8 bytes."""
    if len(iv) != 8 or len(data) % 8:
        raise ValueError("RC2-CBC needs an 8-byte IV and whole 8-byte blocks")
    k = key_schedule(key, effective_bits)
    out = bytearray()
    prev = iv
    for pos in range(0, len(data), 8):
        block = data[pos : pos + 8]
        plain = _decrypt_block(k, block)
        out += bytes(a ^ b for a, b in zip(plain, prev, strict=True))
        prev = block
    return bytes(out)


def cbc_encrypt(key: bytes, effective_bits: int, iv: bytes, data: bytes) -> bytes:
    """RC2-CBC encryption without padding (tests use it to check decryption)."""
    if len(iv) != 8 or len(data) % 8:
        raise ValueError("RC2-CBC needs an 8-byte IV and whole 8-byte blocks")
    k = key_schedule(key, effective_bits)
    out = bytearray()
    prev = iv
    for pos in range(0, len(data), 8):
        block = bytes(a ^ b for a, b in zip(data[pos : pos + 8], prev, strict=True))
        prev = _encrypt_block(k, block)
        out += prev
    return bytes(out)
