"""`load_client_certificate_from_url`: a PKCS#12 fetched over HTTPS, then loaded.

It lives in ``http`` because the identity layer never touches the network. The fetch goes
through this package's own client, so the server serving the keystore is verified (and,
if it asks, gets the identities loaded so far); the answer must be 200 and fit in
``max_size`` bytes. Only then is the data loaded, with the same contract as
`load_client_certificate`: success replaces what was loaded, any failure (network, TLS,
HTTP, size, password, format) raises and changes nothing.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from ..identity.model import Identity
from ..identity.store import load_client_certificate
from ..socket.sslcontext import SSLContext
from .client import Session, TimeoutArg, default_session
from .errors import HTTPStatusError, InvalidURL, ResponseTooLarge

__all__ = ["load_client_certificate_from_url", "MAX_PKCS12_SIZE"]

#: Keystores are a few KiB; a megabyte leaves room for long chains and many identities.
MAX_PKCS12_SIZE = 1024 * 1024


def load_client_certificate_from_url(
    url: str,
    password: str | bytes | None = None,
    *,
    timeout: TimeoutArg = 30,
    headers: dict[str, str] | None = None,
    context: SSLContext | None = None,
    session: Session | None = None,
    max_size: int = MAX_PKCS12_SIZE,
    **request_kw: Any,
) -> list[Identity]:
    """Fetch the PKCS#12 at the ``https://`` ``url`` and load it into the default store.

    ``context`` (a `tlsengine.SSLContext`) or ``session`` set whom the fetch trusts; by
    default the system roots. Raises the TLS errors, `tlsengine.http.RequestError`
    subclasses for HTTP and size failures, and `IdentityError` for the data itself.
    """
    if not isinstance(url, str) or urllib.parse.urlsplit(url).scheme != "https":
        raise InvalidURL(f"{url!r}: a PKCS#12 is fetched over https:// only", url=str(url))
    kw = {"headers": headers, "timeout": timeout, "stream": True, **request_kw}
    if session is None and context is not None:
        with Session(context) as own:
            data = _fetch(own, url, max_size, kw)
    else:
        data = _fetch(session or default_session(), url, max_size, kw)
    return load_client_certificate(data, password)


def _fetch(session: Session, url: str, max_size: int, kw: dict[str, Any]) -> bytes:
    with session.request("GET", url, **kw) as response:
        if response.status != 200:
            raise HTTPStatusError(
                f"{url}: HTTP {response.status} {response.reason}; no PKCS#12 loaded".rstrip(),
                url=url,
                status=response.status,
            )
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_size:
            raise ResponseTooLarge(
                f"{url}: {declared} bytes is over the {max_size}-byte limit for a PKCS#12 "
                "(pass max_size= to raise it)",
                url=url,
            )
        return response.read(limit=max_size)
