"""The verify layer: trust roots and server chain/name verification (never picks identities)."""

from .chain import PROFILES, ServerVerifier
from .roots import TrustRoots, load_roots, system_roots

__all__ = ["PROFILES", "ServerVerifier", "TrustRoots", "load_roots", "system_roots"]
