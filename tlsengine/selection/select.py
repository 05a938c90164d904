"""`select_identity`: the one seam where a client identity is chosen, with reasons for all.

A pure function of the CertificateRequest, the identities, pins, a clock reading and an
optional callback. Hard filters exclude (no usable scheme, no named CA in the chain, OID
filters unmet); survivors are ranked (pinned; validity and EKU/key usage in Java NewSunX509's
order; chain coverage by signature_algorithms_cert; the server's scheme order; load order).
Judging works on `IdentityIndex` groups, so 10,000 identities cost what their few distinct
CAs and key types cost; per-candidate verdicts are built only when someone reads them.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..errors import IdentityError
from ..identity.index import CertSignature, IdentityFacts, IdentityIndex
from ..identity.model import Identity, normalise_fingerprint
from . import oid_filters
from .names import name_key
from .request import CertificateRequestInfo
from .schemes import SCHEMES, can_make, certificate_signature_scheme, narrow_by_certificate_types

CLIENT_AUTH = "1.3.6.1.5.5.7.3.2"
ANY_EKU = "2.5.29.37.0"

# Verdict codes.
CHOSEN = "chosen"
OUTRANKED = "outranked"
NO_COMMON_SCHEME = "no-common-scheme"
CA_MISMATCH = "ca-mismatch"
OID_FILTER_MISMATCH = "oid-filter-mismatch"
CALLBACK_DECLINED = "callback-declined"

Callback = Callable[[CertificateRequestInfo, list["Verdict"]], Identity | None]
Pins = Mapping[str, str | Iterable[str]]


class Verdict(NamedTuple):
    """One candidate's outcome: unpacks as (identity, verdict, notes, reason)."""

    identity: Identity
    verdict: str
    notes: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class _GroupJudgement:
    """What a request makes of one IdentityGroup (everything but validity and pins)."""

    scheme: str | None  # first offered scheme the key can make; None excludes
    preference: int  # its position in the server's list
    ca_ok: bool
    covered: bool
    eku_mismatch: bool
    ku_mismatch: bool


class _Request:
    """The request, digested once: narrowed schemes, coverage set, matched issuers."""

    def __init__(self, info: CertificateRequestInfo, index: IdentityIndex) -> None:
        self.info = info
        offered = list(info.signature_schemes)
        if info.version == "TLSv1.2" and info.certificate_types is not None:
            offered = narrow_by_certificate_types(offered, info.certificate_types)
        self.offered = [s for s in offered if s in SCHEMES]
        cert_list = info.signature_schemes_cert
        self.coverage = set(info.signature_schemes if cert_list is None else cert_list)
        self.index = index
        self.groups: dict[int, _GroupJudgement] = {}
        self.ca_groups: set[int] | None = None
        if info.certificate_authorities:
            self.ca_groups = _groups_under(index, info)

    def judge(self, gid: int) -> _GroupJudgement:
        judgement = self.groups.get(gid)
        if judgement is None:
            facts = self.index.groups[gid].facts
            scheme, preference = self._scheme(facts)
            judgement = self.groups[gid] = _GroupJudgement(
                scheme=scheme,
                preference=preference,
                ca_ok=self.ca_groups is None or gid in self.ca_groups,
                covered=all(_covered(sig, self.coverage) for sig in facts.signatures),
                eku_mismatch=facts.eku is not None
                and CLIENT_AUTH not in facts.eku
                and ANY_EKU not in facts.eku,
                ku_mismatch=facts.digital_signature is False,
            )
        return judgement

    def _scheme(self, facts: IdentityFacts) -> tuple[str | None, int]:
        profile = (facts.key_type, facts.curve, facts.rsa_bytes)
        for n, name in enumerate(self.offered):
            if can_make(profile, SCHEMES[name], self.info.version):
                return name, n
        return None, len(self.offered)


def _covered(sig: CertSignature, coverage: set[str]) -> bool:
    """RFC 8446 4.4.2.2: self-signed certificates need not use a listed algorithm."""
    if sig.self_signed:
        return True
    scheme = certificate_signature_scheme(sig.algorithm_oid, sig.hash_name, sig.issuer_key_oid)
    return scheme in coverage


def _groups_under(index: IdentityIndex, info: CertificateRequestInfo) -> set[int]:
    """Groups with a chain issuer (or last subject) among the CA names: DER, then RFC 5280."""
    by_key = index.memo.get("selection.issuers_by_name_key")
    if by_key is None:
        by_key = {}
        for der, name in index.issuer_names.items():
            if der in index.by_issuer:
                by_key.setdefault(name_key(name), []).append(der)
        index.memo["selection.issuers_by_name_key"] = by_key
    groups: set[int] = set()
    for name, der in zip(
        info.certificate_authorities, info.certificate_authorities_der, strict=True
    ):
        groups.update(index.by_issuer.get(der, ()))
        for issuer_der in by_key.get(name_key(name), ()):
            groups.update(index.by_issuer[issuer_der])
    return groups


def _host(name: str | None) -> str | None:
    return name.rstrip(".").lower() if name else None


def _pinned_fingerprints(pins: Pins | None, server_name: str | None) -> set[str]:
    """The fingerprints pinned for ``server_name``; every pin is checked, used or not.

    Keys are compared as host names (case and a trailing dot ignored), so two spellings of
    one host pool their fingerprints rather than the later silently hiding the earlier.
    """
    if pins is None:
        return set()
    if not isinstance(pins, Mapping):
        raise IdentityError(f"pins must map host names to fingerprints, not {type(pins).__name__}")
    host = _host(server_name)
    found: set[str] = set()
    for key, value in pins.items():
        if not isinstance(key, str):
            raise IdentityError(f"pins keys must be host names (str), not {type(key).__name__}")
        fingerprints = _pin_values(key, value)
        if host is not None and _host(key) == host:
            found |= fingerprints
    return found


def _pin_values(host: str, value: object) -> set[str]:
    """A pin's fingerprint(s), normalised: SHA-256 hex, colons and spaces dropped."""
    if isinstance(value, str):
        values: list[object] = [value]
    elif isinstance(value, Iterable) and not isinstance(value, bytes | bytearray | Mapping):
        values = list(value)
    else:
        raise IdentityError(
            f"pins[{host!r}] must be a SHA-256 fingerprint or a set of them, "
            f"not {type(value).__name__}"
        )
    out = set()
    for item in values:
        if not isinstance(item, str):
            raise IdentityError(
                f"pins[{host!r}] holds a value of type {type(item).__name__}; fingerprints "
                "are hex strings"
            )
        fingerprint = normalise_fingerprint(item)
        if fingerprint is None:
            raise IdentityError(
                f"pins[{host!r}] has {item!r}, not a SHA-256 fingerprint "
                "(64 hex digits, colons allowed)"
            )
        out.add(fingerprint)
    return out


class Selection:
    """The outcome: the identity to send (or None), its scheme, and every candidate's verdict.

    ``verdicts`` is built on first access (chosen first, then the other survivors by rank,
    then the excluded in load order), so a handshake that only needs the choice does not pay
    for explaining 10,000 candidates.
    """

    def __init__(
        self,
        identity: Identity | None,
        scheme: str | None,
        *,
        info: CertificateRequestInfo,
        _judge: _Judge | None = None,
        _verdicts: list[Verdict] | None = None,
    ) -> None:
        self.identity = identity
        self.scheme = scheme
        self.info = info
        self._judge = _judge
        self._verdicts = _verdicts

    @property
    def verdicts(self) -> list[Verdict]:
        if self._verdicts is None:
            self._verdicts = self._judge.verdicts(self.identity) if self._judge else []
        return self._verdicts

    def rank_of(self, identity: Identity) -> tuple[Any, ...] | None:
        """The ranking key of a surviving identity (lower is better), None if excluded.

        Its last element is the load position; everything before it is what the ranking
        compares first (pinned, EKU, validity, key usage, coverage, scheme preference).
        """
        if self._judge is None:
            return None
        return self._judge.rank_of(identity)

    def explain(self) -> str:
        """A short table, one line per candidate: verdict, alias, notes, reason."""
        head = f"{self.info.version} CertificateRequest"
        if self.info.server_name:
            head += f" from {self.info.server_name}"
        chosen = (
            f"sending {self.identity.alias!r} with {self.scheme}"
            if self.identity is not None
            else "sending no certificate"
        )
        lines = [f"{head}: {chosen}"]
        rows = [
            (v.verdict, v.identity.alias[:32], ", ".join(v.notes) or "-", v.reason)
            for v in self.verdicts
        ]
        if not rows:
            lines.append("  (no identities loaded)")
        widths = [max(len(row[n]) for row in rows) for n in range(3)] if rows else []
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            lines.append("  " + "  ".join([*cells, row[3]]))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (``tlsengine probe --json``'s chosen/scheme/candidates)."""
        return {
            "chosen": self.identity.alias if self.identity is not None else None,
            "scheme": self.scheme,
            "candidates": [
                {
                    "alias": v.identity.alias,
                    "fingerprint": v.identity.fingerprint,
                    "verdict": v.verdict,
                    "notes": list(v.notes),
                    "reason": v.reason,
                }
                for v in self.verdicts
            ],
        }

    def __repr__(self) -> str:
        alias = self.identity.alias if self.identity is not None else None
        return f"Selection(identity={alias!r}, scheme={self.scheme!r})"


class _Judge:
    """Ranks and explains one request against one index (kept by Selection for lazy verdicts)."""

    def __init__(
        self,
        request: _Request,
        now: datetime.datetime,
        pinned: set[str],
    ) -> None:
        self.request = request
        self.index = request.index
        self.now = now
        self.pinned = pinned
        # position -> "chosen-by-callback" | "declined-by-callback", set by _apply_callback
        self.callback_note: dict[int, str] = {}
        self.pinned_positions = {p for fp in pinned for p in self.index.by_fingerprint.get(fp, ())}

    # ---------------------------------------------------------------- filters and ranking

    def exclusion(self, position: int) -> str | None:
        """The hard filter ``position`` fails, in Go's order (scheme, CA), then OID filters."""
        j = self.request.judge(self.index.group_of[position])
        if j.scheme is None:
            return NO_COMMON_SCHEME
        if not j.ca_ok:
            return CA_MISMATCH
        filters = self.request.info.oid_filters
        if filters and oid_filters.mismatch(self.index.identities[position].certificate, filters):
            return OID_FILTER_MISMATCH
        return None

    def valid(self, position: int) -> bool:
        identity = self.index.identities[position]
        return identity.not_before <= self.now <= identity.not_after

    def key(self, position: int, valid: bool | None = None) -> tuple[Any, ...]:
        j = self.request.judge(self.index.group_of[position])
        if valid is None:
            valid = self.valid(position)
        return (
            position not in self.pinned_positions,
            j.eku_mismatch,
            not valid,
            j.ku_mismatch,
            not j.covered,
            j.preference,
            position,
        )

    def rank_of(self, identity: Identity) -> tuple[Any, ...] | None:
        position = self._position(identity)
        if position is None or self.exclusion(position):
            return None
        return self.key(position)

    def best(self) -> int | None:
        """Position of the best survivor: per group, the first valid member is its champion."""
        request = self.request
        gids: Iterable[int] = (
            range(len(self.index.groups)) if request.ca_groups is None else request.ca_groups
        )
        has_filters = bool(request.info.oid_filters)
        best_key: tuple[Any, ...] | None = None
        best_position: int | None = None
        for gid in gids:
            j = request.judge(gid)
            if j.scheme is None or not j.ca_ok:
                continue
            first: int | None = None
            champion: int | None = None
            for position in self.index.groups[gid].positions:
                if has_filters and self.exclusion(position):
                    continue
                if first is None:
                    first = position
                if self.valid(position):
                    champion = position
                    break
            if first is None:
                continue
            candidates = [champion if champion is not None else first]
            candidates += [
                p
                for p in self.pinned_positions
                if self.index.group_of[p] == gid and not (has_filters and self.exclusion(p))
            ]
            for position in candidates:
                k = self.key(position)
                if best_key is None or k < best_key:
                    best_key, best_position = k, position
        return best_position

    # ---------------------------------------------------------------- verdicts

    def verdicts(self, chosen: Identity | None) -> list[Verdict]:
        chosen_pos = self._position(chosen)
        survivors: list[tuple[tuple[Any, ...], int]] = []
        excluded: list[tuple[int, str]] = []
        for position in range(len(self.index.identities)):
            code = self.exclusion(position)
            if code is None:
                survivors.append((self.key(position), position))
            elif position != chosen_pos:
                excluded.append((position, code))
        survivors.sort()
        out = []
        if chosen_pos is not None:
            out.append(self._verdict(chosen_pos, CHOSEN, None))
        winner_key = self.key(chosen_pos) if chosen_pos is not None else None
        for key, position in survivors:
            if position == chosen_pos:
                continue
            code = CALLBACK_DECLINED if position in self.callback_note else OUTRANKED
            out.append(self._verdict(position, code, (key, winner_key, chosen)))
        out += [self._verdict(position, code, None) for position, code in excluded]
        return out

    def _position(self, identity: Identity | None) -> int | None:
        if identity is None:
            return None
        for position, candidate in enumerate(self.index.identities):
            if candidate is identity:
                return position
        for position, candidate in enumerate(self.index.identities):
            if candidate == identity:
                return position
        return None

    def notes(self, position: int) -> tuple[str, ...]:
        j = self.request.judge(self.index.group_of[position])
        identity = self.index.identities[position]
        notes = []
        if position in self.pinned_positions:
            notes.append("pinned")
        if self.now > identity.not_after:
            notes.append("expired")
        elif self.now < identity.not_before:
            notes.append("not-yet-valid")
        if j.eku_mismatch:
            notes.append("eku-mismatch")
        if j.ku_mismatch:
            notes.append("key-usage-mismatch")
        if not j.covered:
            notes.append("cert-sig-unsupported")
        if self.callback_note.get(position) == "chosen-by-callback":
            notes.append("chosen-by-callback")
        return tuple(notes)

    def _verdict(self, position: int, code: str, outranked: Any) -> Verdict:
        identity = self.index.identities[position]
        j = self.request.judge(self.index.group_of[position])
        info = self.request.info
        if code == CHOSEN:
            if j.scheme is None or not j.ca_ok:
                reason = "Chosen by the selection callback despite failing a hard filter."
            else:
                ca = " under a CA the server named" if info.certificate_authorities else ""
                reason = (
                    f"Chosen: its {_key_desc(self.index.facts(position))} key signs with "
                    f"{j.scheme}, the server's choice #{j.preference + 1}{ca}."
                )
        elif code == CALLBACK_DECLINED:
            reason = "Passed every filter, but the selection callback declined to send it."
        elif code == OUTRANKED:
            reason = self._outranked_reason(outranked)
        elif code == NO_COMMON_SCHEME:
            reason = self._no_scheme_reason(position)
        elif code == CA_MISMATCH:
            count = len(info.certificate_authorities)
            reason = (
                f"No certificate in its chain was issued by any of the {count} CA name(s) "
                f"the server sent (its issuer is {identity.issuer})."
            )
        else:
            why = oid_filters.mismatch(identity.certificate, info.oid_filters)
            reason = f"It does not meet the server's OID filters: {why}."
        return Verdict(identity, code, self.notes(position), reason)

    def _outranked_reason(self, outranked: Any) -> str:
        key, winner_key, winner = outranked
        if winner is None or winner_key is None:
            return "Passed every filter, but no identity was sent."
        name = repr(winner.alias)
        winner_position = self._position(winner)
        if winner_position is not None and (
            self.callback_note.get(winner_position) == "chosen-by-callback"
        ):
            return f"Not sent: the selection callback chose {name} instead."
        phrases = (
            f"{name} is pinned for this server",
            "its EKU does not allow client authentication",
            "it is not valid now",
            "its key usage does not allow digital signatures",
            "its chain has signatures the server did not list in signature_algorithms_cert",
            "its best signature scheme comes later in the server's preference order",
            "it was loaded after an equally good identity",
        )
        for n, phrase in enumerate(phrases):
            if key[n] != winner_key[n]:
                return f"Outranked by {name}: {phrase}."
        return f"Outranked by {name}."

    def _no_scheme_reason(self, position: int) -> str:
        info = self.request.info
        desc = _key_desc(self.index.facts(position))
        offered = ", ".join(info.signature_schemes) or "none"
        narrowed = ""
        if info.certificate_types is not None:
            types = ", ".join(info.certificate_types) or "none"
            narrowed = f" once narrowed by certificate_types ({types})"
        return (
            f"Its {desc} key cannot sign with any scheme the server offered for "
            f"{info.version}{narrowed} (offered: {offered})."
        )


def _key_desc(facts: IdentityFacts) -> str:
    if facts.key_type == "rsa":
        return f"{facts.rsa_bytes * 8}-bit RSA"
    if facts.key_type == "ec":
        return f"EC {facts.curve}"
    return {"ed25519": "Ed25519", "ed448": "Ed448"}.get(facts.key_type, facts.key_type)


def _index_of(identities: Any) -> IdentityIndex:
    if isinstance(identities, IdentityIndex):
        return identities
    index = getattr(identities, "index", None)
    if isinstance(index, IdentityIndex):
        return index
    if isinstance(identities, str | bytes | bytearray | memoryview) or not isinstance(
        identities, Iterable
    ):
        raise IdentityError(
            "select_identity needs identities as a list of Identity objects, an IdentityIndex "
            f"or an IdentityStore, not {type(identities).__name__}"
        )
    items = tuple(identities)
    for item in items:
        if not isinstance(item, Identity):
            raise IdentityError(f"select_identity needs Identity objects, got {type(item)!r}")
    return IdentityIndex(items)


def select_identity(
    info: CertificateRequestInfo,
    identities: Iterable[Identity] | Any,
    *,
    pins: Pins | None = None,
    now: datetime.datetime | None = None,
    callback: Callback | None = None,
) -> Selection:
    """Choose the identity to answer ``info`` with, and say why about every candidate.

    ``identities``: any iterable of Identity, an IdentityIndex, or an object with an
    ``.index`` (an IdentityStore), whose cached index avoids rescanning large stores.
    ``pins`` maps server names to a fingerprint or a set of them (SHA-256 hex, colons
    allowed); a pinned identity that passes the hard filters beats every other.
    ``now`` defaults to the current UTC time. ``callback(info, verdicts)`` may return the
    Identity to send instead (any Identity that can sign with a scheme the server offered)
    or None to send no certificate; exceptions it raises propagate.
    """
    if not isinstance(info, CertificateRequestInfo):
        raise IdentityError(f"select_identity needs a CertificateRequestInfo, got {type(info)!r}")
    index = _index_of(identities)
    if now is None:
        now = datetime.datetime.now(datetime.UTC)
    elif not isinstance(now, datetime.datetime):
        raise IdentityError(f"now must be a datetime.datetime, not {type(now).__name__}")
    elif now.tzinfo is None:
        now = now.replace(tzinfo=datetime.UTC)
    if callback is not None and not callable(callback):
        raise IdentityError(f"callback must be callable, not {type(callback).__name__}")
    request = _Request(info, index)
    judge = _Judge(request, now, _pinned_fingerprints(pins, info.server_name))
    position = judge.best()
    identity = index.identities[position] if position is not None else None
    scheme = request.judge(index.group_of[position]).scheme if position is not None else None
    selection = Selection(identity, scheme, info=info, _judge=judge)
    if callback is None:
        return selection
    return _apply_callback(selection, callback, judge)


def _apply_callback(selection: Selection, callback: Callback, judge: _Judge) -> Selection:
    info = selection.info
    picked = callback(info, list(selection.verdicts))
    if picked is selection.identity or (picked is not None and picked == selection.identity):
        return selection
    if picked is None:
        if selection.identity is not None:
            position = judge._position(selection.identity)
            if position is not None:
                judge.callback_note[position] = "declined-by-callback"
        return Selection(None, None, info=info, _judge=judge)
    if not isinstance(picked, Identity):
        raise IdentityError(f"the selection callback returned {type(picked)!r}, not an Identity")
    position = judge._position(picked)
    if position is None:  # not among the candidates: judge it on its own
        judge = _Judge(
            _Request(info, IdentityIndex((*judge.index.identities, picked))),
            judge.now,
            judge.pinned,
        )
        position = len(judge.index.identities) - 1
    scheme = judge.request.judge(judge.index.group_of[position]).scheme
    if scheme is None:
        raise IdentityError(
            f"the selection callback chose {picked.alias!r}, whose {picked.key_type} key "
            f"cannot sign with any scheme the server offered for {info.version}"
        )
    judge.callback_note[position] = "chosen-by-callback"
    return Selection(judge.index.identities[position], scheme, info=info, _judge=judge)


__all__ = [
    "CALLBACK_DECLINED",
    "CA_MISMATCH",
    "CHOSEN",
    "NO_COMMON_SCHEME",
    "OID_FILTER_MISMATCH",
    "OUTRANKED",
    "Selection",
    "Verdict",
    "select_identity",
]
