"""PKCS#12 sources: only regular files are read, and within MAX_SIZE; base64 errors never
quote their input (it may be a password or a key pasted by mistake)."""

from __future__ import annotations

import base64
import os
import pathlib
import socket
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tlsengine
from tlsengine.errors import PKCS12FormatError
from tlsengine.identity import build_pkcs12
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
    raw = b"\x30" + bytes(range(256))  # a PKCS#12 (DER SEQUENCE) starts with 0x30
    text = base64.b64encode(raw).decode()
    assert read_source(text) == raw
    assert decode_base64(base64.urlsafe_b64encode(raw).decode().rstrip("=")) == raw


# Issue 7, item 6: a mistyped path and base64 handed over as bytes.


def test_mistyped_path_says_no_such_file_and_not_base64(tmp_path, monkeypatch) -> None:
    """``certs/client`` (no extension) is valid base64: it used to reach the DER parser."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "certs").mkdir()
    with pytest.raises(PKCS12FormatError) as caught:
        tlsengine.load_pkcs12("certs/client")
    message = str(caught.value)
    assert "no file by that name exists" in message
    assert f"relative paths start at {tmp_path}" in message
    assert "9 bytes that do not start a DER SEQUENCE" in message
    assert "bad length field" not in message
    assert "certs/client" not in message  # a path may be a password in the wrong argument


def test_missing_path_that_is_not_base64_says_both() -> None:
    with pytest.raises(PKCS12FormatError) as caught:
        tlsengine.load_pkcs12("/no/such/dir/client.p12")
    message = str(caught.value)
    assert "no file by that name exists, and character 20 is a punctuation" in message


def test_real_pkcs12_as_base64_bytes_is_recognised(pki) -> None:
    """Base64 text read in binary mode (a file, an HTTP body) loads like the str would."""
    identity = pki.root.identity("base64 bytes client", "p256", alias="b64")
    der = build_pkcs12([identity], "pw")
    assert [i.fingerprint for i in tlsengine.load_pkcs12(base64.b64encode(der), "pw")] == [
        identity.fingerprint
    ]
    text = base64.encodebytes(der)  # line breaks every 76 characters
    armoured = b"-----BEGIN PKCS12-----\n" + text + b"-----END PKCS12-----\n"
    for data in (base64.b64encode(der), text, armoured, b"\xef\xbb\xbf" + text):
        assert read_source(data) == der
        assert read_source(bytearray(data)) == der
    assert read_source(der) == der


def test_text_bytes_that_are_not_base64_are_named_as_text() -> None:
    with pytest.raises(PKCS12FormatError, match=r"16 bytes given are text.*pass its path as a str"):
        read_source(b"certs/client.p12")


def test_base64_bytes_of_something_else_say_so() -> None:
    with pytest.raises(PKCS12FormatError) as caught:
        read_source(base64.b64encode(b"hello world, not DER"))
    assert "are base64 text, not DER, and not a base64 PKCS#12 either" in str(caught.value)
    assert "do not start a DER SEQUENCE" in str(caught.value)
    with pytest.raises(PKCS12FormatError, match="padding '=' appears before the end"):
        read_source(b"MIIBxx==x")


def test_binary_garbage_still_reaches_the_der_parser() -> None:
    with pytest.raises(PKCS12FormatError, match="not a PKCS#12 file"):
        tlsengine.load_pkcs12(b"\x04\x01\xff\x00")


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=64), st.text(max_size=64)))
def test_any_input_is_bytes_or_a_format_error(data) -> None:
    try:
        out = read_source(data)
    except PKCS12FormatError as exc:
        assert str(exc)
    else:
        assert isinstance(out, bytes)
        if isinstance(data, str) or out != data:  # decoded: only a DER SEQUENCE gets through
            assert out[:1] == b"\x30"
