"""IdentityStore: all-or-nothing loads, generations, pins, thread safety, no key leaks."""

from __future__ import annotations

import pickle
import threading
from types import MappingProxyType

import pytest

import tlsengine
from tlsengine.errors import IdentityError, PKCS12PasswordError
from tlsengine.identity import IdentityStore, build_pkcs12
from tlsengine.identity.model import Identity

from .helpers import private_der


@pytest.fixture(scope="module")
def two(pki) -> list[Identity]:
    return [
        Identity.create(pki.leaves[n].cert, pki.leaves[n].key, pki.leaves[n].chain, alias=n)
        for n in ("ec", "ed25519")
    ]


@pytest.fixture(scope="module")
def files(pki, two) -> dict[str, bytes]:
    third = Identity.create(pki.leaves["p384"].cert, pki.leaves["p384"].key, alias="p384")
    return {"two": build_pkcs12(two, "pw"), "one": build_pkcs12([third], "pw")}


def test_load_replaces_and_bumps_generation(files) -> None:
    store = IdentityStore()
    assert store.generation == 0 and len(store) == 0
    store.load(files["two"], "pw")
    assert [i.alias for i in store] == ["ec", "ed25519"]
    assert store.generation == 1
    store.load(files["one"], "pw")
    assert [i.alias for i in store] == ["p384"]
    assert store.generation == 2


def test_load_without_replace_appends_once(files) -> None:
    store = IdentityStore()
    store.load(files["two"], "pw")
    store.load(files["one"], "pw", replace=False)
    store.load(files["one"], "pw", replace=False)
    assert [i.alias for i in store] == ["ec", "ed25519", "p384"]


def test_generation_moves_only_when_something_changes(files, two) -> None:
    """The generation keys session resumption: a no-op must not throw good sessions away."""
    store = IdentityStore()
    store.load(files["two"], "pw")
    before, generation = store.snapshot(), store.generation
    store.load(files["two"], "pw", replace=False)  # everything already there
    assert store.snapshot() is before and store.generation == generation
    store.add(two[0])
    assert store.generation == generation
    store.pin("h.example", "ec")
    store.pin("H.Example.", two[0])  # the same pin again
    assert store.generation == generation + 1
    store.unpin("nowhere.example")
    assert store.generation == generation + 1
    store.load(files["one"], "pw", replace=False)  # adds p384
    assert [i.alias for i in store] == ["ec", "ed25519", "p384"]
    assert store.generation == generation + 2
    # a replacing load always counts: the same leaf may arrive with a new chain
    store.load(files["one"], "pw")
    store.load(files["one"], "pw")
    assert store.generation == generation + 4
    empty = IdentityStore()
    empty.clear()
    assert empty.generation == 0


def test_failed_load_changes_nothing(files) -> None:
    store = IdentityStore()
    store.load(files["two"], "pw")
    before, generation = store.snapshot(), store.generation
    with pytest.raises(PKCS12PasswordError):
        store.load(files["one"], "wrong")
    with pytest.raises(IdentityError):
        store.load(b"garbage", "pw")
    assert store.snapshot() is before
    assert store.generation == generation


def test_default_store_failed_load_keeps_old(files) -> None:
    try:
        tlsengine.load_client_certificate(files["two"], "pw")
        store = tlsengine.default_store()
        kept = store.snapshot()
        with pytest.raises(PKCS12PasswordError):
            tlsengine.load_client_certificate(files["one"], "wrong")
        assert tlsengine.default_store().snapshot() == kept
        assert [i.alias for i in tlsengine.default_store()] == ["ec", "ed25519"]
        tlsengine.load_client_certificate(files["one"], "pw")
        assert [i.alias for i in tlsengine.default_store()] == ["p384"]
    finally:
        tlsengine.clear_client_certificates()
    assert len(tlsengine.default_store()) == 0


def test_add_remove_clear(two) -> None:
    store = IdentityStore()
    store.add(two[0])
    store.add(two[0])
    store.add(two[1])
    assert len(store) == 2 and store.generation == 2
    store.remove("ec")
    assert [i.alias for i in store] == ["ed25519"]
    store.remove(two[1].fingerprint)
    assert len(store) == 0
    with pytest.raises(IdentityError, match="no identity"):
        store.remove("ec")
    with pytest.raises(IdentityError):
        store.add("not an identity")  # type: ignore[arg-type]
    store.add(two[0])
    generation = store.generation
    store.clear()
    assert len(store) == 0 and store.generation == generation + 1


def test_pins_are_read_only_and_bump_generation(two) -> None:
    store = IdentityStore(two)
    store.pin("API.Example.COM.", two[1])
    store.pin("other.example", "ec")
    store.pin("third.example", two[0].fingerprint.upper())
    assert store.pins == {
        "api.example.com": two[1].fingerprint,
        "other.example": two[0].fingerprint,
        "third.example": two[0].fingerprint,
    }
    assert isinstance(store.pins, MappingProxyType)
    with pytest.raises(TypeError):
        store.pins["x"] = "y"  # type: ignore[index]
    assert store.generation == 3
    with pytest.raises(IdentityError, match="neither a loaded alias"):
        store.pin("x.example", "nope")
    store.unpin("other.example")
    assert "other.example" not in store.pins


def test_snapshot_is_immutable(two) -> None:
    store = IdentityStore(two)
    snap = store.snapshot()
    assert isinstance(snap, tuple)
    store.remove("ec")
    assert len(snap) == 2 and len(store.snapshot()) == 1


def test_index_is_cached_per_generation(two) -> None:
    index_module = pytest.importorskip("tlsengine.identity.index")
    if not hasattr(index_module, "IdentityIndex"):
        pytest.skip("IdentityIndex not built yet (selection work)")
    IdentityIndex = index_module.IdentityIndex  # noqa: N806

    store = IdentityStore(two)
    first = store.index
    assert isinstance(first, IdentityIndex)
    assert store.index is first
    store.remove("ec")
    assert store.index is not first


def test_concurrent_readers_and_writers(files, two) -> None:
    store = IdentityStore()
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer(name: str) -> None:
        try:
            for _ in range(15):
                store.load(files[name], "pw")
                store.add(two[0])
        except BaseException as exc:  # noqa: BLE001 - report anything to the main thread
            errors.append(exc)

    def reader() -> None:
        try:
            while not stop.is_set():
                snap = store.snapshot()
                aliases = [i.alias for i in snap]
                assert aliases in (
                    [],
                    ["ec", "ed25519"],
                    ["p384"],
                    ["p384", "ec"],
                    ["ec", "ed25519"],
                ), aliases
                assert len(list(store)) >= 0
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    readers = [threading.Thread(target=reader) for _ in range(3)]
    writers = [threading.Thread(target=writer, args=(n,)) for n in ("two", "one")]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join(timeout=60)
    stop.set()
    for t in readers:
        t.join(timeout=10)
    assert not errors
    assert 30 <= store.generation <= 60  # every load bumps; add() only when it adds


def test_repr_and_str_never_show_key_material(two) -> None:
    store = IdentityStore(two)
    for ident in two:
        secret = private_der(ident.private_key)
        for text in (repr(ident), str(ident), repr(store), repr([ident])):
            assert secret.hex() not in text
            assert "PRIVATE KEY" not in text
            assert "private_key" not in text
        with pytest.raises(TypeError):
            pickle.dumps(ident)


def test_store_refuses_pickle_and_copy_with_a_clear_message() -> None:
    import copy

    store = IdentityStore()
    for attempt in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError, match="holds private keys"):
            attempt(store)


def test_default_store_second_load_replaces_unless_replace_false(files) -> None:
    """Issue 7: a second load_client_certificate() replaces the first (the contract);
    replace=False adds beside it, as the README shows."""
    try:
        tlsengine.load_client_certificate(files["two"], "pw")
        tlsengine.load_client_certificate(files["one"], "pw")
        assert [i.alias for i in tlsengine.default_store()] == ["p384"]
        tlsengine.load_client_certificate(files["two"], "pw", replace=False)
        assert [i.alias for i in tlsengine.default_store()] == ["p384", "ec", "ed25519"]
    finally:
        tlsengine.clear_client_certificates()
