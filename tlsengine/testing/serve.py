"""Run `TestServer`s in their own process: ``python -m tlsengine.testing.serve``.

The demo (and any harness that wants its peers in another process) writes one JSON object
on this process's stdin and reads one line back. Key material travels through the pipe,
never through a file. Input::

    {"chain": [PEM, ...], "key": PEM,
     "servers": {"NAME": {"request_client_cert": bool, "require_client_cert": bool,
                          "ca_names": [PEM, ...], "trusted": [PEM, ...]}, ...}}

Output: ``{"ports": {"NAME": port, ...}}`` once every server accepts. The servers run until
stdin closes, so they never outlive the process that started them.
"""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..identity.model import private_key_of
from .server import TestServer


def _certs(pems: list[str]) -> list[x509.Certificate]:
    return [x509.load_pem_x509_certificate(p.encode("ascii")) for p in pems]


def main() -> int:
    config: dict[str, Any] = json.loads(sys.stdin.readline())
    chain = _certs(config["chain"])
    key = serialization.load_pem_private_key(config["key"].encode("ascii"), password=None)
    with ExitStack() as stack:
        ports = {}
        for name, spec in config["servers"].items():
            server = TestServer(
                chain,
                private_key_of(key),
                request_client_cert=spec.get("request_client_cert", False),
                require_client_cert=spec.get("require_client_cert", False),
                ca_names=_certs(spec.get("ca_names", [])) or None,
                trusted=_certs(spec.get("trusted", [])) or None,
            )
            ports[name] = stack.enter_context(server).port
        print(json.dumps({"ports": ports}), flush=True)
        sys.stdin.read()  # serve until the parent closes our stdin (or dies)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
