"""`tlsengine probe URL`: a pasted URL is answered with the HOST:PORT to use.

Met as a new user after `tlsengine get https://localhost:8443/`: `tlsengine probe
https://localhost:8443/` said "cannot connect to https://localhost:8443/:443: cannot resolve
'https://localhost:8443/'", blaming DNS for a form the command does not take.
"""

from __future__ import annotations

import pytest

from .helpers import tlsengine


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("https://localhost:8443/", "use HOST:PORT, here: localhost:8443"),
        ("https://api.example.com", "use HOST:PORT, here: api.example.com:443"),
        ("https://[::1]:9/x", "here: [::1]:9 (and --http-get /x to fetch its path)"),
        ("https://h:99999/", "is a URL; use HOST:PORT"),
    ],
)
def test_probe_of_a_url_names_the_host_port(url: str, hint: str) -> None:
    done = tlsengine("probe", url)
    assert done.returncode == 1
    assert hint in done.stderr
    assert "cannot resolve" not in done.stderr
