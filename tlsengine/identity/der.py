"""A minimal DER/BER reader and DER writer, just enough for PKCS#12.

We walk PFX files ourselves (to keep every key, not only the first), so we need a TLV
reader that never lets ``IndexError`` escape: every malformed byte becomes a
`PKCS12FormatError` naming the structure that was being read. BER indefinite lengths and
constructed OCTET STRINGs are accepted on input because some Windows and Java tools emit
them; output is always DER.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import PKCS12FormatError

# Universal tags used by PKCS#12.
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
NULL = 0x05
OID = 0x06
UTF8_STRING = 0x0C
BMP_STRING = 0x1E
SEQUENCE = 0x30
SET = 0x31
CONSTRUCTED = 0x20

#: Nesting deeper than this is hostile input, not a keystore.
MAX_DEPTH = 48
#: Longest INTEGER content we read: PKCS#12 integers are versions, iteration counts and key
#: lengths, all far below 2^63. Bounding the bytes bounds every number a file can hand us
#: (Python refuses to print an int of more than 4,300 digits, and error messages print them).
MAX_INTEGER_BYTES = 8
#: Largest OID arc: 128 bits holds the UUID arcs of 2.25 (X.667), the widest in use.
MAX_OID_ARC_BITS = 128


class Node:
    """One TLV: ``tag`` byte and the content span ``data[start:end]`` (no copy made)."""

    __slots__ = ("tag", "data", "start", "end", "head", "depth")

    def __init__(self, tag: int, data: bytes, head: int, start: int, end: int, depth: int) -> None:
        self.tag = tag
        self.data = data
        self.head = head  # offset of the tag byte
        self.start = start
        self.end = end
        self.depth = depth

    @property
    def content(self) -> bytes:
        return self.data[self.start : self.end]

    @property
    def constructed(self) -> bool:
        return bool(self.tag & CONSTRUCTED)

    def children(self, what: str) -> list[Node]:
        """The TLVs inside a constructed node."""
        if not self.constructed:
            raise PKCS12FormatError(
                f"{what}: expected a constructed value, got tag 0x{self.tag:02x}"
            )
        return read_all(self.data, self.start, self.end, what, self.depth + 1)

    def expect(self, tag: int, what: str) -> Node:
        if self.tag != tag:
            raise PKCS12FormatError(f"{what}: expected tag 0x{tag:02x}, got 0x{self.tag:02x}")
        return self

    def sequence(self, what: str, minimum: int = 0, maximum: int | None = None) -> list[Node]:
        """Children of a SEQUENCE, checking the element count."""
        items = self.expect(SEQUENCE, what).children(what)
        if len(items) < minimum or (maximum is not None and len(items) > maximum):
            raise PKCS12FormatError(f"{what}: unexpected number of fields ({len(items)})")
        return items

    def octets(self, what: str) -> bytes:
        """OCTET STRING content, also in BER constructed form (any tag class)."""
        if not self.constructed:
            return self.content
        return b"".join(c.octets(what) for c in self.children(what))

    def octet_string(self, what: str) -> bytes:
        if self.tag not in (OCTET_STRING, OCTET_STRING | CONSTRUCTED):
            raise PKCS12FormatError(f"{what}: expected an OCTET STRING, got tag 0x{self.tag:02x}")
        return self.octets(what)

    def integer(self, what: str) -> int:
        """A small INTEGER (at most `MAX_INTEGER_BYTES` of content)."""
        self.expect(INTEGER, what)
        size = self.end - self.start
        if not size:
            raise PKCS12FormatError(f"{what}: empty INTEGER")
        if size > MAX_INTEGER_BYTES:
            raise PKCS12FormatError(
                f"{what}: INTEGER of {size} bytes is out of range (at most {MAX_INTEGER_BYTES})"
            )
        return int.from_bytes(self.content, "big", signed=True)

    def oid(self, what: str) -> str:
        self.expect(OID, what)
        return decode_oid(self.content, what)

    def explicit(self, number: int, what: str) -> Node:
        """The single value inside a ``[number] EXPLICIT`` wrapper."""
        self.expect(0xA0 | number, what)
        inner = self.children(what)
        if len(inner) != 1:
            raise PKCS12FormatError(f"{what}: [{number}] EXPLICIT must hold exactly one value")
        return inner[0]

    @property
    def encoded(self) -> bytes:
        """The whole TLV as it appeared in the input."""
        return self.data[self.head : self.end]


def _read(data: bytes, pos: int, limit: int, what: str, depth: int) -> tuple[Node, int]:
    """Read one TLV at ``pos``; return it and the offset just past it."""
    if depth > MAX_DEPTH:
        raise PKCS12FormatError(f"{what}: nesting too deep")
    if pos + 2 > limit:
        raise PKCS12FormatError(f"{what}: truncated (no room for tag and length)")
    head = pos
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise PKCS12FormatError(f"{what}: high tag numbers are not used by PKCS#12")
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    elif first == 0x80:
        if not tag & CONSTRUCTED:
            raise PKCS12FormatError(f"{what}: indefinite length on a primitive value")
        return _read_indefinite(data, head, pos, limit, tag, what, depth)
    else:
        count = first & 0x7F
        if count > 4 or pos + count > limit:
            raise PKCS12FormatError(f"{what}: bad length field")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > limit:
        raise PKCS12FormatError(f"{what}: truncated ({length} bytes announced, {limit - pos} left)")
    return Node(tag, data, head, pos, end, depth), end


def _read_indefinite(
    data: bytes, head: int, start: int, limit: int, tag: int, what: str, depth: int
) -> tuple[Node, int]:
    pos = start
    while True:
        if pos + 2 > limit:
            raise PKCS12FormatError(f"{what}: indefinite length without end-of-contents")
        if data[pos] == 0 and data[pos + 1] == 0:
            return Node(tag, data, head, start, pos, depth), pos + 2
        _, pos = _read(data, pos, limit, what, depth + 1)


def read_all(data: bytes, start: int, end: int, what: str, depth: int = 0) -> list[Node]:
    """Every TLV in ``data[start:end]``, back to back."""
    if depth > MAX_DEPTH:
        raise PKCS12FormatError(f"{what}: nesting too deep")
    nodes = []
    pos = start
    while pos < end:
        # Fast path for the common case (low tag, definite length of at most 3 bytes);
        # anything else goes through the careful reader.
        if pos + 2 <= end:
            tag = data[pos]
            first = data[pos + 1]
            if tag & 0x1F != 0x1F and first != 0x80 and first < 0x84:
                if first < 0x80:
                    body, length = pos + 2, first
                else:
                    count = first & 0x7F
                    body = pos + 2 + count
                    length = int.from_bytes(data[pos + 2 : body], "big")
                stop = body + length
                if body <= end and stop <= end:
                    nodes.append(Node(tag, data, pos, body, stop, depth))
                    pos = stop
                    continue
        node, pos = _read(data, pos, end, what, depth)
        nodes.append(node)
    return nodes


def parse(data: bytes, what: str) -> Node:
    """Exactly one TLV spanning all of ``data`` (trailing bytes are an error)."""
    node, end = _read(data, 0, len(data), what, 0)
    if end != len(data):
        raise PKCS12FormatError(f"{what}: {len(data) - end} unexpected bytes after the value")
    return node


_OID_CACHE: dict[bytes, str] = {}


def decode_oid(body: bytes, what: str = "OBJECT IDENTIFIER") -> str:
    """Dotted-decimal form of an OID's content bytes (the few PKCS#12 OIDs are memoised)."""
    cached = _OID_CACHE.get(body)
    if cached is not None:
        return cached
    dotted = _decode_oid(body, what)
    if len(_OID_CACHE) < 512:
        _OID_CACHE[body] = dotted
    return dotted


def _decode_oid(body: bytes, what: str) -> str:
    if not body or body[-1] & 0x80:
        raise PKCS12FormatError(f"{what}: malformed OBJECT IDENTIFIER")
    arcs: list[int] = []
    value = 0
    for byte in body:
        value = (value << 7) | (byte & 0x7F)
        if value >> MAX_OID_ARC_BITS:  # checked per byte: a 5,000-digit arc never forms
            raise PKCS12FormatError(
                f"{what}: OBJECT IDENTIFIER arc wider than {MAX_OID_ARC_BITS} bits"
            )
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(map(str, head + arcs[1:]))


def decode_bmp(body: bytes, what: str) -> str:
    """A BMPString (UTF-16BE; surrogate pairs accepted as OpenSSL writes them)."""
    try:
        return body.decode("utf-16-be")
    except UnicodeDecodeError as exc:
        raise PKCS12FormatError(f"{what}: BMPString is not valid UTF-16") from exc


# --------------------------------------------------------------------------- writer


def tlv(tag: int, content: bytes) -> bytes:
    """Encode one DER TLV."""
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    size = (n.bit_length() + 7) // 8
    return bytes((tag, 0x80 | size)) + n.to_bytes(size, "big") + content


def sequence(*items: bytes) -> bytes:
    return tlv(SEQUENCE, b"".join(items))


def set_of(items: Iterable[bytes]) -> bytes:
    """DER SET OF: elements sorted by their encoding (X.690 11.6)."""
    return tlv(SET, b"".join(sorted(items)))


def octet_string(value: bytes) -> bytes:
    return tlv(OCTET_STRING, value)


def integer(value: int) -> bytes:
    size = value.bit_length() // 8 + 1  # room for the sign bit
    return tlv(INTEGER, value.to_bytes(size, "big", signed=True))


def null() -> bytes:
    return b"\x05\x00"


def oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    values = [arcs[0] * 40 + arcs[1], *arcs[2:]]
    out = bytearray()
    for value in values:
        chunk = [value & 0x7F]
        value >>= 7
        while value:
            chunk.append(0x80 | (value & 0x7F))
            value >>= 7
        out.extend(reversed(chunk))
    return tlv(OID, bytes(out))


def bmp_string(text: str) -> bytes:
    return tlv(BMP_STRING, text.encode("utf-16-be"))


def explicit(number: int, content: bytes) -> bytes:
    return tlv(0xA0 | number, content)


def implicit_primitive(number: int, content: bytes) -> bytes:
    return tlv(0x80 | number, content)


def algorithm(dotted: str, params: bytes | None = None) -> bytes:
    """AlgorithmIdentifier; ``params=None`` writes NULL parameters."""
    return sequence(oid(dotted), null() if params is None else params)
