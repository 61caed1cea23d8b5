import Buffer
import Foundation

/// A test CA and a server certificate for 127.0.0.1 and localhost, made with the `openssl` command in a
/// temporary directory (removed on deinit). Also a second key that matches no certificate.
final class TestCertificates {
    let directory: String
    var caPath: String { directory + "/ca.pem" }
    var certificatePath: String { directory + "/server.pem" }
    var keyPath: String { directory + "/server.key" }
    var otherKeyPath: String { directory + "/other.key" }

    var tls: BufferConfiguration.TLS { .init(certificatePath: certificatePath, keyPath: keyPath) }

    init() throws {
        directory = try LiveBuffer.temporaryDirectory()
        let extensions = directory + "/server.ext"
        try """
            subjectAltName = DNS:localhost, IP:127.0.0.1
            basicConstraints = critical, CA:FALSE
            keyUsage = critical, digitalSignature
            extendedKeyUsage = serverAuth

            """.write(toFile: extensions, atomically: true, encoding: .utf8)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try openssl(
            ["req", "-x509"] + ec + [
                "-keyout", directory + "/ca.key", "-out", caPath, "-days", "2", "-subj", "/CN=MailFerry Test CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
        try openssl(["req"] + ec + ["-keyout", keyPath, "-out", directory + "/server.csr", "-subj", "/CN=localhost"])
        try openssl([
            "x509", "-req", "-in", directory + "/server.csr", "-CA", caPath, "-CAkey", directory + "/ca.key",
            "-CAcreateserial", "-out", certificatePath, "-days", "2", "-extfile", extensions,
        ])
        try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", otherKeyPath])
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    private func openssl(_ arguments: [String]) throws {
        let out = try Client.run("/usr/bin/openssl", arguments)
        guard out.status == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "openssl \(arguments.first!): \(out.stderr)"])
        }
    }
}
