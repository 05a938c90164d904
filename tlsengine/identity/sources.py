"""Turn whatever the caller handed us into PKCS#12 bytes.

Users paste keystores as base64 (often with line breaks or PEM-style armour), pass paths,
bundle them as package resources (``importlib.resources`` Traversables), or hand over bytes
they fetched themselves; one function accepts them all so every loader
behaves the same. URLs are not handled here: the identity layer never touches the network.
"""

from __future__ import annotations

import base64
import binascii
import importlib.resources.abc
import os
import re
import stat

from ..errors import PKCS12FormatError

Source = (
    bytes
    | bytearray
    | memoryview
    | str
    | os.PathLike[str]
    | os.PathLike[bytes]
    | importlib.resources.abc.Traversable
)

# Keep an upper bound so a wrong path (say, a disk image) fails fast instead of eating memory.
MAX_SIZE = 64 * 1024 * 1024

_ARMOUR = re.compile(r"-----(BEGIN|END)[^-]*-----")
_WHITESPACE = re.compile(r"\s+")
#: PEM labels of what people hand a PKCS#12 loader by mistake (a certificate, a key, a CSR)
_OTHER_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]*(?:CERTIFICATE|KEY|CRL)[A-Z0-9 ]*)-----")


def read_pkcs12(data: Source) -> bytes:
    """`read_source` for a PKCS#12 loader: a PEM certificate or key is refused with a way out."""
    raw = read_source(data)
    if raw[:1] != bytes((_SEQUENCE,)):
        _refuse_java_keystore(raw)
        refuse_other_pem(raw)
        return _base64_file(raw) or raw  # else the PKCS#12 parser names what is wrong
    return raw


def _base64_file(raw: bytes) -> bytes | None:
    """A file holding base64 PKCS#12 (``base64 id.p12 > id.b64``, a secret manager's export),
    decoded; None when it is not that."""
    try:
        text = raw.removeprefix(_UTF8_BOM).decode("ascii")
    except UnicodeDecodeError:
        return None
    decoded = _b64decode(_WHITESPACE.sub("", _ARMOUR.sub("", text)))
    return decoded if decoded is not None and decoded[:1] == bytes((_SEQUENCE,)) else None


#: Magic numbers of Java's own keystore formats, which Java users often hold instead
_JAVA_KEYSTORES = {b"\xfe\xed\xfe\xed": "a Java JKS", b"\xce\xce\xce\xce": "a Java JCEKS"}


def _refuse_java_keystore(raw: bytes) -> None:
    kind = _JAVA_KEYSTORES.get(raw[:4])
    if kind is not None:
        raise PKCS12FormatError(
            f"not a PKCS#12 but {kind} keystore; convert it with `keytool -importkeystore "
            "-srckeystore IN.jks -destkeystore OUT.p12 -deststoretype pkcs12`"
        )


def refuse_other_pem(raw: bytes) -> None:
    """Raise if ``raw`` is a PEM certificate or key: the usual mix-up, which the DER parser
    alone would report as "unexpected bytes" (or, once decoded, as a malformed PFX)."""
    found = _OTHER_PEM.search(raw[:65536])
    if found is None:
        return
    raise PKCS12FormatError(
        f"not a PKCS#12 but PEM text (-----BEGIN {found.group(1).decode()}-----): load a PEM "
        "certificate and key with SSLContext.load_cert_chain(certfile, keyfile), or bundle "
        "them into a PKCS#12 with `openssl pkcs12 -export -in CERT -inkey KEY -out FILE.p12`"
    )


def read_source(data: Source) -> bytes:
    """The raw PKCS#12 bytes behind ``data`` (bytes, base64 text, or a file path)."""
    if isinstance(data, bytes | bytearray | memoryview):
        return _from_bytes(bytes(data))
    if isinstance(data, os.PathLike):
        return _read_file(os.fspath(data))
    if isinstance(data, str):
        # exists(), not isfile(): a path to a device or FIFO must fail as what it is, not
        # as bad base64
        if _looks_like_path(data) and os.path.exists(data):
            return _read_file(data)
        return _from_text(data)
    if isinstance(data, importlib.resources.abc.Traversable):
        return _read_resource(data)
    raise PKCS12FormatError(
        f"cannot load a PKCS#12 from {type(data).__name__}; pass bytes, a base64 string, "
        "a file path or a package resource"
    )


#: Every PKCS#12 is a DER SEQUENCE, so its first byte is this; base64 text never starts so.
_SEQUENCE = 0x30
_UTF8_BOM = b"\xef\xbb\xbf"


def _from_text(text: str) -> bytes:
    """A string that names no file: base64 PKCS#12, or an error that says it is neither.

    A mistyped path such as ``certs/client`` is valid base64 (it decodes to 9 bytes), so
    decoding alone would blame the PKCS#12 parser; the first byte tells the two apart.
    Never quote the text: it may be a password or a key pasted into the wrong argument.
    """
    body = _WHITESPACE.sub("", _ARMOUR.sub("", text))
    if not body:
        raise PKCS12FormatError("empty string: expected base64 PKCS#12 data or a file path")
    raw = _b64decode(body)
    if raw is not None:  # a certificate decodes to a DER SEQUENCE too
        refuse_other_pem(text.encode("utf-8", "replace"))
    if raw is not None and raw[:1] == bytes((_SEQUENCE,)):
        return raw
    problem = _not_pkcs12(text, body, raw)
    if _looks_like_path(text):
        problem = f"no file by that name exists{_relative_to(text)}, and {problem}"
    raise PKCS12FormatError(
        f"the {len(text)}-character string is neither an existing file nor valid base64 "
        f"PKCS#12 data: {problem}"
    )


def _not_pkcs12(text: str, body: str, raw: bytes | None) -> str:
    """Why base64 ``text`` (``raw`` once decoded, None if it does not decode) is no PKCS#12."""
    if raw is None:
        return _base64_problem(text, body)
    if not raw:
        return "it decodes to nothing"
    return (
        f"as base64 it decodes to {len(raw)} bytes that do not start a DER SEQUENCE "
        "(byte 0x30), as every PKCS#12 does"
    )


def _relative_to(text: str) -> str:
    if os.path.isabs(text):
        return ""
    try:
        return f" (relative paths start at {os.getcwd()})"
    except OSError:  # the working directory was removed
        return ""


def _from_bytes(raw: bytes) -> bytes:
    """DER as given; base64 *text* handed over as bytes (a file read in binary mode, an
    HTTP body) is decoded, and other text gets a message instead of a DER parse error.

    Files are returned as read, not through here: `identity.files` reads PEM files with
    `read_source` too, and a one-certificate PEM would decode to that certificate's DER.
    """
    if not raw or raw[0] == _SEQUENCE:
        return raw  # DER, the common case: one byte compared
    try:
        text = raw.removeprefix(_UTF8_BOM).decode("ascii")
    except UnicodeDecodeError:
        return raw  # binary: the PKCS#12 parser names what is wrong with it
    refuse_other_pem(raw)
    body = _WHITESPACE.sub("", _ARMOUR.sub("", text))
    if body and set(body) <= _BASE64_CHARS:
        decoded = _b64decode(body)
        if decoded is not None and decoded[:1] == bytes((_SEQUENCE,)):
            return decoded
        raise PKCS12FormatError(
            f"the {len(raw)} bytes given are base64 text, not DER, and not a base64 "
            f"PKCS#12 either: {_not_pkcs12(text, body, decoded)}"
        )
    if _WHITESPACE.sub("", text).isprintable():
        raise PKCS12FormatError(
            f"the {len(raw)} bytes given are text, not a PKCS#12 (DER, which starts with "
            "byte 0x30) nor base64; to load a file, pass its path as a str or pathlib.Path, "
            "not as bytes"
        )
    return raw


def _b64decode(body: str) -> bytes | None:
    """Base64 (standard or URL-safe, padding optional) of armour-free text, or None."""
    padded = body + "=" * (-len(body) % 4)
    altchars = b"-_" if ("-" in padded or "_" in padded) else None
    try:
        return base64.b64decode(padded, altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        return None


def _looks_like_path(text: str) -> bool:
    return 0 < len(text) < 4096 and "\n" not in text and "\x00" not in text


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def _require_regular(mode: int, shown: str) -> None:
    """Only regular files: a device never ends (/dev/zero) and a FIFO blocks until written."""
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    raise PKCS12FormatError(f"{shown} is {kind}, not a PKCS#12 file")


def _read_file(path: str | bytes) -> bytes:
    shown = os.fsdecode(path)
    try:
        info = os.stat(path)
        _require_regular(info.st_mode, shown)
        if info.st_size > MAX_SIZE:
            raise PKCS12FormatError(
                f"{shown} is {info.st_size} bytes, too large to be a PKCS#12 file"
            )
        # O_NONBLOCK: if the path was swapped for a FIFO since stat(), open() must not wait
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags)
        with open(fd, "rb", closefd=True) as handle:
            _require_regular(os.fstat(fd).st_mode, shown)
            data = handle.read(MAX_SIZE + 1)  # the file may have grown since stat()
    except FileNotFoundError as exc:
        raise PKCS12FormatError(f"no such PKCS#12 file: {shown}") from exc
    except IsADirectoryError as exc:
        raise PKCS12FormatError(f"{shown} is a directory, not a PKCS#12 file") from exc
    except OSError as exc:
        raise PKCS12FormatError(f"cannot read PKCS#12 file {shown}: {exc.strerror}") from exc
    if len(data) > MAX_SIZE:
        raise PKCS12FormatError(f"{shown} is over {MAX_SIZE} bytes, too large to be a PKCS#12 file")
    return data


def _read_resource(resource: importlib.resources.abc.Traversable) -> bytes:
    """A PKCS#12 bundled with an app (``importlib.resources.files(pkg) / "id.p12"``), which
    may live inside a zip or wheel rather than on disk."""
    shown = f"package resource {resource.name!r}"
    try:
        if not resource.is_file():
            raise PKCS12FormatError(f"{shown} is not a file (missing, or a directory)")
        with resource.open("rb") as handle:
            data = handle.read(MAX_SIZE + 1)
    except OSError as exc:
        raise PKCS12FormatError(f"cannot read {shown}: {exc.strerror or exc}") from exc
    if len(data) > MAX_SIZE:
        raise PKCS12FormatError(f"{shown} is over {MAX_SIZE} bytes, too large to be a PKCS#12 file")
    return data


_BASE64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=")


def decode_base64(text: str) -> bytes:
    """Base64 with whitespace, line breaks and ``-----BEGIN ...-----`` armour tolerated."""
    body = _WHITESPACE.sub("", _ARMOUR.sub("", text))
    if not body:
        raise PKCS12FormatError("empty string: expected base64 PKCS#12 data or a file path")
    raw = _b64decode(body)
    if raw is None:
        raise PKCS12FormatError(
            f"the {len(text)}-character string is neither an existing file nor valid base64 "
            f"PKCS#12 data: {_base64_problem(text, body)}"
        )
    if not raw:
        raise PKCS12FormatError("base64 string decodes to nothing")
    return raw


def _base64_problem(text: str, body: str) -> str:
    """What is wrong with ``text`` as base64, never quoting it: it may be a password or key."""
    armour = [m.span() for m in _ARMOUR.finditer(text)]
    for position, char in enumerate(text):
        if char in _BASE64_CHARS or char.isspace():
            continue
        if any(start <= position < end for start, end in armour):
            continue
        return f"character {position + 1} is {_char_class(char)}, which base64 never uses"
    stripped = body.rstrip("=")
    if "=" in stripped:
        return f"padding '=' appears before the end (character {_nth_base64(text, stripped)})"
    if len(stripped) % 4 == 1:
        return (
            f"{len(stripped)} base64 characters cannot encode whole bytes "
            "(one is missing or one too many)"
        )
    return (
        f"{len(body) - len(stripped)} '=' padding characters follow {len(stripped)} data "
        f"characters, where {-len(stripped) % 4} fit"
    )


def _nth_base64(text: str, stripped: str) -> int:
    """1-based position in ``text`` of the first '=' inside the data (armour-free text)."""
    target = stripped.index("=")
    seen = 0
    armour = [m.span() for m in _ARMOUR.finditer(text)]
    for position, char in enumerate(text):
        if char.isspace() or any(start <= position < end for start, end in armour):
            continue
        if seen == target:
            return position + 1
        seen += 1
    return target + 1


def _char_class(char: str) -> str:
    if not char.isascii():
        return "a non-ASCII character"
    if not char.isprintable():
        return "a control character"
    return "a punctuation character"
