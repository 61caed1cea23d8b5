/// One reply of an SMTP or LMTP server, as a client reads it: the three-digit code and the text of every line.
///
///     Reply-line = *( Reply-code "-" [ textstring ] CRLF ) Reply-code [ SP textstring ] CRLF   (RFC 5321 4.2)
public struct SMTPClientReply: Hashable, Sendable, CustomStringConvertible {
    public var code: Int
    public var lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    public var isPositive: Bool { (200..<300).contains(code) }

    /// The reply as the server sent it, lines joined by " / ", for error messages.
    public var description: String { lines.map { "\(code) \($0)" }.joined(separator: " / ") }

    /// LHLO capabilities (every line after the first, upper-cased keyword first).
    public var capabilities: [String] { lines.dropFirst().map { $0.uppercased() } }
}

/// Bytes from a server that are not a reply (RFC 5321 section 4.2).
public struct SMTPClientReplyError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Cuts replies out of the bytes a server sends. Pure: fed bytes, gives complete replies, so it is tested without
/// sockets.
public struct SMTPClientReplyParser: Sendable {
    /// RFC 5321 4.5.3.1.5: a reply line is at most 512 octets; allow more, but bound it.
    public static let maximumLineLength = 4096
    /// Bounds a multi-line reply (LHLO lists a few dozen capabilities at most).
    public static let maximumLines = 256

    private var buffer: [UInt8] = []
    private var pendingLines: [String] = []
    private var pendingCode: Int?

    public init() {}

    public mutating func feed(_ bytes: some Sequence<UInt8>) { buffer.append(contentsOf: bytes) }

    /// The next complete reply, nil if more bytes are needed. Throws on bytes that are not a reply.
    public mutating func next() throws -> SMTPClientReply? {
        while let lf = buffer.firstIndex(of: 10) {
            var line = Array(buffer[..<lf])
            buffer.removeSubrange(...lf)
            if line.last == 13 { line.removeLast() }
            guard line.count >= 3, line[0..<3].allSatisfy({ (48...57).contains($0) }),
                  line.count == 3 || line[3] == UInt8(ascii: " ") || line[3] == UInt8(ascii: "-")
            else { throw SMTPClientReplyError("not a reply line: \(String(reflecting: String(decoding: line.prefix(80), as: UTF8.self)))") }
            let code = Int(String(decoding: line[0..<3], as: UTF8.self))!
            if let pendingCode, pendingCode != code {
                throw SMTPClientReplyError("reply lines with different codes (\(pendingCode), \(code))")
            }
            pendingCode = code
            pendingLines.append(line.count > 4 ? String(decoding: line[4...], as: UTF8.self) : "")
            guard pendingLines.count <= Self.maximumLines else {
                throw SMTPClientReplyError("a reply of more than \(Self.maximumLines) lines")
            }
            if line.count == 3 || line[3] == UInt8(ascii: " ") {
                let reply = SMTPClientReply(code: code, lines: pendingLines)
                pendingLines = []
                self.pendingCode = nil
                return reply
            }
        }
        if buffer.count > Self.maximumLineLength {
            throw SMTPClientReplyError("a reply line longer than \(Self.maximumLineLength) bytes")
        }
        return nil
    }
}
