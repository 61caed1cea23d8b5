import Buffer
import Foundation
import Testing

/// The configuration keys for STARTTLS in a listener table (`tls_certificate`, `tls_key`, `require_tls`): what
/// they accept, and errors that name the key and the file.
@Suite struct BufferConfigurationTLSTests: ConfigurationCases {
    @Test func tlsKeysAreReadAndTheFilesChecked() throws {
        let certificates = try TestCertificates()
        let c = try BufferConfiguration.parse(
            text(smtp: "tls_certificate = \"\(certificates.certificatePath)\"\ntls_key = \"\(certificates.keyPath)\"\nrequire_tls = true"))
        #expect(c.smtp?.tls == certificates.tls)
        #expect(c.smtp?.requireTLS == true)
        #expect(c.lmtp == nil)
        let plain = try BufferConfiguration.parse(text())
        #expect(plain.smtp?.tls == nil)
        #expect(plain.smtp?.requireTLS == false)
    }

    @Test func badTLSFilesSayWhichKeyAndWhichFile() throws {
        let certificates = try TestCertificates()
        let missing = certificates.directory + "/missing.pem"
        let cases: [(String, String)] = [
            (
                "tls_certificate = \"\(missing)\"\ntls_key = \"\(certificates.keyPath)\"",
                "buffer.toml: smtp.tls_certificate: \(missing) does not exist"
            ),
            (
                "tls_certificate = \"\(certificates.certificatePath)\"\ntls_key = \"\(missing)\"",
                "buffer.toml: smtp.tls_key: \(missing) does not exist"
            ),
            (
                "tls_certificate = \"\(certificates.keyPath)\"\ntls_key = \"\(certificates.keyPath)\"",
                "buffer.toml: smtp.tls_certificate: \(certificates.keyPath) is not a PEM certificate"
            ),
            (
                "tls_certificate = \"\(certificates.certificatePath)\"\ntls_key = \"\(certificates.certificatePath)\"",
                "buffer.toml: smtp.tls_key: \(certificates.certificatePath) is not a PEM private key"
            ),
            (
                "tls_certificate = \"\(certificates.certificatePath)\"\ntls_key = \"\(certificates.otherKeyPath)\"",
                "buffer.toml: smtp.tls_key: \(certificates.otherKeyPath) does not match the certificate \(certificates.certificatePath)"
            ),
            ("tls_key = \"\(certificates.keyPath)\"", "buffer.toml: smtp.tls_certificate: is required with tls_key"),
            ("tls_certificate = \"\(certificates.certificatePath)\"", "buffer.toml: smtp.tls_key: is required with tls_certificate"),
            ("require_tls = true", "buffer.toml: smtp.require_tls: needs tls_certificate and tls_key in [smtp]"),
            ("tls_certifcate = \"x\"", "buffer.toml: smtp.tls_certifcate: unknown key"),
        ]
        for (keys, expected) in cases {
            let message = failure(text(smtp: keys))
            #expect(message.hasPrefix(expected), "\(keys) gave \(message)")
        }
    }
}
