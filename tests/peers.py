"""Real TLS servers on 127.0.0.1 for the interop suite: start, wait until they accept, stop.

Every peer is a context manager and is also handed out by a factory fixture (registered
in ``tests/interop/conftest.py``) that stops whatever it started, so a failing test never
leaks a process or a thread. Waits are bounded: a peer that does not accept within
``START_TIMEOUT`` seconds, or exits early, raises ``PeerStartError`` with its own output.

Peers and the Debian package each needs (``require_tool`` skips locally, fails under CI):

- ``PythonSSLServer``: the stdlib ``ssl`` module, in a thread (no package).
- ``OpenSSLServer``: ``openssl s_server`` (package ``openssl``).
- ``GnuTLSServer``: ``gnutls-serv`` (package ``gnutls-bin``); it binds every address and has
  no listen-address option, so we only ever connect to 127.0.0.1.
- ``NginxServer``: ``nginx`` with its own prefix, config, pid and logs in a temp dir
  (package ``nginx-light``).
- tlslite-ng: ``tlsengine.testing.TestServer`` (no package; a Python dependency).
- ``ApacheServer``: Apache httpd with ``SSLVerifyClient require`` inside a ``<Location>``, so
  it asks for the client certificate by renegotiating (package ``apache2``).
- ``GoServer``, ``RustlsServer``: small servers on Go's ``crypto/tls`` and on rustls, compiled
  from ``tests/peers/go`` and ``tests/peers/rust`` by ``tests/peers/build.sh`` (toolchains:
  Go, Rust; ``built_peer`` builds, skips locally or fails under CI).
- ``NSSServer``: NSS ``selfserv`` (package ``libnss3-tools``), also for TLS 1.3
  post-handshake client authentication.

``openssl s_server`` binds port 0 and reports the port it got. The other tools need a
number, taken from a bound-then-closed socket; they count as started only once they say
they bound it (gnutls-serv's "listening on IPv4" line, nginx's pid file), because a probe
alone could reach another process holding that port. A start that loses the port is
retried on a fresh one.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

import pytest
from conftest import IN_CI, require_tool
from cryptography import x509

from tlsengine.identity.model import Identity, PrivateKey
from tlsengine.identity.pkcs12 import build_pkcs12
from tlsengine.testing import CA, TestServer, cert_pem, key_pem
from tlsengine.testing.server import ThreadedServer

HOST = "127.0.0.1"
START_TIMEOUT = 5.0  # generous for loaded CI boxes; a healthy start takes < 0.5 s
STOP_TIMEOUT = 3.0
START_ATTEMPTS = 3


class PeerStartError(RuntimeError):
    """A peer did not come up; the message carries its output."""


# --------------------------------------------------------------------------- PKI on disk


_P = TypeVar("_P")  # a peer: anything with start()/stop()


@dataclass(frozen=True)
class ServerPKI:
    """A server certificate for localhost/127.0.0.1 and its CA, written to a directory."""

    ca: CA
    certificate: x509.Certificate
    key: PrivateKey
    cert_file: Path  # leaf then CA
    key_file: Path
    ca_file: Path  # the CA that signed the server, for our client's cafile

    @property
    def chain(self) -> list[x509.Certificate]:
        return [self.certificate, self.ca.certificate]


def make_server_pki(ca: CA, directory: Path, key: str = "p256") -> ServerPKI:
    """Issue a localhost server certificate from ``ca`` and write the PEM files peers read."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, k = ca.issue("localhost", key, client=False, server=True, dns=["localhost"], ips=[HOST])
    cert_file = directory / "server.pem"
    key_file = directory / "server.key"
    ca_file = directory / "server-ca.pem"
    cert_file.write_bytes(cert_pem(cert, ca.certificate))
    key_file.write_bytes(key_pem(k))
    ca_file.write_bytes(ca.pem)
    return ServerPKI(ca, cert, k, cert_file, key_file, ca_file)


def write_cas(path: Path, *cas: CA | x509.Certificate) -> Path:
    """A PEM bundle of CA certificates (what servers trust for client certificates)."""
    certs = [c.certificate if isinstance(c, CA) else c for c in cas]
    path.write_bytes(cert_pem(*certs))
    return path


def write_identity(identity: Identity, directory: Path) -> tuple[Path, Path]:
    """Chain PEM and key PEM of an identity, for peers and stdlib clients that read files."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", identity.alias or identity.fingerprint[:16])
    chain = directory / f"{stem}.pem"
    key = directory / f"{stem}.key"
    chain.write_bytes(cert_pem(*identity.chain))
    key.write_bytes(key_pem(identity.private_key))
    return chain, key


def subject_of(identity: Identity) -> str:
    """RFC 4514 subject, the form nginx's ``$ssl_client_s_dn`` and our records use
    (Identity.subject already holds it)."""
    return identity.subject


# --------------------------------------------------------------------------- ports and waits


def free_port() -> int:
    """A port nothing listens on right now (a tool may still lose a race for it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def accepting(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------- process peers


class ProcessPeer:
    """A server tool run as a subprocess, output captured to files (no pipe can fill up)."""

    tool = ""
    name = "peer"
    stdin: int = subprocess.DEVNULL  # PIPE for peers driven through their console

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = 0
        self.executable = self.tool  # resolved by start()
        self.proc: subprocess.Popen[bytes] | None = None
        self._out_path = workdir / f"{self.name}.out"
        self._err_path = workdir / f"{self.name}.err"

    def argv(self, port: int) -> list[str]:
        raise NotImplementedError

    def prepare(self, port: int) -> None:
        """Write whatever config the tool reads before it starts."""

    @property
    def address(self) -> tuple[str, int]:
        return (HOST, self.port)

    @property
    def stdout(self) -> str:
        return self._out_path.read_text(errors="replace") if self._out_path.exists() else ""

    @property
    def stderr(self) -> str:
        return self._err_path.read_text(errors="replace") if self._err_path.exists() else ""

    def requested_port(self) -> int:
        """The port to put on the command line (0 where the tool reports what it bound)."""
        return free_port()

    def bound_port(self, requested: int) -> int | None:
        """The port the tool has bound, or None while that is not yet known."""
        return requested

    def start_failed(self) -> bool:
        """Output meaning the start failed although the process lives on."""
        return False

    def start(self) -> ProcessPeer:
        self.executable = require_tool(self.tool)
        last = ""
        for _ in range(START_ATTEMPTS):
            requested = self.requested_port()
            self.prepare(requested)
            if self._launch(requested):
                return self
            last = f"stdout:\n{self.stdout[-2000:]}\nstderr:\n{self.stderr[-2000:]}"
            self.stop()
        raise PeerStartError(
            f"{self.name} did not start on {HOST} ({START_ATTEMPTS} tries)\n{last}"
        )

    def _launch(self, requested: int) -> bool:
        with open(self._out_path, "wb") as out, open(self._err_path, "wb") as err:
            self.proc = subprocess.Popen(
                self.argv(requested),
                stdin=self.stdin,
                stdout=out,
                stderr=err,
                cwd=self.workdir,
                start_new_session=True,  # its own process group, stopped as one
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None or self.start_failed():
                return False
            port = self.bound_port(requested)
            # the tool's own word that it bound the port comes first: a probe alone could
            # reach some other process that holds the port
            if port and accepting(port):
                self.port = port
                return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT)
        except ProcessLookupError:
            proc.wait(timeout=STOP_TIMEOUT)

    def __enter__(self) -> ProcessPeer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def wait_for_output(self, pattern: str, timeout: float = 3.0) -> re.Match[str]:
        """The first match of ``pattern`` in stdout+stderr, waiting (bounded) for it."""
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.stdout + self.stderr)
            if m or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        if not m:
            raise AssertionError(
                f"{self.name} never printed /{pattern}/\nstdout:\n{self.stdout[-3000:]}\n"
                f"stderr:\n{self.stderr[-3000:]}"
            )
        return m


Verify = Literal["require", "request", "none"]


class OpenSSLServer(ProcessPeer):
    """``openssl s_server``: TLS 1.3 by default, ``-www`` status page (shows the client cert).

    ``verify="require"`` is ``-Verify 1 -verify_return_error`` (reject a missing or
    untrusted certificate), ``"request"`` is ``-verify 1 -verify_return_error`` (ask, accept
    none, reject an untrusted one), ``"none"`` asks for nothing. ``-msg`` is always on, so
    ``received_handshake()`` lists the handshake messages the server read.
    """

    tool = "openssl"
    name = "openssl-s_server"

    def __init__(
        self,
        workdir: Path,
        pki: ServerPKI,
        *,
        client_cas: Path | None = None,
        verify: Verify = "require",
        no_ca_names: bool = False,
        client_sigalgs: str | None = None,
        groups: str | None = None,
        ciphersuites: str | None = None,
        tls: Literal["1.2", "1.3", "any"] = "1.3",
        mode: Literal["www", "rev"] = "www",
        extra: Sequence[str] = (),
        tickets: bool = False,
    ) -> None:
        super().__init__(workdir)
        self.pki = pki
        self.tickets = tickets  # stateless session tickets (resumption tests)
        self.client_cas = client_cas
        self.verify = verify
        self.options: list[str] = []
        if no_ca_names:
            self.options.append("-no_ca_names")
        if client_sigalgs:
            self.options += ["-client_sigalgs", client_sigalgs]
        if groups:
            self.options += ["-groups", groups]
        if ciphersuites:
            self.options += ["-ciphersuites", ciphersuites]
        if tls != "any":
            self.options.append(f"-tls{tls.replace('.', '_')}")
        self.options += [f"-{mode}", *extra]

    def argv(self, port: int) -> list[str]:
        argv = [self.executable, "s_server", "-accept", f"{HOST}:{port}", "-msg"]
        argv += [] if self.tickets else ["-no_ticket"]
        argv += ["-cert", str(self.pki.cert_file), "-key", str(self.pki.key_file)]
        if self.verify != "none":
            flag = "-Verify" if self.verify == "require" else "-verify"
            argv += [flag, "1", "-verify_return_error"]
            argv += ["-CAfile", str(self.client_cas or self.pki.ca_file)]
        return argv + self.options

    def requested_port(self) -> int:
        return 0

    def bound_port(self, requested: int) -> int | None:
        m = re.search(rf"^ACCEPT {re.escape(HOST)}:(\d+)$", self.stdout, re.M)
        return int(m.group(1)) if m else None

    def received_handshake(self) -> list[str]:
        """Handshake message names the server read (``<<<`` lines of ``-msg``)."""
        return re.findall(r"^<<< [^\n]*Handshake \[length [0-9a-f]+\], (\w+)", self.stdout, re.M)

    def client_subjects(self) -> list[str]:
        """Client leaf subjects the server verified (its ``depth=0`` verify lines)."""
        return re.findall(r"^depth=0 (.+)$", self.stderr + self.stdout, re.M)


class GnuTLSServer(ProcessPeer):
    """``gnutls-serv --http``: its page and its log show the client certificate."""

    tool = "gnutls-serv"
    name = "gnutls-serv"

    def __init__(
        self,
        workdir: Path,
        pki: ServerPKI,
        *,
        client_cas: Path | None = None,
        require_client_cert: bool = True,
        priority: str | None = None,
    ) -> None:
        super().__init__(workdir)
        self.pki = pki
        self.client_cas = client_cas
        self.require_client_cert = require_client_cert
        self.priority = priority

    def argv(self, port: int) -> list[str]:
        argv = [self.executable, "--http", "-p", str(port)]
        argv += ["--x509certfile", str(self.pki.cert_file)]
        argv += ["--x509keyfile", str(self.pki.key_file)]
        argv += ["--x509cafile", str(self.client_cas or self.pki.ca_file)]
        if self.require_client_cert:
            argv += ["--require-client-cert", "--verify-client-cert"]
        if self.priority:
            argv += ["--priority", self.priority]
        return argv

    def bound_port(self, requested: int) -> int | None:
        """gnutls-serv reports each bind; it keeps running on IPv6 when IPv4 failed."""
        done = f"listening on IPv4 0.0.0.0 port {requested}...done"
        return requested if done in self.stdout + self.stderr else None

    def start_failed(self) -> bool:
        return bool(re.search(r"IPv4 0\.0\.0\.0 port \d+\.\.\.bind\(\) failed", self.stderr))

    def client_subjects(self) -> list[str]:
        log = self.stdout + self.stderr
        return re.findall(r"Certificate\[0\] info:.*?Subject: ([^\n]+)", log, re.S)


class NginxServer(ProcessPeer):
    """nginx with a private prefix; the body reports ``$ssl_client_s_dn``/``$ssl_client_verify``.

    A certificate nginx rejects still completes the handshake; nginx answers HTTP 400.
    Runs in the foreground without a master process, so no user switching happens (works
    as root in CI and as a normal user locally).
    """

    tool = "nginx"
    name = "nginx"

    def __init__(
        self,
        workdir: Path,
        pki: ServerPKI,
        *,
        client_cas: Path | None = None,
        verify_client: Literal["on", "optional", "off"] = "on",
        protocols: str = "TLSv1.2 TLSv1.3",
    ) -> None:
        super().__init__(workdir)
        self.pki = pki
        self.client_cas = client_cas
        self.verify_client = verify_client
        self.protocols = protocols

    def prepare(self, port: int) -> None:
        d = self.workdir
        (d / "nginx.pid").unlink(missing_ok=True)
        temps = "\n  ".join(
            f"{kind}_temp_path {d / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (d / "nginx.conf").write_text(
            f"""daemon off;
master_process off;
worker_processes 1;
pid {d / "nginx.pid"};
error_log {d / "error.log"} info;
events {{ worker_connections 64; }}
http {{
  access_log {d / "access.log"};
  {temps}
{self.servers(port)}
}}
"""
        )

    def servers(self, port: int) -> str:
        """The ``server`` blocks of the config (subclasses serve other sites)."""
        client_auth = ""
        if self.verify_client != "off":
            client_auth = (
                f"ssl_verify_client {self.verify_client};\n"
                f"    ssl_client_certificate {self.client_cas or self.pki.ca_file};\n"
                "    ssl_verify_depth 4;"
            )
        return f"""  server {{
    listen {HOST}:{port} ssl;
    ssl_certificate {self.pki.cert_file};
    ssl_certificate_key {self.pki.key_file};
    ssl_protocols {self.protocols};
    {client_auth}
    location / {{
      default_type text/plain;
      return 200 "subject=$ssl_client_s_dn\\nverify=$ssl_client_verify\\n";
    }}
  }}"""

    def bound_port(self, requested: int) -> int | None:
        """nginx writes its pid file only after every listen socket is bound."""
        return requested if (self.workdir / "nginx.pid").exists() else None

    def start_failed(self) -> bool:
        """nginx retries a busy port for 2.5 s before exiting; its first complaint is enough."""
        return "bind() to" in self.stderr and "failed" in self.stderr

    def argv(self, port: int) -> list[str]:
        conf = self.workdir / "nginx.conf"
        return [
            self.executable,
            "-p",
            str(self.workdir),
            "-c",
            str(conf),
            "-e",
            str(self._err_path),
        ]

    @property
    def error_log(self) -> str:
        path = self.workdir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


class ApacheServer(ProcessPeer):
    """Apache httpd over TLS 1.2 whose ``/protected`` alone needs a client certificate.

    The handshake asks for nothing; a request for ``/protected`` makes mod_ssl renegotiate
    (HelloRequest) and require a certificate under ``client_cas``. Every answer carries the
    client subject mod_ssl saw in ``X-Client-Subject`` and the access log records it too.
    Children drop to www-data when started as root, so the document root lives in a
    world-readable temporary directory of its own.
    """

    tool = "apache2"
    name = "apache2"
    modules = Path("/usr/lib/apache2/modules")

    def __init__(self, workdir: Path, pki: ServerPKI, *, client_cas: Path | None = None) -> None:
        super().__init__(workdir)
        self.pki = pki
        self.client_cas = client_cas
        self.docroot = Path(tempfile.mkdtemp(prefix="tlsengine-apache-"))
        self.docroot.chmod(0o755)
        (self.docroot / "public").write_text("public page\n")
        (self.docroot / "protected").write_text("protected page\n")
        for page in self.docroot.iterdir():
            page.chmod(0o644)

    def prepare(self, port: int) -> None:
        d = self.workdir
        (d / "httpd.pid").unlink(missing_ok=True)
        user = "User www-data\nGroup www-data\n" if os.geteuid() == 0 else ""
        modules = "\n".join(
            f"LoadModule {name}_module {self.modules / f'mod_{name}.so'}"
            for name in ("mpm_prefork", "authz_core", "ssl", "headers")
        )
        (d / "httpd.conf").write_text(
            f"""ServerRoot {d}
DefaultRuntimeDir {d}
PidFile {d / "httpd.pid"}
ErrorLog {d / "error.log"}
LogLevel info ssl:info
{modules}
{user}StartServers 1
MinSpareServers 1
MaxSpareServers 2
MaxRequestWorkers 4
Listen {HOST}:{port}
ServerName localhost
DocumentRoot {self.docroot}
<Directory {self.docroot}>
  Require all granted
</Directory>
LogFormat "%h \\"%r\\" %>s subject=\\"%{{SSL_CLIENT_S_DN}}x\\" proto=%{{SSL_PROTOCOL}}x" tls
CustomLog {d / "access.log"} tls
SSLEngine on
SSLProtocol -all +TLSv1.2
SSLCertificateFile {self.pki.cert_file}
SSLCertificateKeyFile {self.pki.key_file}
SSLCACertificateFile {self.client_cas or self.pki.ca_file}
SSLSessionCache none
Header always set X-Client-Subject "%{{SSL_CLIENT_S_DN}}s"
<Location /protected>
  SSLVerifyClient require
  SSLVerifyDepth 4
</Location>
"""
        )

    def argv(self, port: int) -> list[str]:
        conf = self.workdir / "httpd.conf"
        return [self.executable, "-f", str(conf), "-DFOREGROUND"]

    def bound_port(self, requested: int) -> int | None:
        return requested if (self.workdir / "httpd.pid").exists() else None

    def start_failed(self) -> bool:
        return "could not bind" in self.error_log + self.stderr

    def cleanup(self) -> None:
        shutil.rmtree(self.docroot, ignore_errors=True)

    @property
    def error_log(self) -> str:
        path = self.workdir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def access_log(self) -> str:
        path = self.workdir / "access.log"
        return path.read_text(errors="replace") if path.exists() else ""


# --------------------------------------------------------------------------- stdlib ssl peer


@dataclass
class SSLRecord:
    """What the stdlib server saw on one connection."""

    peer: tuple[str, int]
    subject: str | None = None  # client leaf (the stdlib exposes only the leaf)
    version: str | None = None
    handshake_messages: list[str] = field(default_factory=list)  # read from the client
    error: str | None = None
    session_reused: bool | None = None


class PythonSSLServer(ThreadedServer):
    """The stdlib ``ssl`` server in a thread: never sends CA names, nor close_notify.

    ``verify_mode`` is ``ssl.CERT_REQUIRED``, ``CERT_OPTIONAL`` or ``CERT_NONE``. After the
    handshake it answers one HTTP request with the client subject. Handshake messages read
    from the client are recorded through the ``ssl`` message callback (``_msg_callback``,
    CPython's debugging hook), so a test can assert that no Certificate message arrived.
    """

    def __init__(
        self,
        pki: ServerPKI,
        *,
        verify_mode: ssl.VerifyMode = ssl.CERT_REQUIRED,
        client_cas: Path | None = None,
        minimum_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3,
        maximum_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3,
        timeout: float = 5.0,
        tickets: int = 0,
    ) -> None:
        super().__init__(HOST, timeout)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = minimum_version
        ctx.maximum_version = maximum_version
        ctx.load_cert_chain(pki.cert_file, pki.key_file)
        ctx.verify_mode = verify_mode
        if verify_mode != ssl.CERT_NONE:
            ctx.load_verify_locations(cafile=str(client_cas or pki.ca_file))
        ctx.num_tickets = tickets  # TLS 1.3 tickets per connection (resumption tests)
        ctx._msg_callback = self._on_message  # type: ignore[attr-defined]
        self.context = ctx
        self._current: dict[int, SSLRecord] = {}  # handshaking thread -> its record

    def next_record(self, timeout: float = 5.0) -> SSLRecord:
        return super().next_record(timeout)

    def _on_message(
        self, conn: Any, direction: str, version: Any, ctype: Any, mtype: Any, data: Any
    ) -> None:
        if direction != "read" or getattr(ctype, "name", "") != "HANDSHAKE":
            return
        record = self._current.get(threading.get_ident())
        if record is not None:
            record.handshake_messages.append(getattr(mtype, "name", str(mtype)))

    def _serve(self, sock: socket.socket, peer: tuple[str, int]) -> None:
        record = SSLRecord(peer=peer)
        self._current[threading.get_ident()] = record
        tls: ssl.SSLSocket | None = None
        try:
            tls = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
            self._live.add(tls)  # wrapping detached ``sock``: stop() must shut this one down
            tls.do_handshake()
            record.version = tls.version()
            record.session_reused = tls.session_reused
            der = tls.getpeercert(binary_form=True)
            if der:
                cert = x509.load_der_x509_certificate(der)
                record.subject = cert.subject.rfc4514_string()
        except (OSError, ssl.SSLError) as exc:
            record.error = f"{type(exc).__name__}: {exc}"
        finally:
            self._current.pop(threading.get_ident(), None)
            self._publish(record)
        try:
            if tls is not None:
                self._answer(tls, record)
        except (OSError, ssl.SSLError):
            pass
        finally:
            if tls is not None:
                self._live.discard(tls)
                tls.close()

    @staticmethod
    def _answer(tls: ssl.SSLSocket, record: SSLRecord) -> None:
        request = b""
        while b"\r\n\r\n" not in request and len(request) < 65536:
            chunk = tls.recv(16384)
            if not chunk:
                return
            request += chunk
        body = f"subject={record.subject or ''}\n".encode()
        tls.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )


# --------------------------------------------------------------------------- compiled peers

#: Sources of the compiled peers (Go, Rust) and where ``build.sh`` puts the binaries.
PEER_SOURCES = Path(__file__).resolve().parent / "peers"
BUILD_DIR = PEER_SOURCES / ".build"
#: Where the toolchains live on this machine kind, beside whatever PATH holds.
TOOLCHAIN_DIRS = ("/usr/local/go/bin", str(Path.home() / ".cargo" / "bin"))
#: binary -> (build.sh target, toolchain command, how to get the toolchain)
BUILT_PEERS = {
    "goserver": ("go", "go", "Go from https://go.dev/dl/ (into /usr/local/go)"),
    "rustls-server": ("rust", "cargo", "Rust with rustup (into ~/.cargo)"),
}
_build_outcome: dict[str, tuple[str | None, str]] = {}  # binary -> (path, why there is none)


def built_peer(name: str) -> str:
    """Path of a compiled peer, built (once per session) by ``tests/peers/build.sh``.

    With the toolchain present the build always runs: Go and cargo rebuild only what
    changed, so a fresh binary costs well under a second. Without it, a binary built
    earlier (``.ci/run`` builds both) is used. Otherwise skip, or fail under ``CI=true``.
    """
    if name not in _build_outcome:
        _build_outcome[name] = _build(name)
    path, why = _build_outcome[name]
    if path is None:
        if IN_CI:
            pytest.fail(f"CI=true and {why}; .ci/run should have built it")
        pytest.skip(why)
    return path


def _build(name: str) -> tuple[str | None, str]:
    target, toolchain, hint = BUILT_PEERS[name]
    binary = BUILD_DIR / name
    search = os.pathsep.join([os.environ.get("PATH", ""), *TOOLCHAIN_DIRS])
    if shutil.which(toolchain, path=search):
        done = subprocess.run(
            ["bash", str(PEER_SOURCES / "build.sh"), target],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if done.returncode != 0:
            output = done.stderr[-3000:] or done.stdout[-3000:]
            return None, f"building {name} failed (bash tests/peers/build.sh {target}):\n{output}"
    if binary.exists():
        return str(binary), ""
    return None, (
        f"{name} is not built and `{toolchain}` is not installed: install {hint}, "
        f"then run bash tests/peers/build.sh {target}"
    )


ClientAuth = Literal["require", "request", "none"]


class LoggingPeer(ProcessPeer):
    """A compiled peer that binds port 0, prints ``LISTENING <port>``, and leaves one line
    per connection on stderr: ``CLIENT|NO_CLIENT_CERT|FAIL <addr> <details>``."""

    binary = ""

    def start(self) -> ProcessPeer:
        self.tool = built_peer(self.binary)  # skips or fails before anything starts
        return super().start()

    def requested_port(self) -> int:
        return 0

    def bound_port(self, requested: int) -> int | None:
        m = re.search(r"^LISTENING (\d+)$", self.stdout, re.M)
        return int(m.group(1)) if m else None

    def verdict(self, client_port: int) -> str:
        """The line for the connection from ``client_port``, without the address (waits)."""
        m = self.wait_for_output(rf"(?m)^(\w+) {re.escape(HOST)}:{client_port}\b ?(.*)$")
        return f"{m.group(1)} {m.group(2)}".strip()


class GoServer(LoggingPeer):
    """``tests/peers/go``: Go's ``crypto/tls``, standard library only.

    ``auth="require"`` is ``tls.RequireAndVerifyClientCert``, ``"request"`` is
    ``VerifyClientCertIfGiven``. Go names every CA of ``client_cas`` in its
    CertificateRequest. Lines: ``CLIENT <addr> TLS 1.3 CN=...``, ``NO_CLIENT_CERT <addr>
    TLS 1.3``, ``FAIL <addr> <Go error>``.
    """

    binary = "goserver"
    name = "go-crypto-tls"

    def __init__(
        self,
        workdir: Path,
        pki: ServerPKI,
        *,
        client_cas: Path | None = None,
        auth: ClientAuth = "require",
        min_version: Literal["1.2", "1.3"] = "1.2",
        max_version: Literal["1.2", "1.3"] = "1.3",
    ) -> None:
        super().__init__(workdir)
        self.pki = pki
        self.client_cas = client_cas
        self.auth = auth
        self.versions = (min_version, max_version)

    def argv(self, port: int) -> list[str]:
        argv = [self.executable, "-cert", str(self.pki.cert_file), "-key", str(self.pki.key_file)]
        argv += ["-auth", self.auth, "-min", self.versions[0], "-max", self.versions[1]]
        return argv + ["-client-cas", str(self.client_cas or self.pki.ca_file)]


class RustlsServer(LoggingPeer):
    """``tests/peers/rust``: rustls (ring provider) with ``WebPkiClientVerifier``.

    ``auth="request"`` is the verifier's ``allow_unauthenticated()``. rustls names the
    subjects of its client roots in the CertificateRequest. Lines: ``CLIENT <addr>
    TLSv1.3 CN=...``, ``NO_CLIENT_CERT <addr> TLSv1.3``, ``FAIL <addr> <rustls error>``.
    """

    binary = "rustls-server"
    name = "rustls"

    def __init__(
        self,
        workdir: Path,
        pki: ServerPKI,
        *,
        client_cas: Path | None = None,
        auth: ClientAuth = "require",
        tls: Literal["1.2", "1.3", "any"] = "any",
    ) -> None:
        super().__init__(workdir)
        self.pki = pki
        self.client_cas = client_cas
        self.auth = auth
        self.tls = tls

    def argv(self, port: int) -> list[str]:
        cas = str(self.client_cas or self.pki.ca_file)
        return [
            self.executable,
            str(self.pki.cert_file),
            str(self.pki.key_file),
            cas,
            self.auth,
            self.tls,
        ]


class NSSServer(ProcessPeer):
    """NSS ``selfserv`` (package ``libnss3-tools``) over a private NSS database.

    The database holds the server's leaf and key (imported from a PKCS#12 we write) and,
    trusted for client authentication (``CT,,``), each CA of ``client_cas``: selfserv
    names exactly those in its CertificateRequest. ``verify`` is ``-r`` (request) or
    ``-rr`` (require); with ``post_handshake=True`` the request comes instead after the
    handshake, when the first HTTP request has been read (TLS 1.3 post-handshake
    authentication: ``-rrr``/``-rrrr -E``). selfserv echoes the request as its answer and
    prints the client certificate it validated on stdout (``Subject: CN=...``).
    """

    tool = "selfserv"
    name = "nss-selfserv"
    password = "nss-test"  # of the throwaway PKCS#12 handed to pk12util

    def __init__(
        self,
        workdir: Path,
        pki: ServerPKI,
        *,
        client_cas: Sequence[CA | x509.Certificate] | None = None,
        verify: ClientAuth = "require",
        post_handshake: bool = False,
        tls: Literal["1.2", "1.3"] = "1.3",
    ) -> None:
        super().__init__(workdir)
        self.pki = pki
        self.client_cas = list(client_cas) if client_cas is not None else [pki.ca]
        self.verify = verify
        self.post_handshake = post_handshake
        self.tls = tls
        self.db = workdir / "nssdb"

    def prepare(self, port: int) -> None:
        if self.db.exists():
            return
        self.db.mkdir()
        db = f"sql:{self.db}"
        self._nss_tool("certutil", "-N", "-d", db, "--empty-password")
        # the leaf alone: the server's own CA must not enter the database untrusted-but-
        # present, so the CA list selfserv sends is exactly ``client_cas``
        server = Identity.create(self.pki.certificate, self.pki.key, alias="server")
        p12 = self.workdir / "server.p12"  # the throwaway test server's key, like server.key
        p12.write_bytes(build_pkcs12([server], self.password))
        self._nss_tool("pk12util", "-i", str(p12), "-d", db, "-W", self.password, "-K", "")
        for i, ca in enumerate(self.client_cas):
            cert = ca.certificate if isinstance(ca, CA) else ca
            path = self.workdir / f"client-ca-{i}.pem"
            path.write_bytes(cert_pem(cert))
            self._nss_tool(
                "certutil", "-A", "-d", db, "-n", f"client-ca-{i}", "-t", "CT,,", "-i", str(path)
            )

    def _nss_tool(self, tool: str, *args: str) -> None:
        done = subprocess.run([require_tool(tool), *args], capture_output=True, timeout=30)
        if done.returncode != 0:
            raise PeerStartError(f"{tool} {args[0]} failed: {done.stderr.decode(errors='replace')}")

    def argv(self, port: int) -> list[str]:
        level = {"require": 2, "request": 1, "none": 0}[self.verify]
        if self.post_handshake and level:
            level += 2
        argv = [self.executable, "-d", f"sql:{self.db}", "-n", "server", "-p", str(port), "-v"]
        argv += ["-V", f"tls{self.tls}:tls{self.tls}"]
        argv += ["-r"] * level
        if self.post_handshake:
            argv.append("-E")
        stdbuf = shutil.which("stdbuf")  # selfserv's stdout is block-buffered into a file
        return [stdbuf, "-oL", *argv] if stdbuf else argv

    def bound_port(self, requested: int) -> int | None:
        """With ``-v`` selfserv says it is about to accept only once it has bound."""
        return requested if "About to call accept" in self.stderr else None

    def start_failed(self) -> bool:
        return "PR_Bind" in self.stderr or "address is already in use" in self.stderr.lower()

    def client_subjects(self) -> list[str]:
        """Client leaf subjects selfserv validated, in order. Its auth-certificate hook prints
        subject and issuer, then ``Certificate Validated`` on stdout, or on failure
        ``Certificate Invalid, err -N`` on stderr."""
        validated = (
            r"^selfserv: Subject: (.+)\n"
            r"selfserv: Issuer : .+\n"
            r"selfserv: -- SSL3: Certificate Validated\.$"
        )
        return re.findall(validated, self.stdout, re.M)


# --------------------------------------------------------------------------- fixtures


@dataclass
class Peers:
    """Factory for every peer kind; everything it started is stopped at teardown."""

    workdir: Path
    pki: ServerPKI
    started: list[Any] = field(default_factory=list)

    def _dir(self, kind: str) -> Path:
        return self.workdir / f"{kind}-{len(self.started)}"

    def _keep(self, peer: Any) -> Any:
        self.started.append(peer)
        return peer

    def python_ssl(self, **kw: Any) -> PythonSSLServer:
        return self.start(PythonSSLServer(self.pki, **kw))

    def openssl(self, *, pki: ServerPKI | None = None, **kw: Any) -> OpenSSLServer:
        return self.start(OpenSSLServer(self._dir("openssl"), pki or self.pki, **kw))

    def gnutls(self, **kw: Any) -> GnuTLSServer:
        return self.start(GnuTLSServer(self._dir("gnutls"), self.pki, **kw))

    def nginx(self, **kw: Any) -> NginxServer:
        return self.start(NginxServer(self._dir("nginx"), self.pki, **kw))

    def apache(self, **kw: Any) -> ApacheServer:
        return self.start(ApacheServer(self._dir("apache"), self.pki, **kw))

    def tlslite(self, **kw: Any) -> TestServer:
        return self.start(TestServer(self.pki.chain, self.pki.key, **kw))

    def go(self, **kw: Any) -> GoServer:
        return self.start(GoServer(self._dir("go"), self.pki, **kw))

    def rustls(self, **kw: Any) -> RustlsServer:
        return self.start(RustlsServer(self._dir("rustls"), self.pki, **kw))

    def nss(self, **kw: Any) -> NSSServer:
        return self.start(NSSServer(self._dir("nss"), self.pki, **kw))

    def start(self, peer: _P) -> _P:
        """Start a peer (ours, or one the caller built: a subclass, another PKI) and stop it
        at teardown."""
        self._keep(peer)
        peer.start()  # type: ignore[attr-defined]
        return peer

    def cas(self, *cas: CA | x509.Certificate) -> Path:
        """A client-CA bundle file for a peer to trust."""
        path = self.workdir / f"client-cas-{len(list(self.workdir.glob('client-cas-*')))}.pem"
        return write_cas(path, *cas)

    def stop_all(self) -> None:
        for peer in reversed(self.started):
            peer.stop()
            if isinstance(peer, ApacheServer):
                peer.cleanup()
        self.started.clear()


@pytest.fixture(scope="session")
def server_pki(root_ca: CA, tmp_path_factory: pytest.TempPathFactory) -> ServerPKI:
    """One localhost server certificate from the session root, shared by every peer."""
    return make_server_pki(root_ca, tmp_path_factory.mktemp("server-pki"))


@pytest.fixture
def peers(server_pki: ServerPKI, tmp_path: Path) -> Iterator[Peers]:
    factory = Peers(tmp_path, server_pki)
    try:
        yield factory
    finally:
        factory.stop_all()
