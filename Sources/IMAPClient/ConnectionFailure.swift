import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// What went wrong reaching a server, in the words a mail administrator uses ("connection refused", "timed out",
/// "the certificate expired") rather than SwiftNIO's and BoringSSL's error values.
enum ConnectionFailure {
    /// Why a TCP connection to `host` port `port` could not be made.
    static func connect(_ error: any Error, host: String, port: Int, timeout: Duration) -> String {
        var failures: [any Error] = [error]
        if let e = error as? NIOConnectionError {
            if e.connectionErrors.isEmpty {
                if e.dnsAError != nil || e.dnsAAAAError != nil {
                    return "the name \(host) cannot be resolved (no such host, or DNS does not answer)"
                }
                return "\(host) has no address to connect to"
            }
            failures = e.connectionErrors.map(\.error)
        }
        // Several addresses (IPv4 and IPv6) may have failed differently; the first says the most.
        let words = failures.map { describe($0, host: host, port: port, timeout: timeout) }
        return "cannot connect to \(host) port \(port): " + (words.first ?? "\(error)")
    }

    private static func describe(_ error: any Error, host: String, port: Int, timeout: Duration) -> String {
        if case ChannelError.connectTimeout = error {
            return "timed out after \(timeout) (the host does not answer: it is down, or a firewall drops the connection)"
        }
        if let io = error as? IOError { return errnoWords(io.errnoCode, host: host, port: port) }
        if error is SocketAddressError { return "the name \(host) cannot be resolved (no such host, or DNS does not answer)" }
        return "\(error)"
    }

    static func errnoWords(_ code: Int32, host: String, port: Int) -> String {
        switch code {
        case ECONNREFUSED:
            return "connection refused (nothing listens on port \(port) there, or a firewall rejects the connection)"
        case ETIMEDOUT: return "timed out (the host does not answer: it is down, or a firewall drops the connection)"
        case EHOSTUNREACH, EHOSTDOWN: return "no route to the host (it is down or unreachable from here)"
        case ENETUNREACH: return "the network is unreachable from here"
        case ECONNRESET: return "the connection was reset by the server or a firewall"
        default: return String(cString: strerror(code))
        }
    }

    /// A TLS handshake that failed for a reason other than the certificate (which `CertificateDiagnosis` words).
    static func tlsHandshake(_ error: any Error, host: String, port: Int, implicitTLS: Bool) -> String {
        let text = "\(error)"
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("HTTP_REQUEST") || text.contains("PACKET_LENGTH_TOO_LONG") {
            return implicitTLS
                ? "the server on port \(port) does not speak TLS from the start (for a port that offers STARTTLS, such as 143, use imap:// rather than imaps://)"
                : "the server's answer to STARTTLS is not TLS"
        }
        if text.contains("UNSUPPORTED_PROTOCOL") || text.contains("PROTOCOL_VERSION") {
            return "the server and this program have no TLS version in common (this program needs TLS 1.2 or later)"
        }
        if text.contains("NO_SHARED_CIPHER") || text.contains("HANDSHAKE_FAILURE") {
            return "the TLS handshake failed: the server and this program have no cipher in common, or the server refused the handshake"
        }
        if let ssl = error as? NIOSSLError, ssl == .uncleanShutdown {
            return "the server closed the connection during the TLS handshake"
        }
        return "the TLS handshake failed (\(text))"
    }
}
