"""Selection time for 10, 1,000 and 10,000 identities, with CA names in the request.

The identities are distinct leaf certificates spread over 20 intermediate CAs (four key types,
keys reused so that building 10,000 certificates stays quick). The index is built once, as an
IdentityStore caches it per generation; the figure that matters is ``select_identity`` itself.
Materialising every verdict (for probe/explain) is timed separately: it is O(n) by nature.

Run: python3 bench/bench_selection.py
"""

from __future__ import annotations

import datetime
import statistics
import time

from tlsengine.identity.index import IdentityIndex
from tlsengine.identity.model import Identity
from tlsengine.selection import CertificateRequestInfo, select_identity
from tlsengine.testing import CA, generate_key

SIZES = (10, 1_000, 10_000)
CA_COUNT = 20


def build(count: int, cas: list[CA], keys: list) -> tuple[Identity, ...]:
    """``count`` identities round-robin over the CAs and keys; a seventh are expired."""
    now = datetime.datetime.now(datetime.UTC)
    out = []
    for n in range(count):
        ca = cas[n % len(cas)]
        kw = {}
        if n % 7 == 3:
            kw = {"not_before": now - datetime.timedelta(days=30), "not_after": now}
        cert, key = ca.issue(f"client {n}", keys[n % len(keys)], **kw)
        out.append(Identity.create(cert, key, (cert, ca.certificate, *ca.parents), f"id{n}"))
    return tuple(out)


def timed(fn, repeat: int) -> float:
    """Median wall time of ``fn`` in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    root = CA.root("bench root")
    cas = [root.intermediate(f"bench issuing CA {n}") for n in range(CA_COUNT)]
    keys = [generate_key(spec) for spec in ("p256", "p384", "ed25519", "rsa2048")]
    t0 = time.perf_counter()
    everyone = build(max(SIZES), cas, keys)
    print(f"built {len(everyone)} identities in {time.perf_counter() - t0:.1f} s")
    info = CertificateRequestInfo(
        version="TLSv1.3",
        certificate_authorities=[cas[7].name, cas[13].name],
        signature_schemes=["ecdsa_secp384r1_sha384", "rsa_pss_rsae_sha256", "ed25519"],
        server_name="bench.example",
    )
    print(
        f"{'identities':>10}  {'index build':>12}  {'select':>10}  {'select+verdicts':>16}  chosen"
    )
    for size in SIZES:
        identities = everyone[:size]
        t0 = time.perf_counter()
        index = IdentityIndex(identities)
        build_ms = (time.perf_counter() - t0) * 1000
        select_identity(info, index)  # warm the per-index name table
        select_ms = timed(lambda index=index: select_identity(info, index), 200)
        full_ms = timed(lambda index=index: select_identity(info, index).verdicts, 5)
        chosen = select_identity(info, index).identity
        print(
            f"{size:>10}  {build_ms:>9.1f} ms  {select_ms:>7.3f} ms  {full_ms:>13.2f} ms  "
            f"{chosen.alias if chosen else None}"
        )
    bare = CertificateRequestInfo(version="TLSv1.3", signature_schemes=info.signature_schemes)
    index = IdentityIndex(everyone)
    select_ms = timed(lambda: select_identity(bare, index), 50)
    print(f"without CA names, {len(everyone)} identities: select {select_ms:.3f} ms")


if __name__ == "__main__":
    main()
