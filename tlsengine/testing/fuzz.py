"""The fuzz campaign behind ``make fuzz``: mutated server flights and mutated PKCS#12 files.

Flights (recorded once from a live tlslite-ng `TestServer`, replayed with `replay`), in four
families, taken in turn:

- ``bytes``: the protected records damaged outside the encryption (bit flips, truncation,
  inserted and repeated bytes);
- ``messages``: message-level mutations inside the encryption (drop, duplicate, swap,
  insert, corrupt, request edits), not re-signed;
- ``framings``: legal re-framings (n-byte records, coalesced), which MUST be accepted;
- ``resigned``: request edits (and drops) re-signed and re-MACed, so they reach selection.

PKCS#12 files, at four levels: ``byte`` (flips, truncation, insertion), ``der`` (a node of
the DER tree replaced, retagged, dropped, duplicated, lengthened, or made a huge INTEGER;
nested DER inside OCTET STRINGs is walked too), ``remac`` (a DER-tree mutation inside the
authenticated safe with the MAC recomputed, so it passes the integrity check), and
``sealed`` (a mutated SafeContents encrypted under PBES2 and MACed, so the mutation sits
behind valid encryption, as decrypt-mutate-re-encrypt puts it).

Findings: an *escape* (an exception outside tlsengine's error tree), a *hang* (one case
over 2 s of CPU time, so a loaded machine does not invent hangs), a *violation* (the
replay oracle's wire-order judgement, with its own key schedule) and a *refused framing*.
Run ``python -m tlsengine.testing.fuzz --flights N --pkcs12 M``; the exit status is 1 when
anything was found.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..cli.pki import CA
from ..errors import IdentityError
from ..identity import der, pbe
from ..identity.pkcs12 import DATA, ENCRYPTED_DATA, build_pkcs12, load_pkcs12
from ..protocol.config import ClientConfig
from .replay import (
    Corrupt,
    Drop,
    Duplicate,
    EditRequest,
    Insert,
    Mutation,
    Recording,
    Swap,
    record,
    replay,
)
from .server import TestServer

__all__ = ["Tally", "flight_campaign", "main", "pkcs12_campaign"]

HANG_SECONDS = 2.0
FLIGHT_FAMILIES = ("bytes", "messages", "framings", "resigned")
PKCS12_LEVELS = ("byte", "der", "remac", "sealed")
PASSWORD = "fuzz"
_ITERATIONS = 64  # cheap KDFs: the campaign is about structure, not PBKDF2 speed
_TARGETS = ("EncryptedExtensions", "CertificateRequest", "Certificate", "CertificateVerify")
_SCHEMES = (0x0403, 0x0503, 0x0804, 0x0807, 0x0808, 0x0401, 0x0201, 0x0A0A, 0xFE00, 0)


@dataclass
class Tally:
    """Counts per family and every finding, with the case that produced it."""

    runs: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    escapes: list[str] = field(default_factory=list)
    hangs: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    seconds: float = 0.0
    slowest: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.runs.values())

    @property
    def clean(self) -> bool:
        return not (self.escapes or self.hangs or self.violations)

    def count(self, family: str, outcome: str, seconds: float) -> None:
        self.runs[family] = self.runs.get(family, 0) + 1
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        self.slowest = max(self.slowest, seconds)

    def summary(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "runs": self.runs,
            "outcomes": self.outcomes,
            "escapes": len(self.escapes),
            "hangs": len(self.hangs),
            "violations": len(self.violations),
            "slowest_case_s": round(self.slowest, 3),
            "seconds": round(self.seconds, 1),
            "examples": (self.escapes + self.hangs + self.violations)[:5],
        }


# ---------------------------------------------------------------------------- flights


@dataclass
class _Setup:
    recordings: list[Recording]
    server_key: Any
    names: list[bytes]


def _record_flights() -> _Setup:
    """Two flights from a live server: one asking for a certificate by CA name, one not."""
    ca = CA.root("tlsengine fuzz root")
    cert, key = ca.issue("localhost", "p256", client=False, server=True, dns=["localhost"])
    identity = ca.identity("fuzz client", "p256")
    config = ClientConfig(server_name="localhost", identities=[identity])
    recordings = []
    for asks in (True, False):
        with TestServer(
            [cert], key, request_client_cert=asks, ca_names=[ca.certificate], app="echo"
        ) as srv:
            recordings.append(record(srv.address, config, seed=b"fuzz %d" % asks))
    names = [ca.name.public_bytes(), CA.root("stranger").name.public_bytes()]
    return _Setup(recordings, key, names)


def _damage(rng: random.Random) -> Callable[[bytes], bytes]:
    kind = rng.randrange(4)
    seed = rng.randrange(2**32)

    def damage(data: bytes) -> bytes:
        r = random.Random(seed)
        if not data:
            return data
        pos = r.randrange(len(data))
        if kind == 0:
            return data[:pos] + bytes((data[pos] ^ (1 << r.randrange(8)),)) + data[pos + 1 :]
        if kind == 1:
            return data[:pos]
        if kind == 2:
            return data[:pos] + r.randbytes(r.randrange(1, 8)) + data[pos:]
        return data[:pos] + data[pos : pos + r.randrange(1, 64)] + data[pos:]

    return damage


def _request_edit(rng: random.Random, names: list[bytes]) -> EditRequest:
    def maybe(value: Any) -> Any:
        return value if rng.random() < 0.5 else None

    return EditRequest(
        signature_algorithms=maybe(tuple(rng.choices(_SCHEMES, k=rng.randrange(4)))),
        certificate_authorities=maybe(
            tuple(rng.choice([*names, rng.randbytes(rng.randrange(12))]) for _ in range(2))[
                : rng.randrange(3)
            ]
        ),
        context=maybe(rng.randbytes(rng.randrange(3))),
        extra_extensions=tuple(
            (rng.choice((0, 16, 43, 47, 51, 0x1234)), rng.randbytes(rng.randrange(6)))
            for _ in range(rng.randrange(2) if rng.random() < 0.3 else 0)
        ),
    )


def _message_mutation(rng: random.Random, names: list[bytes]) -> Mutation:
    target: str | int = rng.choice((*_TARGETS, "Finished", rng.randrange(6)))
    kind = rng.randrange(6)
    if kind == 0:
        return Drop(target)
    if kind == 1:
        return Duplicate(target)
    if kind == 2:
        return Swap(target, rng.choice(_TARGETS))
    if kind == 3:
        body = rng.randbytes(rng.randrange(40))
        msg_type = rng.choice((4, 8, 11, 13, 15, 20, 24, 99))
        return Insert(rng.randrange(6), bytes((msg_type,)) + len(body).to_bytes(3, "big") + body)
    if kind == 4:
        return Corrupt(target, rng.randrange(4096), rng.randrange(1, 256))
    return _request_edit(rng, names)


def _one_flight(setup: _Setup, family: str, rng: random.Random) -> tuple[Any, str]:
    recording = rng.choice(setup.recordings)
    if family == "bytes":
        return replay(recording, damage=_damage(rng)), "damaged"
    if family == "messages":
        mutations = [_message_mutation(rng, setup.names) for _ in range(rng.randrange(1, 4))]
        return replay(recording, mutations), repr(mutations)
    if family == "framings":
        framing: str | int = rng.choice(
            ("coalesced", rng.randrange(1, 64), rng.randrange(1, 2**14))
        )
        return replay(recording, framing=framing), f"framing {framing}"
    mutations = [_request_edit(rng, setup.names)]
    if rng.random() < 0.2:
        mutations.append(_message_mutation(rng, setup.names))
    outcome = replay(recording, mutations, resign_flight=True, server_key=setup.server_key)
    return outcome, repr(mutations)


def _cases(count: int, seed: int, kinds: tuple[str, ...]) -> Iterator[tuple[int, str, Any]]:
    """(number, kind, the case's own random source): kinds in turn, each case replayable
    from (seed, number) alone."""
    rng = random.Random(seed)
    for i in range(count):
        yield i, kinds[i % len(kinds)], random.Random(rng.randrange(2**63))


def flight_campaign(count: int, seed: int = 0) -> Tally:
    """``count`` mutated flights, the four families in turn."""
    tally = Tally()
    setup = _record_flights()
    start = time.perf_counter()
    for i, family, case_rng in _cases(count, seed, FLIGHT_FAMILIES):
        try:
            outcome, case = _one_flight(setup, family, case_rng)
        except Exception as exc:  # noqa: BLE001 - a harness failure is a finding too
            tally.escapes.append(f"{family} #{i}: harness: {type(exc).__name__}: {exc}")
            continue
        label = "completed" if outcome.completed else (outcome.alert or "waiting")
        tally.count(family, label, outcome.seconds)
        for violation in outcome.violations:
            where = f"{family} #{i} ({case[:200]}): {violation}"
            if violation.startswith("escape"):
                tally.escapes.append(where)
            elif violation.startswith("hang"):
                tally.hangs.append(where)
            else:
                tally.violations.append(where)
        if family == "framings" and not outcome.completed:
            tally.violations.append(f"legal framing refused: {case}: {outcome.error}")
    tally.seconds = time.perf_counter() - start
    return tally


# ---------------------------------------------------------------------------- PKCS#12

# A parsed DER tree: (tag, bytes) for primitives, (tag, [children]) for constructed ones
# and for OCTET STRINGs whose content is itself DER (tag kept, re-wrapped on encoding).
Tree = tuple[int, Any]


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(raw),)) + raw


def _parse_der(data: bytes, depth: int = 0) -> list[Tree] | None:
    """Definite-length DER into a tree; None when ``data`` is not a clean TLV sequence."""
    out: list[Tree] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data) or data[pos] & 0x1F == 0x1F:
            return None
        tag, first = data[pos], data[pos + 1]
        pos += 2
        if first & 0x80:
            size = first & 0x7F
            if not 0 < size <= 3 or pos + size > len(data):
                return None
            length = int.from_bytes(data[pos : pos + size], "big")
            pos += size
        else:
            length = first
        if pos + length > len(data):
            return None
        content = data[pos : pos + length]
        pos += length
        inner = _parse_der(content, depth + 1) if depth < 12 and content else None
        if tag & 0x20 and inner is not None:
            out.append((tag, inner))
        elif tag == 0x04 and inner:
            out.append((tag, inner))
        else:
            out.append((tag, content))
    return out


def _encode(nodes: list[Tree]) -> bytes:
    out = []
    for tag, value in nodes:
        content = _encode(value) if isinstance(value, list) else value
        out.append(bytes((tag,)) + _length(len(content)) + content)
    return b"".join(out)


def _all_lists(nodes: list[Tree], found: list[list[Tree]]) -> list[list[Tree]]:
    found.append(nodes)
    for _, value in nodes:
        if isinstance(value, list):
            _all_lists(value, found)
    return found


def _mutate_tree(data: bytes, rng: random.Random) -> bytes:
    """One DER-tree mutation of ``data`` (byte-level when it does not parse)."""
    tree = _parse_der(data)
    if not tree:
        return _mutate_bytes(data, rng)
    siblings = rng.choice(_all_lists(tree, []))
    if not siblings:
        return _mutate_bytes(data, rng)
    i = rng.randrange(len(siblings))
    tag, value = siblings[i]
    kind = rng.randrange(7)
    if kind == 0:
        siblings[i] = (tag, rng.randbytes(rng.randrange(0, 24)))
    elif kind == 1:
        siblings[i] = (rng.choice((0x02, 0x04, 0x05, 0x06, 0x0C, 0x1E, 0x30, 0x31, 0xA0)), value)
    elif kind == 2:
        del siblings[i]
    elif kind == 3:
        siblings.insert(i, siblings[i])
    elif kind == 4:  # a huge INTEGER: the audit's 4,300-digit finding
        siblings[i] = (0x02, b"\x7f" + b"\xff" * rng.choice((8, 600, 2000, 5000)))
    elif kind == 5:  # an OID with a huge arc
        siblings[i] = (0x06, b"\x2a" + b"\xff" * rng.choice((8, 2000)) + b"\x01")
    else:
        raw = _encode([siblings[i]])
        siblings[i] = (tag, _mutate_bytes(raw[2:], rng))
    return _encode(tree)


def _mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return rng.randbytes(4)
    pos = rng.randrange(len(data))
    kind = rng.randrange(4)
    if kind == 0:
        return data[:pos] + bytes((data[pos] ^ (1 << rng.randrange(8)),)) + data[pos + 1 :]
    if kind == 1:
        return data[:pos]
    if kind == 2:
        return data[:pos] + rng.randbytes(rng.randrange(1, 16)) + data[pos:]
    return data[:pos] + bytes((rng.randrange(256),)) + data[pos + 1 :]


def _data_info(content: bytes) -> bytes:
    return der.sequence(der.oid(DATA), der.explicit(0, der.octet_string(content)))


def _pfx(auth_safe: bytes, rng: random.Random) -> bytes:
    mac = pbe.mac_data(auth_safe, PASSWORD, rng.randbytes(16), _ITERATIONS)
    return der.sequence(der.integer(3), _data_info(auth_safe), mac)


def _octets(node: Tree) -> bytes:
    """An OCTET STRING's content, whether or not it parsed as nested DER."""
    value = node[1]
    return _encode(value) if isinstance(value, list) else bytes(value)


def _wrapped(content_info: Tree) -> bytes:
    """ContentInfo { OID, [0] { OCTET STRING x } } -> x."""
    return _octets(content_info[1][1][1][0])


def _auth_safe(pfx: bytes) -> bytes:
    """The authenticated safe of a well-formed PFX (ours, from `build_pkcs12`)."""
    tree = _parse_der(pfx)
    assert tree is not None
    return _wrapped(tree[0][1][1])  # PFX = SEQ { version, ContentInfo, MacData }


def _safe_contents(plain_pfx: bytes) -> list[bytes]:
    """The plain SafeContents of an unencrypted PFX, in order (certificates, keys)."""
    tree = _parse_der(_auth_safe(plain_pfx))
    assert tree is not None
    return [_wrapped(info) for info in tree[0][1]]


def _sealed(contents: list[bytes], rng: random.Random) -> bytes:
    """SafeContents as PBES2-encrypted EncryptedData ContentInfos under a valid MAC."""
    salt = rng.randbytes(16)
    key = pbe.pbkdf2("sha256", PASSWORD.encode(), salt, _ITERATIONS, 32)
    infos = []
    for plain in contents:
        iv = rng.randbytes(16)
        sealed = pbe.encrypt_aes_cbc(key, iv, plain)
        alg = pbe.pbes2_algorithm(salt, _ITERATIONS, iv)
        encrypted = der.sequence(
            der.integer(0), der.sequence(der.oid(DATA), alg, der.implicit_primitive(0, sealed))
        )
        infos.append(der.sequence(der.oid(ENCRYPTED_DATA), der.explicit(0, encrypted)))
    return _pfx(der.sequence(*infos), rng)


@dataclass
class _Bases:
    sealed: list[bytes]  # with a password: PBES2 bags and a MAC
    plain: list[bytes]  # no password, no MAC
    contents: list[list[bytes]]  # the plain files' SafeContents


def _bases() -> _Bases:
    ca = CA.root("tlsengine fuzz p12 root")
    sub = ca.intermediate("tlsengine fuzz p12 sub")
    sets = [
        [ca.identity("one", "p256", alias="one")],
        [ca.identity("two", "ed25519", alias="two"), sub.identity("three", "p384", alias="3")],
    ]
    sealed = [build_pkcs12(s, PASSWORD, iterations=_ITERATIONS) for s in sets]
    plain = [build_pkcs12(s, None) for s in sets]
    return _Bases(sealed, plain, [_safe_contents(p) for p in plain])


def _one_pkcs12(bases: _Bases, level: str, rng: random.Random) -> tuple[bytes, str | None]:
    if level == "byte":
        data = rng.choice(bases.sealed + bases.plain)
        for _ in range(rng.randrange(1, 4)):
            data = _mutate_bytes(data, rng)
        return data, rng.choice((PASSWORD, None))
    if level == "der":
        return _mutate_tree(rng.choice(bases.sealed + bases.plain), rng), PASSWORD
    if level == "remac":
        auth_safe = _auth_safe(rng.choice(bases.sealed))
        return _pfx(_mutate_tree(auth_safe, rng), rng), PASSWORD
    contents = list(rng.choice(bases.contents))
    i = rng.randrange(len(contents))
    contents[i] = _mutate_tree(contents[i], rng)
    return _sealed(contents, rng), PASSWORD


def pkcs12_campaign(count: int, seed: int = 0) -> Tally:
    """``count`` mutated PKCS#12 files, the four levels in turn, each loaded once."""
    tally = Tally()
    bases = _bases()
    start = time.perf_counter()
    for i, level, case_rng in _cases(count, seed, PKCS12_LEVELS):
        data, password = _one_pkcs12(bases, level, case_rng)
        began = time.process_time()
        try:
            found = load_pkcs12(data, password)
            label = f"loaded {len(found)}"
        except IdentityError as exc:
            label = type(exc).__name__
        except Exception as exc:  # noqa: BLE001 - exactly what the campaign looks for
            label = "escape"
            tally.escapes.append(f"{level} #{i}: {type(exc).__name__}: {str(exc)[:200]}")
        seconds = time.process_time() - began
        if seconds > HANG_SECONDS:
            tally.hangs.append(f"{level} #{i}: {seconds:.2f} s")
        tally.count(level, label, seconds)
    tally.seconds = time.perf_counter() - start
    return tally


# ---------------------------------------------------------------------------- command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tlsengine.testing.fuzz")
    parser.add_argument("--flights", type=int, default=20_000, help="mutated flights to replay")
    parser.add_argument("--pkcs12", type=int, default=10_000, help="mutated PKCS#12 files")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", "0")))
    args = parser.parse_args(argv)
    report = {}
    clean = True
    for name, campaign, count in (
        ("flights", flight_campaign, args.flights),
        ("pkcs12", pkcs12_campaign, args.pkcs12),
    ):
        if count > 0:
            tally = campaign(count, args.seed)
            report[name] = tally.summary()
            clean = clean and tally.clean
    print(json.dumps(report, indent=1))
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
