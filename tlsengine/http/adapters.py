"""`TLSEngineAdapter`: tlsengine under ``requests``, mounted like any transport adapter.

It only hands urllib3 a `tlsengine.SSLContext`: pooling, keep-alive, redirects, proxies,
cookies, decompression and retries stay requests' and urllib3's. requests is optional
(``pip install 'tlsengine[requests]'``); `tlsengine.http` imports this module only when the
adapter is asked for.
"""

from __future__ import annotations

from typing import Any

from requests.adapters import HTTPAdapter

from ..socket.context import ClientContext
from ..socket.sslcontext import SSLContext

__all__ = ["TLSEngineAdapter"]


class TLSEngineAdapter(HTTPAdapter):
    """``session.mount("https://", TLSEngineAdapter())``: HTTPS through tlsengine.

    Without ``context`` the adapter's `SSLContext` uses the process-wide identity store
    and the system roots; pass ``context=tlsengine.SSLContext(...)`` (or a
    `ClientContext`) for your own identities, roots or ALPN. A request's ``verify=False``
    or ``verify="ca.pem"`` (also from ``REQUESTS_CA_BUNDLE``) gets a derived context
    (`SSLContext.derive`), so the given one is never modified. requests' ``cert=`` is
    refused: load identities into the context instead (it holds several and picks one per
    server).
    """

    def __init__(self, context: SSLContext | ClientContext | None = None, **kwargs: Any) -> None:
        self.context = SSLContext.from_client_context(SSLContext() if context is None else context)
        self._derived: dict[str | bool, SSLContext] = {}
        super().__init__(**kwargs)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        pool_kwargs["ssl_context"] = self.context
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        proxy_kwargs.setdefault("ssl_context", self.context)
        return super().proxy_manager_for(proxy, **proxy_kwargs)

    def build_connection_pool_key_attributes(
        self, request: Any, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if cert is not None:
            raise NotImplementedError(
                "TLSEngineAdapter does not take requests' cert=: load identities into the "
                "adapter's context (context.load_cert_chain(...) or identities=)"
            )
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, None
        )
        pool_kwargs.pop("ca_certs", None)
        pool_kwargs.pop("ca_cert_dir", None)
        pool_kwargs["ssl_context"] = self._context_for(verify)
        return host_params, pool_kwargs

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        """Nothing to do: trust lives in the pool's context (requests would otherwise load
        certifi's bundle into it at every new connection)."""

    def _context_for(self, verify: Any) -> SSLContext:
        if verify is True or verify is None:
            return self.context
        key: str | bool = verify if isinstance(verify, str) else bool(verify)
        derived = self._derived.get(key)
        if derived is None:
            derived = self._derived[key] = self.context.derive(verify=key)
        return derived
