from peers import peers, server_pki  # noqa: F401 - fixtures registered by import
