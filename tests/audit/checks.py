"""Assertions the audit shares across layers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tlsengine.errors import TLSEngineError


def only_documented_errors(call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run ``call``: it may succeed or raise a TLSEngineError, but nothing else may escape
    (no TypeError, KeyError, ValueError... from bad input)."""
    try:
        call(*args, **kwargs)
    except TLSEngineError:
        return
    except Exception as exc:  # noqa: BLE001 - the point of the check
        pytest.fail(f"{type(exc).__name__} escaped: {exc}")
