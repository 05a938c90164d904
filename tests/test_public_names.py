"""The public names of docs/api.md that this version ships resolve; the planned ones say so."""

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


@pytest.mark.parametrize("name", ["load_client_certificate_from_url", "invoke_service"])
def test_planned_names_fail_with_a_clear_message(name: str) -> None:
    with pytest.raises(AttributeError, match="not include yet"):
        getattr(tlsengine, name)


def test_unknown_name_is_a_plain_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        tlsengine.nonsense  # noqa: B018
