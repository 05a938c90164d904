"""Interop suite: tlsengine against real TLS servers on 127.0.0.1."""
