"""PKCS#12 sources: only regular files are read, and within MAX_SIZE; base64 errors never
quote their input (it may be a password or a key pasted by mistake)."""

from __future__ import annotations

import base64
import os
import pathlib
import socket
import threading

import pytest

import tlsengine
from tlsengine.errors import PKCS12FormatError
from tlsengine.identity.sources import MAX_SIZE, decode_base64, read_source


@pytest.mark.parametrize("path", ["/dev/zero", pathlib.Path("/dev/zero"), b"/dev/urandom"])
def test_character_device_is_refused_by_kind(path) -> None:
    if isinstance(path, bytes):
        path = pathlib.Path(os.fsdecode(path))
    with pytest.raises(PKCS12FormatError, match="is a character device, not a PKCS#12 file"):
        read_source(path)


def test_fifo_is_refused_without_blocking(tmp_path) -> None:
    fifo = tmp_path / "store.p12"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def load() -> None:
        try:
            tlsengine.load_pkcs12(str(fifo), "pw")
        except BaseException as exc:  # noqa: BLE001 - hand it to the test thread
            outcome.append(exc)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(timeout=5)
    assert not thread.is_alive(), "opening a FIFO blocked"
    assert isinstance(outcome[0], PKCS12FormatError)
    assert "is a FIFO (named pipe)" in str(outcome[0])


def test_socket_and_directory_are_refused_by_kind(tmp_path) -> None:
    path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(PKCS12FormatError, match="is a socket"):
            read_source(path)
    with pytest.raises(PKCS12FormatError, match="is a directory"):
        read_source(str(tmp_path))


def test_oversized_regular_file_is_refused_before_reading(tmp_path) -> None:
    big = tmp_path / "huge.p12"
    with open(big, "wb") as handle:
        handle.truncate(MAX_SIZE + 1)  # sparse: costs no disk
    with pytest.raises(PKCS12FormatError, match="too large to be a PKCS#12 file"):
        read_source(big)


def test_regular_file_is_read_whole(tmp_path) -> None:
    path = tmp_path / "store.p12"
    path.write_bytes(b"\x30\x03\x02\x01\x03")
    assert read_source(path) == read_source(str(path)) == b"\x30\x03\x02\x01\x03"


SECRETS = [
    "hunter2!correct-horse",
    "Pässwörd-2024",
    "s3cr3t pass phrase?",
    "/no/such/dir/client.p12",
    "tab\there#",
]


@pytest.mark.parametrize("secret", SECRETS)
def test_base64_error_never_quotes_the_input(secret) -> None:
    with pytest.raises(PKCS12FormatError) as caught:
        read_source(secret)
    message = str(caught.value)
    assert "neither an existing file nor valid base64" in message
    assert f"{len(secret)}-character string" in message
    for word in secret.replace("\t", " ").replace("/", " ").split():
        if len(word) >= 4:
            assert word not in message


def test_base64_error_says_where_and_what(tmp_path) -> None:
    cases = {
        "abcd!efg": "character 5 is a punctuation character",
        "abcdé": "character 5 is a non-ASCII character",
        "ab\x07cd": "character 3 is a control character",
        "abc=defg": r"padding '=' appears before the end \(character 4\)",
        "abcde": "5 base64 characters cannot encode whole bytes",
        "ab===": "3 '=' padding characters follow 2 data characters, where 2 fit",
        # armour is skipped, the position still counts from the start of what was given
        "-----BEGIN PKCS12-----\nab!c\n-----END PKCS12-----": "character 26 is a punctuation",
    }
    for text, pattern in cases.items():
        with pytest.raises(PKCS12FormatError, match=pattern):
            decode_base64(text)


def test_a_pasted_key_is_not_echoed(pki) -> None:
    """A PEM private key with one character damaged: the error must not carry its body."""
    pem = pki.leaves["ec"].key_file.read_text()
    lines = pem.splitlines()
    lines[1] = lines[1][:10] + "!" + lines[1][11:]
    with pytest.raises(PKCS12FormatError) as caught:
        read_source("\n".join(lines))
    message = str(caught.value)
    assert "character" in message
    for line in lines[1:-1]:
        assert line[:12] not in message and line[-12:] not in message


def test_base64_still_decodes() -> None:
    raw = bytes(range(256))
    text = base64.b64encode(raw).decode()
    assert read_source(text) == raw
    assert decode_base64(base64.urlsafe_b64encode(raw).decode().rstrip("=")) == raw
