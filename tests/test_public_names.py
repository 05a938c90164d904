"""The public names of docs/api.md that this version ships resolve."""

from __future__ import annotations

import pytest

import tlsengine


@pytest.mark.parametrize("name", tlsengine.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    assert getattr(tlsengine, name) is not None


def test_star_import_works() -> None:
    namespace: dict[str, object] = {}
    exec("from tlsengine import *", namespace)
    assert "ClientContext" in namespace and "load_pkcs12" in namespace


def test_unknown_name_is_a_plain_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        tlsengine.nonsense  # noqa: B018
