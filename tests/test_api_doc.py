"""docs/api.md describes what ships.

Met as a new user: api.md said `load_client_certificate_from_url`, `invoke_service` and
`invoke_service_async` were "reserved but not shipped yet" and raised AttributeError, while
the README documents them and they work.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import tlsengine

API = (Path(__file__).resolve().parent.parent / "docs" / "api.md").read_text()


@pytest.mark.parametrize("name", tlsengine.__all__)
def test_every_public_name_is_in_api_md(name: str) -> None:
    assert name in API


def test_no_shipped_name_is_called_unshipped() -> None:
    assert "not shipped yet" not in API
    for name in ("load_client_certificate_from_url", "invoke_service", "invoke_service_async"):
        assert callable(getattr(tlsengine, name))
        assert f"tlsengine.{name}(" in API  # its signature is given


@pytest.mark.parametrize("name", ["request", "Session", "HttpRequest", "RequestError"])
def test_http_names_are_in_api_md(name: str) -> None:
    from tlsengine import http

    assert getattr(http, name) is not None
    assert name in API
