// A minimal Go crypto/tls server for tlsengine's interop suite (standard library only).
//
// Usage: goserver -cert server.pem -key server.key [-client-cas cas.pem]
//
//	[-auth require|request|none] [-min 1.2|1.3] [-max 1.2|1.3]
//
// Binds 127.0.0.1:0 and prints "LISTENING <port>" on stdout once it accepts. Each
// connection gets one HTTP/1.1 answer whose body names the client's subject
// ("subject=CN=...") or "no client certificate". Every connection also leaves one line on
// stderr, tagged with the client's address so a test can find its own among many:
//
//	CLIENT <addr> <version> <subject>
//	NO_CLIENT_CERT <addr> <version>
//	FAIL <addr> <error>
//
// With -auth require the server uses tls.RequireAndVerifyClientCert and names every CA of
// -client-cas in its CertificateRequest (TLS 1.3 certificate_authorities, TLS 1.2
// certificate_authorities field), as crypto/tls always does for ClientCAs.
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net"
	"os"
	"time"
)

const ioTimeout = 10 * time.Second

var versions = map[string]uint16{"1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13}

var authModes = map[string]tls.ClientAuthType{
	"require": tls.RequireAndVerifyClientCert,
	"request": tls.VerifyClientCertIfGiven,
	"none":    tls.NoClientCert,
}

func main() {
	certFile := flag.String("cert", "", "server chain PEM (leaf first)")
	keyFile := flag.String("key", "", "server key PEM")
	casFile := flag.String("client-cas", "", "PEM bundle of CAs trusted for client certificates")
	auth := flag.String("auth", "require", "client authentication: require, request or none")
	minVersion := flag.String("min", "1.2", "lowest TLS version: 1.2 or 1.3")
	maxVersion := flag.String("max", "1.3", "highest TLS version: 1.2 or 1.3")
	flag.Parse()

	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	check(err, "server certificate")
	clientAuth, ok := authModes[*auth]
	if !ok {
		fail("-auth must be require, request or none")
	}
	config := &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   clientAuth,
		MinVersion:   version(*minVersion),
		MaxVersion:   version(*maxVersion),
	}
	if *casFile != "" {
		pem, err := os.ReadFile(*casFile)
		check(err, "client CAs")
		config.ClientCAs = x509.NewCertPool()
		if !config.ClientCAs.AppendCertsFromPEM(pem) {
			fail("no certificate in " + *casFile)
		}
	}

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	check(err, "listen")
	fmt.Printf("LISTENING %d\n", listener.Addr().(*net.TCPAddr).Port)
	for {
		conn, err := listener.Accept()
		check(err, "accept")
		go serve(tls.Server(conn, config))
	}
}

func serve(conn *tls.Conn) {
	defer conn.Close()
	addr := conn.RemoteAddr().String()
	_ = conn.SetDeadline(time.Now().Add(ioTimeout))
	if err := conn.Handshake(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL %s %v\n", addr, err)
		return
	}
	state := conn.ConnectionState()
	name := tls.VersionName(state.Version)
	body := "no client certificate\n"
	if len(state.PeerCertificates) > 0 {
		subject := state.PeerCertificates[0].Subject.String()
		fmt.Fprintf(os.Stderr, "CLIENT %s %s %s\n", addr, name, subject)
		body = "subject=" + subject + "\n"
	} else {
		fmt.Fprintf(os.Stderr, "NO_CLIENT_CERT %s %s\n", addr, name)
	}
	// one request, one answer: the client reads until close. The head is read line by
	// line (net/http would double the cold build time for no test's benefit).
	reader := bufio.NewReader(conn)
	for {
		line, err := reader.ReadString('\n')
		if err != nil {
			fmt.Fprintf(os.Stderr, "FAIL %s reading the request: %v\n", addr, err)
			return
		}
		if line == "\r\n" || line == "\n" {
			break
		}
	}
	fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"+
		"Content-Length: %d\r\n\r\n%s", len(body), body)
}

func version(text string) uint16 {
	v, ok := versions[text]
	if !ok {
		fail("TLS version must be 1.2 or 1.3, not " + text)
	}
	return v
}

func check(err error, what string) {
	if err != nil {
		fail(what + ": " + err.Error())
	}
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "goserver:", message)
	os.Exit(2)
}
