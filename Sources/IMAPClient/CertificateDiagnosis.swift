import Foundation
import NIOCore
import NIOSSL

/// Why a server's certificate was not accepted, in words: expired, not yet valid, self-signed, issued by a CA
/// this machine does not trust, or made out to other names than the host. BoringSSL only reports "certificate
/// verify failed", so the certificates are fetched again over a connection that checks nothing and is closed
/// before anything is sent (`IMAPConnection.fetchCertificates`), and looked at here.
struct CertificateDiagnosis {
    /// The chain as the server sent it, leaf first.
    var chain: [NIOSSLCertificate]
    var host: String
    /// The CA file given, or nil for the system's trusted CAs.
    var caFile: String?
    var names: IMAPSettingNames
    var now = Date()

    /// The sentence for people; `hostnameFailed`: the certificate was trusted but does not name the host.
    func describe(hostnameFailed: Bool = false) -> String {
        guard let leaf = chain.first else {
            return "the server sent no certificate"
        }
        let subject = Self.name(leaf.subjectName)
        let trust = caFile.map { "the CAs in \($0)" } ?? "this machine's trusted CAs"
        var problems: [String] = []
        let expires = Date(timeIntervalSince1970: TimeInterval(leaf.notValidAfter))
        let starts = Date(timeIntervalSince1970: TimeInterval(leaf.notValidBefore))
        if expires < now {
            problems.append("it expired on \(Self.day(expires))")
        } else if starts > now {
            problems.append("it is not valid before \(Self.day(starts)) (check this machine's clock too)")
        }
        if !hostnameFailed {
            if leaf.subjectName == leaf.issuerName {
                problems.append("it is self-signed, and not among \(trust) (give it with \(names.caFile))")
            } else if let ca = chain.dropFirst().first(where: { $0.subjectName == leaf.issuerName }), ca.subjectName == ca.issuerName {
                problems.append("its issuer \(Self.name(leaf.issuerName)) is not among \(trust) (give that CA with \(names.caFile))")
            } else if problems.isEmpty {
                problems.append("its issuer \(Self.name(leaf.issuerName)) is not among \(trust), or the server does not send the intermediate certificates (give the CA with \(names.caFile))")
            }
        }
        let certified = certifiedNames(leaf)
        if !matches(certified) {
            problems.append("it is made out to \(certified.isEmpty ? "no host name" : certified.joined(separator: ", ")), not \(host) (host name mismatch: connect by a name the certificate lists)")
        }
        if problems.isEmpty {
            problems.append("it did not verify against \(trust)")
        }
        return "the server's certificate (\(subject)) is not accepted: " + problems.joined(separator: "; ")
    }

    /// The DNS names and IP addresses the certificate is made out to (subjectAltName, else the common name).
    func certifiedNames(_ certificate: NIOSSLCertificate) -> [String] {
        var found: [String] = []
        for alt in certificate._subjectAlternativeNames() {
            if alt.nameType == .dnsName {
                found.append(String(decoding: alt.contents.withUnsafeBufferPointer { Array($0) }, as: UTF8.self))
            } else if alt.nameType == .ipAddress {
                let bytes = alt.contents.withUnsafeBufferPointer { Array($0) }
                if bytes.count == 4 {
                    found.append(bytes.map(String.init).joined(separator: "."))
                } else if bytes.count == 16, let address = try? SocketAddress(packedIPAddress: ByteBuffer(bytes: bytes), port: 0) {
                    found.append(address.ipAddress ?? "")
                }
            }
        }
        if found.isEmpty, let cn = certificate.subjectName.first(where: { $0.type == .commonName }) { found.append(cn.value) }
        return found
    }

    /// RFC 6125 in short: an exact name (any case) or a wildcard for one leftmost label.
    func matches(_ names: [String]) -> Bool {
        let wanted = host.lowercased()
        return names.contains { raw in
            let name = raw.lowercased()
            if name == wanted { return true }
            if name.hasPrefix("*."), let dot = wanted.firstIndex(of: ".") {
                return wanted[dot...] == name.dropFirst()
            }
            return false
        }
    }

    static func name(_ parts: [SSLCertificateName]) -> String {
        if let cn = parts.first(where: { $0.type == .commonName }) { return "CN=\(cn.value)" }
        return parts.map(\.value).joined(separator: ", ").nonEmptyOr("no subject name")
    }

    static func day(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: date)
    }
}

extension String {
    fileprivate func nonEmptyOr(_ other: String) -> String { isEmpty ? other : self }
}
