import Foundation
import NIOSSL

/// STARTTLS for the listeners (RFC 3207): the server context from a listener's `tls_certificate` and `tls_key`.
/// The same checks run when the configuration is loaded (so a bad file is a configuration error that names the
/// key and the file) and when the server starts.
enum BufferTLS {
    /// Reads the certificate chain (leaf first) and the private key, and checks that the key belongs to the
    /// leaf certificate. `table` is the listener's table name (`smtp`, `lmtp`), `path` the configuration file.
    static func makeContext(_ tls: BufferConfiguration.TLS, table: String, path: String) throws -> NIOSSLContext {
        func fail(_ key: String, _ message: String) -> ConfigurationError {
            ConfigurationError(path: path, message: "\(table).\(key): \(message)")
        }
        for (key, file) in [("tls_certificate", tls.certificatePath), ("tls_key", tls.keyPath)] {
            guard FileManager.default.isReadableFile(atPath: file) else {
                let reason = FileManager.default.fileExists(atPath: file) ? "is not readable by this user" : "does not exist"
                throw fail(key, "\(file) \(reason)")
            }
        }
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(tls.certificatePath)
        } catch {
            throw fail("tls_certificate", "\(tls.certificatePath) is not a PEM certificate: \(error)")
        }
        guard !chain.isEmpty else {
            throw fail("tls_certificate", "\(tls.certificatePath) holds no PEM certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: tls.keyPath, format: .pem)
        } catch {
            throw fail("tls_key", "\(tls.keyPath) is not a PEM private key (an unencrypted one is needed): \(error)")
        }
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw fail(
                "tls_key",
                "\(tls.keyPath) does not match the certificate \(tls.certificatePath) (or cannot be used with it): \(error)")
        }
    }
}
