"""What servers asked of us and what we answered, in the words the CLI prints.

`RequestLog` is the context's selection callback: it keeps the library's choice and records
every CertificateRequest of the connection, in the handshake and after it (TLS 1.3
post-handshake authentication), so ``get -v`` can show each one. `short_reason` turns a
request's verdicts into the one clause a one-line error has room for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..identity.model import Identity
    from ..selection.request import CertificateRequestInfo
    from ..selection.select import Verdict

#: How many CA names or schemes a one-line reason lists before "and N more".
SHOWN = 2

# Verdict code -> how a count of such candidates reads in a mixed reason.
_EXCLUDED = {
    "ca-mismatch": "not under a CA the server named",
    "no-common-scheme": "with a key that cannot sign any scheme the server offered",
    "oid-filter-mismatch": "failing the server's oid_filters",
    "callback-declined": "declined by the selection callback",
    "outranked": "outranked",
}


@dataclass(frozen=True)
class Answer:
    """One CertificateRequest and the verdict on every loaded identity."""

    info: CertificateRequestInfo
    verdicts: tuple[Verdict, ...]

    @property
    def sent(self) -> Identity | None:
        """The identity the selection chose (None: an empty Certificate went out)."""
        return next((v.identity for v in self.verdicts if v.verdict == "chosen"), None)


class RequestLog:
    """A ``select_identity`` callback that changes nothing and remembers every request."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []

    def __call__(
        self, info: CertificateRequestInfo, verdicts: Sequence[Verdict]
    ) -> Identity | None:
        answer = Answer(info, tuple(verdicts))
        self.answers.append(answer)
        return answer.sent  # the built-in choice, so the callback overrides nothing

    def unanswered(self) -> Answer | None:
        """The last request we answered with an empty Certificate, if any."""
        return next((a for a in reversed(self.answers) if a.sent is None), None)


def _listed(items: Sequence[str], sep: str = ", ") -> str:
    more = len(items) - SHOWN
    return sep.join(items[:SHOWN]) + (f"{sep}and {more} more" if more > 0 else "")


def short_reason(info: CertificateRequestInfo, verdicts: Sequence[Verdict]) -> str:
    """The shortest true account of why this request got what it got."""
    chosen = next((v for v in verdicts if v.verdict == "chosen"), None)
    if chosen is not None:
        notes = f" ({', '.join(chosen.notes)})" if chosen.notes else ""
        return f"we sent {chosen.identity.alias!r}{notes}, issued by {chosen.identity.issuer}"
    if not verdicts:
        return "no identity is loaded (give one with --pkcs12 FILE)"
    codes = Counter(v.verdict for v in verdicts)
    if set(codes) == {"ca-mismatch"}:
        names = [n.rfc4514_string() for n in info.certificate_authorities]
        plural = "" if len(names) == 1 else "s"
        return (
            f"no identity is under the {len(names)} CA name{plural} the server sent: "
            f"{_listed(names, '; ')}"
        )
    if set(codes) == {"no-common-scheme"}:
        return (
            "no identity's key can sign with a scheme the server offered: "
            f"{_listed(list(info.signature_schemes))}"
        )
    if set(codes) == {"oid-filter-mismatch"}:
        return "no identity's certificate meets the server's oid_filters"
    parts = [f"{n} {_EXCLUDED.get(code, code)}" for code, n in codes.items()]
    return f"none of the {len(verdicts)} loaded identities fits: {', '.join(parts)}"


def request_lines(answers: Sequence[Answer]) -> list[str]:
    """``get -v``'s account of every request: where it came, what went back, the table."""
    if not answers:
        return ["server did not ask for a client certificate"]
    lines = []
    for answer in answers:
        when = "after the handshake" if answer.info.post_handshake else "in the handshake"
        sent = answer.sent.alias if answer.sent is not None else "an empty Certificate"
        cas = len(answer.info.certificate_authorities)
        lines.append(
            f"server asked for a client certificate {when} ({answer.info.version}, "
            f"{cas} CA name{'' if cas == 1 else 's'}); sent: {sent}"
        )
        rows = [
            (v.verdict, v.identity.alias[:32], ", ".join(v.notes) or "-", v.reason)
            for v in answer.verdicts
        ]
        widths = [max((len(row[n]) for row in rows), default=0) for n in range(3)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            lines.append("  " + "  ".join([*cells, row[3]]))
        if not rows:
            lines.append("  (no identities loaded)")
    return lines
