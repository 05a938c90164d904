"""Deterministic mode (a seeded client), JSON-lines traces and ``probe --trace``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, mlkem, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tlsengine.protocol import ClientConfig, ClientConnection, json_lines
from tlsengine.protocol.keyshare import KeyShare, SeededRandom
from tlsengine.protocol.trace import Trace
from tlsengine.testing import CA, TestServer

GROUPS = ("x25519", "secp256r1", "secp384r1", "X25519MLKEM768")


def client_hello(**config: object) -> bytes:
    conn = ClientConnection(ClientConfig(server_name="a.example", **config))  # type: ignore[arg-type]
    conn.start_handshake()
    return conn.data_to_send()


@pytest.mark.parametrize("group", GROUPS)
def test_same_seed_same_client_hello_byte_for_byte(group: str) -> None:
    first = client_hello(seed=b"seed-1", key_share_groups=(group,))
    assert first == client_hello(seed=b"seed-1", key_share_groups=(group,))
    assert first != client_hello(seed=b"seed-2", key_share_groups=(group,))


def test_without_a_seed_every_hello_differs() -> None:
    assert client_hello() != client_hello()


@pytest.mark.parametrize("group", GROUPS)
def test_seeded_share_completes_a_real_exchange(group: str) -> None:
    """The derived keys are real keys: a peer answering the seeded public value gets the
    same secret as the seeded share."""
    share = KeyShare(group, seed=b"x")
    assert share.public == KeyShare(group, seed=b"x").public
    assert share.public != KeyShare(group).public
    peer_x = x25519.X25519PrivateKey.generate()
    raw_x = peer_x.public_key().public_bytes_raw()
    if group == "x25519":
        expected = peer_x.exchange(x25519.X25519PublicKey.from_public_bytes(share.public))
        assert share.exchange(raw_x) == expected
    elif group == "X25519MLKEM768":
        encap = mlkem.MLKEM768PublicKey.from_public_bytes(share.public[:1184])
        kem_secret, ciphertext = encap.encapsulate()
        x_secret = peer_x.exchange(x25519.X25519PublicKey.from_public_bytes(share.public[1184:]))
        assert share.exchange(ciphertext + raw_x) == kem_secret + x_secret
    else:
        curve = ec.SECP256R1() if group == "secp256r1" else ec.SECP384R1()
        peer = ec.generate_private_key(curve)
        point = ec.EllipticCurvePublicKey.from_encoded_point(curve, share.public)
        encoded = peer.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        assert share.exchange(encoded) == peer.exchange(ec.ECDH(), point)


def test_seeded_random_hides_its_seed_and_advances() -> None:
    random = SeededRandom(b"top secret")
    assert "top secret" not in repr(random)
    assert random(32) != random(32)
    assert SeededRandom(b"s")(16) == SeededRandom(b"s")(16)


def test_seed_is_not_in_the_config_repr() -> None:
    assert "hush" not in repr(ClientConfig(seed=b"hush"))


def test_json_lines_are_sorted_numbered_and_count_dropped_entries() -> None:
    trace = Trace(maxlen=2)
    for i in range(3):
        trace.append({"type": "KeyUpdate", "direction": "in", "n": i})
    lines = json_lines(trace).splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2]
    assert lines[0] == '{"direction": "in", "n": 1, "seq": 1, "type": "KeyUpdate"}'
    assert json_lines([]) == ""


@pytest.fixture(scope="module")
def server(root_ca: CA):  # type: ignore[no-untyped-def]
    cert, key = root_ca.issue("localhost", "p256", client=False, server=True, dns=["localhost"])
    with TestServer(
        [cert], key, request_client_cert=True, ca_names=[root_ca.certificate], app="echo"
    ) as srv:
        yield srv


def probe_trace(address: tuple[str, int], cafile: str) -> list[dict[str, object]]:
    host, port = address
    done = subprocess.run(
        [sys.executable, "-m", "tlsengine", "probe", f"{host}:{port}", "--servername",
         "localhost", "--cafile", cafile, "--trace", "--json"],
        capture_output=True, text=True, timeout=60, env=dict(os.environ),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["requested"] is True
    return [json.loads(line) for line in done.stderr.splitlines()]


def test_probe_trace_prints_json_lines_that_diff_clean_between_runs(
    server: TestServer, root_ca: CA, tmp_path
) -> None:
    cafile = tmp_path / "ca.pem"
    cafile.write_bytes(root_ca.pem)
    first = probe_trace(server.address, str(cafile))
    types = [(e["direction"], e["type"]) for e in first]
    assert types[0] == ("out", "ClientHello")
    assert ("in", "CertificateRequest") in types
    assert ("selection", "Selection") in types  # the verdicts are in the trace
    assert first == probe_trace(server.address, str(cafile))
