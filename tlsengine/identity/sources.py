"""Turn whatever the caller handed us into PKCS#12 bytes.

Users paste keystores as base64 (often with line breaks or PEM-style armour), pass paths, or
hand over bytes they fetched themselves; one function accepts them all so every loader
behaves the same. URLs are not handled here: the identity layer never touches the network.
"""

from __future__ import annotations

import base64
import binascii
import os
import re

from ..errors import PKCS12FormatError

Source = bytes | bytearray | memoryview | str | os.PathLike[str] | os.PathLike[bytes]

# Keep an upper bound so a wrong path (say, a disk image) fails fast instead of eating memory.
MAX_SIZE = 64 * 1024 * 1024

_ARMOUR = re.compile(r"-----(BEGIN|END)[^-]*-----")
_WHITESPACE = re.compile(r"\s+")


def read_source(data: Source) -> bytes:
    """The raw PKCS#12 bytes behind ``data`` (bytes, base64 text, or a file path)."""
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    if isinstance(data, os.PathLike):
        return _read_file(os.fspath(data))
    if isinstance(data, str):
        if _looks_like_path(data) and os.path.isfile(data):
            return _read_file(data)
        return decode_base64(data)
    raise PKCS12FormatError(
        f"cannot load a PKCS#12 from {type(data).__name__}; pass bytes, a base64 string "
        "or a file path"
    )


def _looks_like_path(text: str) -> bool:
    return 0 < len(text) < 4096 and "\n" not in text and "\x00" not in text


def _read_file(path: str | bytes) -> bytes:
    shown = os.fsdecode(path)
    try:
        size = os.path.getsize(path)
        if size > MAX_SIZE:
            raise PKCS12FormatError(f"{shown} is {size} bytes, too large to be a PKCS#12 file")
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError as exc:
        raise PKCS12FormatError(f"no such PKCS#12 file: {shown}") from exc
    except IsADirectoryError as exc:
        raise PKCS12FormatError(f"{shown} is a directory, not a PKCS#12 file") from exc
    except OSError as exc:
        raise PKCS12FormatError(f"cannot read PKCS#12 file {shown}: {exc.strerror}") from exc


def decode_base64(text: str) -> bytes:
    """Base64 with whitespace, line breaks and ``-----BEGIN ...-----`` armour tolerated."""
    body = _WHITESPACE.sub("", _ARMOUR.sub("", text))
    if not body:
        raise PKCS12FormatError("empty string: expected base64 PKCS#12 data or a file path")
    body += "=" * (-len(body) % 4)
    altchars = b"-_" if ("-" in body or "_" in body) else None
    try:
        raw = base64.b64decode(body, altchars=altchars, validate=True)
    except (binascii.Error, ValueError) as exc:
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise PKCS12FormatError(
            f"{shown!r} is neither an existing file nor valid base64 PKCS#12 data"
        ) from exc
    if not raw:
        raise PKCS12FormatError("base64 string decodes to nothing")
    return raw
