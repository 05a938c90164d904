"""Placeholder: replaced by the selection work (an index of identities by issuer and key type)."""
