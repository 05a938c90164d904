"""Decrypted application data waiting for the caller, shared by `TLSSocket` and `TLSObject`.

Records arrive as whole plaintexts; callers read in sizes of their own. Keeping views of
the records (not one growing bytearray) means a read that matches a record copies once.
"""

from __future__ import annotations

from collections import deque

__all__ = ["PlaintextBuffer"]


class PlaintextBuffer:
    """Mixin: ``_chunks`` (record views, in order) and ``_buffered`` (their total length)."""

    _chunks: deque[memoryview]
    _buffered: int

    def _append(self, data: bytes) -> None:
        """File one record's plaintext (empty records are legal and add nothing)."""
        if data:
            self._chunks.append(memoryview(data))
            self._buffered += len(data)

    def _take(self, n: int) -> bytes:
        """Up to ``n`` buffered bytes (at least one must be buffered), removed."""
        first = self._chunks[0]
        if len(first) >= n:  # the common case: one record covers the request
            if len(first) == n:
                self._chunks.popleft()
            else:
                self._chunks[0] = first[n:]
            self._buffered -= n
            return bytes(first[:n])
        return b"".join(self._pop(n))

    def _pop(self, n: int) -> list[memoryview]:
        """Up to ``n`` buffered bytes, as views in order, removed from the buffer."""
        chunks = self._chunks
        parts: list[memoryview] = []
        got = 0
        while chunks and got < n:
            chunk = chunks[0]
            take = min(len(chunk), n - got)
            parts.append(chunk[:take])
            got += take
            if take == len(chunk):
                chunks.popleft()
            else:
                chunks[0] = chunk[take:]
        self._buffered -= got
        return parts
