"""Audit of the identity layer: PKCS#12 sources that are not regular files, store atomicity,
and key material in repr/pickle."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading

import pytest

import tlsengine
from tlsengine.errors import IdentityError
from tlsengine.identity.pkcs12 import build_pkcs12
from tlsengine.identity.store import IdentityStore

_LOADER = """
import pathlib, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (700 << 20, 700 << 20))
import tlsengine
try:
    tlsengine.load_pkcs12(pathlib.Path(sys.argv[1]))
except tlsengine.IdentityError as exc:
    print("documented", type(exc).__name__)
except BaseException as exc:
    print("escaped", type(exc).__name__)
"""


def _load_in_child(path: str, timeout: float) -> str:
    try:
        done = subprocess.run(
            [sys.executable, "-c", _LOADER, path],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return "hang"
    return done.stdout.strip() or done.stderr.strip()[-200:]


def test_device_path_is_a_format_error_not_memory_exhaustion():
    assert _load_in_child("/dev/zero", 30).startswith("documented")


def test_fifo_path_does_not_hang(tmp_path):
    fifo = tmp_path / "keystore.p12"
    os.mkfifo(fifo)
    assert _load_in_child(str(fifo), 4).startswith("documented")


# --------------------------------------------------------------------------- regressions


@pytest.fixture(scope="module")
def keystores(root_ca):
    one = build_pkcs12([root_ca.identity("one", "p256")], "pw", iterations=1)
    two = build_pkcs12(
        [root_ca.identity("two", "p256"), root_ca.identity("three", "ed25519")], "pw", iterations=1
    )
    return one, two


def test_failed_load_keeps_identities_generation_and_pins(keystores):
    one, two = keystores
    store = IdentityStore()
    store.load(one, "pw")
    store.pin("h.example", "one")
    before = (store.snapshot(), store.generation, dict(store.pins))
    for bad, password in ((two, "wrong"), (two[:-7], "pw"), (b"\x30\x00", None), ("!!", "pw")):
        with pytest.raises(IdentityError):
            store.load(bad, password)
        with pytest.raises(IdentityError):
            store.load(bad, password, replace=False)
    assert (store.snapshot(), store.generation, dict(store.pins)) == before


def test_concurrent_load_and_iterate_never_mixes_files(keystores):
    one, two = keystores
    store = IdentityStore()
    store.load(one, "pw")
    allowed = {("one",), ("two", "three")}
    seen: set[tuple[str, ...]] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            seen.add(tuple(i.alias for i in store))

    thread = threading.Thread(target=reader)
    thread.start()
    for n in range(20):
        store.load(two if n % 2 else one, "pw")
    stop.set()
    thread.join()
    assert seen <= allowed


def test_no_key_material_in_repr_or_pickle(keystores, root_ca):
    identities = tlsengine.load_pkcs12(keystores[1], "pw")
    store = IdentityStore(identities)
    info = tlsengine.CertificateRequestInfo(
        version="TLSv1.3", signature_schemes=["ecdsa_secp256r1_sha256", "ed25519"]
    )
    selection = tlsengine.select_identity(info, identities)
    texts = [repr(store), str(store), repr(selection), selection.explain()]
    texts += [repr(v) for v in selection.verdicts] + [repr(i) + str(i) for i in identities]
    for identity in identities:
        raw = identity.private_key.private_bytes_raw() if identity.key_type == "ed25519" else None
        number = None if raw else identity.private_key.private_numbers().private_value
        for text in texts:
            assert "private_key" not in text
            if raw:
                assert raw.hex() not in text
            else:
                assert str(number) not in text and f"{number:x}" not in text
        with pytest.raises(TypeError):
            pickle.dumps(identity)
    for obj in (store, selection, selection.verdicts[0]):
        with pytest.raises(TypeError):
            pickle.dumps(obj)
