"""`Trace`: the bounded, list-like record a connection keeps of its messages (``trace=True``).

A server may send post-handshake messages for as long as the connection lives (the audit
sent 200,000 KeyUpdates; a trace grew 13 MB per 100,000 messages), so the trace is a ring
buffer: the newest `MAX_TRACE_ENTRIES` entries stay, ``dropped`` counts the older ones.
It reads like the list it replaced: ``len``, indexing, slicing, iteration, ``==`` a list.

`json_lines` writes a trace as JSON lines, one object per entry with a ``seq`` number and
sorted keys, so two runs of the same handshake diff line by line. Entries never hold key
material, randoms or key shares, so a deterministic and a normal run trace alike.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

__all__ = ["MAX_TRACE_ENTRIES", "Trace", "json_lines"]

#: Entries kept per connection: a full handshake writes about 15, so this holds hundreds of
#: handshakes' worth of post-handshake traffic, in a few MB at most.
MAX_TRACE_ENTRIES = 4096

Entry = dict[str, Any]


class Trace(Sequence[Entry]):
    """The newest ``maxlen`` trace entries, oldest first; ``dropped`` counts those let go."""

    __slots__ = ("_entries", "dropped")

    def __init__(self, maxlen: int = MAX_TRACE_ENTRIES) -> None:
        if maxlen < 1:
            raise ValueError("a trace keeps at least one entry")
        self._entries: deque[Entry] = deque(maxlen=maxlen)
        self.dropped = 0

    @property
    def maxlen(self) -> int:
        return self._entries.maxlen or 0

    def append(self, entry: Entry) -> None:
        if len(self._entries) == self._entries.maxlen:
            self.dropped += 1
        self._entries.append(entry)

    def clear(self) -> None:
        self._entries.clear()
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries)

    @overload
    def __getitem__(self, index: int) -> Entry: ...

    @overload
    def __getitem__(self, index: slice) -> list[Entry]: ...

    def __getitem__(self, index: int | slice) -> Entry | list[Entry]:
        if isinstance(index, slice):
            return list(self._entries)[index]
        return self._entries[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Trace | list | tuple):
            return list(self._entries) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like the list it stands for

    def __repr__(self) -> str:
        extra = f", dropped={self.dropped}" if self.dropped else ""
        return f"Trace({list(self._entries)!r}{extra})"


def json_lines(entries: Iterable[Entry], *, first_seq: int | None = None) -> str:
    """Trace entries as JSON lines (a final newline included; "" for no entries).

    Stable field names: ``seq`` (counting entries a bounded `Trace` dropped), ``direction``
    (``in``, ``out``, ``selection``, ``local``), ``type`` (the message name), then the
    entry's own fields; keys sorted, no whitespace variation.
    """
    if first_seq is None:
        first_seq = entries.dropped if isinstance(entries, Trace) else 0
    lines = [
        json.dumps({"seq": first_seq + i, **entry}, sort_keys=True, default=str)
        for i, entry in enumerate(entries)
    ]
    return "".join(line + "\n" for line in lines)
