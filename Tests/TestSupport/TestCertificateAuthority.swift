import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A throwaway CA and a server certificate it signs, made with openssl for a test server on loopback (Dovecot,
/// Radicale): a client trusts `ca.pem` as a user would trust their organisation's CA.
public enum TestCertificateAuthority {
    /// Writes into `root`: `ca.pem` (with `ca.key`), and `server.pem` with `server.key` (mode 0600), which the CA
    /// signs for CN=localhost with `subjectAltName`.
    public static func make(in root: String, subjectAltName: String = "IP:127.0.0.1,DNS:localhost") throws {
        try "subjectAltName = \(subjectAltName)\nbasicConstraints = CA:FALSE\n"
            .write(toFile: root + "/server.ext", atomically: true, encoding: .utf8)
        let steps: [[String]] = [
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=MailFerry Test CA"],
            ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=localhost"],
            ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "2", "-extfile", "server.ext"],
        ]
        for arguments in steps {
            let openssl = try ProcessRunner.run("/usr/bin/openssl", arguments, directory: root)
            guard openssl.status == 0 else {
                throw DovecotIMAPFailure(message: "openssl \(arguments.prefix(1).joined()) failed: \(openssl.stderr)")
            }
        }
        chmod(root + "/server.key", 0o600)
    }
}
