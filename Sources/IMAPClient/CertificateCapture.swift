import NIOSSL
import Synchronization

/// The certificate chain a diagnostic connection's handshake saw, handed from the event loop to the waiting thread.
final class CertificateCapture: Sendable {
    private let kept = Mutex<[NIOSSLCertificate]>([])
    func keep(_ chain: [NIOSSLCertificate]) { kept.withLock { $0 = chain } }
    var chain: [NIOSSLCertificate] { kept.withLock { $0 } }
}
