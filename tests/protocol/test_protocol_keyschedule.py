"""RFC 8446 section 7 key schedule against the RFC 8448 "Simple 1-RTT Handshake" trace."""

from __future__ import annotations

from cryptography import x509

from tlsengine.protocol.keyschedule import (
    CIPHER_SUITES,
    KeySchedule,
    derive_secret,
    finished_verify_data,
    hkdf_expand_label,
    hkdf_extract,
    next_traffic_secret,
    traffic_keys,
    transcript_digest,
)
from tlsengine.selection.schemes import verify

# RFC 8448 section 3, byte for byte.
CLIENT_HELLO = bytes.fromhex(
    "010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7000006130113031302"
    "010000910000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103"
    "010400230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529a"
    "af2c002b0003020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d"
    "00020101001c00024001"
)
SERVER_HELLO = bytes.fromhex(
    "020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100002e0033"
    "0024001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304"
)
SHARED = bytes.fromhex("8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d")
ENCRYPTED_EXTENSIONS = bytes.fromhex(
    "080000240022000a00140012001d00170018001901000101010201030104001c0002400100000000"
)
CERTIFICATE = bytes.fromhex(
    "0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a864886f70d01010b0500300e310c"
    "300a06035504031303727361301e170d3136303733303031323335395a170d3236303733303031323335395a300e"
    "310c300a0603550403130372736130819f300d06092a864886f70d010101050003818d0030818902818100b4bb49"
    "8f8279303d980836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19e"
    "aa6af98c7ced43120998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c"
    "8ca9d9efbfae8ea6d1d03e2bd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603"
    "551d1304023000300b0603551d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5b927"
    "6b908c65f73a7267170618a54c5f8a7b337d2df7a594365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a"
    "03015156726096fd335e5e67f2dbf102702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b"
    "84e0a8b2f759409ba3eac9d91d402dcc0cc8f8961229ac9187b42b4de10000"
)
CERTIFICATE_VERIFY = bytes.fromhex(
    "0f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f824cd484145ab3ff52f1fda8477b0b7abc90db78"
    "e2d33a5c141a078653fa6bef780c5ea248eeaaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac02767145"
    "9e46445c9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda65cdf5aea20d53dfacd42f74f3"
)
SERVER_FINISHED_VERIFY = "9b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718"

SUITE = CIPHER_SUITES["TLS_AES_128_GCM_SHA256"]


def test_early_secret_without_psk_is_extract_of_zeros() -> None:
    schedule = KeySchedule(SUITE)
    assert schedule.early_secret.hex() == (
        "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a"
    )
    assert hkdf_extract("sha256", b"", b"") == schedule.early_secret


def test_derived_secret_uses_empty_transcript_hash() -> None:
    early = KeySchedule(SUITE).early_secret
    derived = derive_secret("sha256", early, b"derived", transcript_digest("sha256"))
    assert derived.hex() == "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba"


def test_handshake_traffic_secrets_match_rfc8448() -> None:
    hello_hash = transcript_digest("sha256", CLIENT_HELLO + SERVER_HELLO)
    assert hello_hash.hex() == "860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8"
    schedule = KeySchedule(SUITE)
    client, server = schedule.handshake(SHARED, hello_hash)
    assert schedule.handshake_secret.hex() == (
        "1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac"
    )
    assert client.hex() == "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21"
    assert server.hex() == "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38"


def test_traffic_keys_and_ivs_match_rfc8448() -> None:
    client = bytes.fromhex("b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21")
    server = bytes.fromhex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38")
    key, iv = traffic_keys(SUITE, client)
    assert (key.hex(), iv.hex()) == ("dbfaa693d1762c5b666af5d950258d01", "5bd3c71b836e0b76bb73265f")
    key, iv = traffic_keys(SUITE, server)
    assert (key.hex(), iv.hex()) == ("3fce516009c21727d0f2e4e86ee403bc", "5d313eb2671276ee13000b30")
    finished_key = hkdf_expand_label("sha256", client, b"finished", b"", 32)
    assert finished_key.hex() == (
        "b80ad01015fb2f0bd65ff7d4da5d6bf83f84821d1f87fdc7d3c75b5a7b42d9c4"
    )


def test_server_certificate_verify_of_rfc8448_checks_out() -> None:
    """Section 4.4.3: 64 spaces, the context string, a zero byte, then the transcript hash."""
    leaf = x509.load_der_x509_certificate(CERTIFICATE[11:-2])
    transcript = CLIENT_HELLO + SERVER_HELLO + ENCRYPTED_EXTENSIONS + CERTIFICATE
    content = (
        b" " * 64
        + b"TLS 1.3, server CertificateVerify\x00"
        + transcript_digest("sha256", transcript)
    )
    signature = CERTIFICATE_VERIFY[8:]
    verify(leaf.public_key(), "rsa_pss_rsae_sha256", signature, content, version="TLSv1.3")


def test_finished_and_application_secrets_match_rfc8448() -> None:
    schedule = KeySchedule(SUITE)
    _, server_hs = schedule.handshake(
        SHARED, transcript_digest("sha256", CLIENT_HELLO + SERVER_HELLO)
    )
    flight = ENCRYPTED_EXTENSIONS + CERTIFICATE + CERTIFICATE_VERIFY
    verify_data = finished_verify_data(
        "sha256", server_hs, transcript_digest("sha256", CLIENT_HELLO + SERVER_HELLO + flight)
    )
    assert verify_data.hex() == SERVER_FINISHED_VERIFY
    finished = bytes.fromhex("14000020" + SERVER_FINISHED_VERIFY)
    th = transcript_digest("sha256", CLIENT_HELLO + SERVER_HELLO + flight + finished)
    assert th.hex() == "9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13"
    client_app, server_app = schedule.application(th)
    assert schedule.master_secret.hex() == (
        "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919"
    )
    assert client_app.hex() == "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5"
    assert server_app.hex() == "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643"


def test_key_update_is_expand_label_traffic_upd() -> None:
    """Section 7.2: the next secret is HKDF-Expand-Label(secret, "traffic upd", "", Hash.length)."""
    secret = bytes(range(48))
    nxt = next_traffic_secret("sha384", secret)
    assert len(nxt) == 48 and nxt != secret
    assert nxt == hkdf_expand_label("sha384", secret, b"traffic upd", b"", 48)
    assert next_traffic_secret("sha384", nxt) != nxt


def test_expand_label_agrees_with_cryptography_hkdf_expand() -> None:
    """Our hand-rolled HMAC loop equals HKDF-Expand (RFC 5869), also past one hash block."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

    secret = bytes(range(32))
    for length in (12, 32, 80):
        label = b"tls13 key"
        info = length.to_bytes(2, "big") + bytes((len(label),)) + label + b"\x00"
        expected = HKDFExpand(hashes.SHA256(), length, info).derive(secret)
        assert hkdf_expand_label("sha256", secret, b"key", b"", length) == expected
