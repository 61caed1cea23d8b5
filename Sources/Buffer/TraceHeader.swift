import Foundation
import SMTPCore

/// The header lines the buffer puts at the top of every message it stores: a `Received:` trace field
/// (RFC 5321 section 4.4) and the loop marker (`X-MailFerry-Buffered: HOSTNAME`).
struct TraceHeader: Sendable {
    var clientDomain: String
    var clientAddress: String?
    var hostname: String
    var mode: SMTPSession.Mode
    var overTLS: Bool
    var date: Date

    /// RFC 5321 section 4.4 `with` protocol types (RFC 3848): ESMTP, ESMTPS, LMTP, LMTPS.
    var protocolName: String {
        (mode == .lmtp ? "LMTP" : "ESMTP") + (overTLS ? "S" : "")
    }

    // Received: from HELO (client IP) by HOSTNAME (MailFerry buffer) with ESMTP; date
    var bytes: [UInt8] {
        let client = clientAddress.map { " ([\($0)])" } ?? ""
        let text =
            "Received: from \(Self.clean(clientDomain))\(client)\r\n"
            + "\tby \(Self.clean(hostname)) (MailFerry buffer) with \(protocolName);\r\n"
            + "\t\(Self.rfc5322Date(date))\r\n"
            + "\(BufferDefaults.loopMarkerField): \(Self.clean(hostname))\r\n"
        return Array(text.utf8)
    }

    /// Printable ASCII without parentheses, so a client's HELO cannot break the header's structure.
    static func clean(_ text: String) -> String {
        String(text.unicodeScalars.map { (0x21...0x7E).contains($0.value) && $0 != "(" && $0 != ")" ? Character($0) : "?" })
    }

    /// `Tue, 1 Jul 2025 10:00:00 +0000` (RFC 5322 section 3.3).
    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, d MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
