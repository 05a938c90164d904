//! A minimal rustls server for tlsengine's interop suite.
//!
//! Usage: rustls-server CERT.pem KEY.pem CLIENT_CAS.pem|- require|request|none 1.2|1.3|any
//!
//! Binds 127.0.0.1:0 and prints "LISTENING <port>" on stdout once it accepts. Client
//! certificates are checked by `WebPkiClientVerifier` against CLIENT_CAS, whose subjects it
//! names in the CertificateRequest. Each connection gets one HTTP/1.1 answer whose body
//! names the client's subject ("subject=CN=...") or "no client certificate", and leaves one
//! line on stderr, tagged with the client's address:
//!
//!   CLIENT <addr> <version> <subject>
//!   NO_CLIENT_CERT <addr> <version>
//!   FAIL <addr> <error>

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;
use std::{env, process, thread};

use rustls::crypto::ring::default_provider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection, StreamOwned};

const IO_TIMEOUT: Duration = Duration::from_secs(10);

fn main() {
    let args: Vec<String> = env::args().collect();
    if args.len() != 6 {
        die("usage: rustls-server CERT KEY CLIENT_CAS|- require|request|none 1.2|1.3|any");
    }
    let config = Arc::new(config(&args[1], &args[2], &args[3], &args[4], &args[5]));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| die(&format!("bind: {e}")));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    println!("LISTENING {port}");
    for stream in listener.incoming().flatten() {
        let config = config.clone();
        thread::spawn(move || serve(config, stream));
    }
}

fn config(cert: &str, key: &str, cas: &str, auth: &str, tls: &str) -> ServerConfig {
    let provider = Arc::new(default_provider());
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect())
        .unwrap_or_else(|e| die(&format!("{cert}: {e}")));
    let key = PrivateKeyDer::from_pem_file(key).unwrap_or_else(|e| die(&format!("{key}: {e}")));
    let versions: &[&rustls::SupportedProtocolVersion] = match tls {
        "1.2" => &[&rustls::version::TLS12],
        "1.3" => &[&rustls::version::TLS13],
        "any" => rustls::ALL_VERSIONS,
        _ => die("TLS version must be 1.2, 1.3 or any"),
    };
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .unwrap_or_else(|e| die(&format!("versions: {e}")));
    let builder = if auth == "none" {
        builder.with_no_client_auth()
    } else {
        let mut roots = RootCertStore::empty();
        for ca in CertificateDer::pem_file_iter(cas).unwrap_or_else(|e| die(&format!("{cas}: {e}")))
        {
            let ca = ca.unwrap_or_else(|e| die(&format!("{cas}: {e}")));
            roots.add(ca).unwrap_or_else(|e| die(&format!("{cas}: {e}")));
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
        let verifier = match auth {
            "require" => verifier.build(),
            "request" => verifier.allow_unauthenticated().build(),
            _ => die("client auth must be require, request or none"),
        };
        builder
            .with_client_cert_verifier(verifier.unwrap_or_else(|e| die(&format!("verifier: {e}"))))
    };
    builder
        .with_single_cert(chain, key)
        .unwrap_or_else(|e| die(&format!("server certificate: {e}")))
}

fn serve(config: Arc<ServerConfig>, stream: TcpStream) {
    let addr = stream.peer_addr().map(|a| a.to_string()).unwrap_or_default();
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let conn = ServerConnection::new(config).expect("a fresh server connection");
    let mut tls = StreamOwned::new(conn, stream);
    while tls.conn.is_handshaking() {
        if let Err(e) = tls.conn.complete_io(&mut tls.sock) {
            eprintln!("FAIL {addr} {e}");
            return;
        }
    }
    let version = match tls.conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
        _ => "unknown",
    };
    let subject = tls.conn.peer_certificates().and_then(|c| c.first()).map(|c| subject_of(c));
    let body = match subject {
        Some(Some(s)) => {
            eprintln!("CLIENT {addr} {version} {s}");
            format!("subject={s}\n")
        }
        Some(None) => {
            eprintln!("FAIL {addr} client certificate subject does not parse");
            return;
        }
        None => {
            eprintln!("NO_CLIENT_CERT {addr} {version}");
            "no client certificate\n".to_string()
        }
    };
    // one request, one answer: read the head, then answer and close
    let mut reader = BufReader::new(&mut tls);
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => {
                eprintln!("FAIL {addr} no request");
                return;
            }
            Ok(_) if line == "\r\n" || line == "\n" => break,
            Ok(_) => {}
        }
    }
    let answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = tls.write_all(answer.as_bytes());
    tls.conn.send_close_notify();
    let _ = tls.flush();
}

// ------------------------------------------------------------------ certificate subject
// rustls hands out certificates as DER and parses none itself; a short DER walk to the
// subject Name (RFC 5280 4.1) keeps the build free of an X.509 crate.

/// One DER element: (tag, contents, rest).
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        first as usize
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |acc, &b| (acc << 8) | b as usize);
        rest = &rest[n..];
        len
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The leaf's subject in RFC 4514 form (last RDN first), as Python's cryptography prints it.
fn subject_of(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, cert, _) = der(cert.as_ref())?;
    let (_, tbs, _) = der(cert)?;
    let mut fields = tbs;
    if fields.first() == Some(&0xa0) {
        fields = der(fields)?.2; // explicit version
    }
    for _ in 0..4 {
        fields = der(fields)?.2; // serial, signature, issuer, validity
    }
    let (_, mut name, _) = der(fields)?;
    let mut rdns = Vec::new();
    while !name.is_empty() {
        let (_, set, rest) = der(name)?;
        name = rest;
        let mut attrs = Vec::new();
        let mut set = set;
        while !set.is_empty() {
            let (_, atv, rest) = der(set)?;
            set = rest;
            let (_, oid, value) = der(atv)?;
            let (_, value, _) = der(value)?;
            attrs.push(format!(
                "{}={}",
                attribute_name(oid),
                escape(&String::from_utf8_lossy(value))
            ));
        }
        rdns.push(attrs.join("+"));
    }
    rdns.reverse();
    Some(rdns.join(","))
}

fn attribute_name(oid: &[u8]) -> String {
    match oid {
        [0x55, 0x04, 0x03] => "CN".into(),
        [0x55, 0x04, 0x06] => "C".into(),
        [0x55, 0x04, 0x07] => "L".into(),
        [0x55, 0x04, 0x08] => "ST".into(),
        [0x55, 0x04, 0x0a] => "O".into(),
        [0x55, 0x04, 0x0b] => "OU".into(),
        _ => oid.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"),
    }
}

fn escape(value: &str) -> String {
    let mut out = String::new();
    for (i, c) in value.chars().enumerate() {
        let edge =
            (i == 0 && (c == ' ' || c == '#')) || (i + 1 == value.chars().count() && c == ' ');
        if edge || matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn die(message: &str) -> ! {
    eprintln!("rustls-server: {message}");
    process::exit(2)
}
