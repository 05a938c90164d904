// A minimal JSSE (SunJSSE) TLS 1.3 server for tlsengine's interop suite.
//
// Usage: java JsseServer PORT KEYSTORE.p12 KEYSTORE_PASSWORD TRUSTSTORE.p12 TRUSTSTORE_PASSWORD
//                        need|want|none
//
// Binds 127.0.0.1:PORT (0 = any free port) and prints "LISTENING <port>" on stdout once it
// accepts. Each connection gets one HTTP/1.1 answer whose body names the client's subject
// ("subject=CN=...") or "no client certificate". Every connection also leaves one line on
// stderr, tagged with the client's address so a test can find its own among many:
//   CLIENT <addr> <subject DN, RFC 2253>
//   NO_CLIENT_CERT <addr>
//   FAIL <addr> <exception class>: <message>
// Java sends the CA names of its trust manager's accepted issuers in the TLS 1.3
// CertificateRequest (certificate_authorities), which is why the truststore matters.

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

public final class JsseServer {
    private static final int IO_TIMEOUT_MS = 10_000;

    private JsseServer() {}

    private static KeyStore load(String path, char[] password) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(path)) {
            store.load(in, password);
        }
        return store;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 6 && args.length != 7) {
            System.err.println(
                "usage: JsseServer PORT KEYSTORE PASS TRUSTSTORE PASS need|want|none [PROTOCOL]");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        char[] keyPass = args[2].toCharArray();
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("NewSunX509");
        kmf.init(load(args[1], keyPass), keyPass);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(load(args[3], args[4].toCharArray()));
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);

        SSLServerSocket server = (SSLServerSocket) ctx.getServerSocketFactory().createServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 16);
        // optional 7th argument: the one protocol to enable (default TLSv1.3)
        server.setEnabledProtocols(new String[] {args.length == 7 ? args[6] : "TLSv1.3"});
        switch (args[5]) {
            case "need": server.setNeedClientAuth(true); break;
            case "want": server.setWantClientAuth(true); break;
            case "none": break;
            default:
                System.err.println("client auth must be need, want or none");
                System.exit(2);
        }
        System.out.println("LISTENING " + server.getLocalPort());
        System.out.flush();
        while (true) {
            SSLSocket sock = (SSLSocket) server.accept();
            Thread worker = new Thread(() -> serve(sock));
            worker.setDaemon(true);
            worker.start();
        }
    }

    private static void serve(SSLSocket sock) {
        String peer = sock.getInetAddress().getHostAddress() + ":" + sock.getPort();
        try (sock) {
            sock.setSoTimeout(IO_TIMEOUT_MS);
            try {
                sock.startHandshake();
            } catch (Exception e) {
                log("FAIL " + peer + " " + e);
                return;
            }
            String body;
            try {
                X509Certificate leaf = (X509Certificate) sock.getSession().getPeerCertificates()[0];
                String subject = leaf.getSubjectX500Principal().getName();
                log("CLIENT " + peer + " " + subject);
                body = "subject=" + subject + "\n";
            } catch (SSLPeerUnverifiedException e) {
                log("NO_CLIENT_CERT " + peer);
                body = "no client certificate\n";
            }
            answer(sock, body);
        } catch (Exception e) {
            log("IOFAIL " + peer + " " + e);
        }
    }

    /** Reads one request head and answers it; the connection closes afterwards. */
    private static void answer(SSLSocket sock, String body) throws Exception {
        BufferedReader in = new BufferedReader(
            new InputStreamReader(sock.getInputStream(), StandardCharsets.ISO_8859_1));
        String line = in.readLine();
        while (line != null && !line.isEmpty()) {
            line = in.readLine();
        }
        if (line == null) {
            return;
        }
        byte[] payload = body.getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
            + "Content-Length: " + payload.length + "\r\n\r\n";
        OutputStream out = sock.getOutputStream();
        out.write(head.getBytes(StandardCharsets.ISO_8859_1));
        out.write(payload);
        out.flush();
    }

    private static synchronized void log(String line) {
        System.err.println(line);
        System.err.flush();
    }
}
