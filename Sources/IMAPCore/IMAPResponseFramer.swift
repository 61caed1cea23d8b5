/// Cuts a server's byte stream into frames: response text up to a literal announcement or the end of a line,
/// and the literal bytes that follow an announcement, handed out in chunks as they arrive so a 200 MB `BODY[]`
/// is never held whole. Only framing happens here; the grammar is `IMAPResponseParser`'s.
///
/// RFC 9051 section 4.3: a literal is `{N}` (or `~{N}` for BINARY, RFC 3516) at the end of a line, followed by
/// CRLF and exactly N octets; the response continues on the text after them.
public struct IMAPResponseFramer: Sendable {
    public struct LiteralAnnouncement: Sendable, Hashable {
        public var size: Int64
        /// `~{N}`: the literal may hold NUL bytes (RFC 3516 literal8).
        public var binary: Bool
        public init(size: Int64, binary: Bool) {
            self.size = size
            self.binary = binary
        }
    }

    public enum Frame: Sendable, Hashable {
        /// Response text without the line's CRLF. When `literal` is set the text ends with its announcement
        /// (`{N}` or `~{N}`) and N literal bytes follow; otherwise the response line ends here.
        case text([UInt8], literal: LiteralAnnouncement?)
        /// Consecutive bytes of the announced literal.
        case literalBytes([UInt8])
        /// All the announced bytes have been handed out.
        case literalEnd
    }

    public let limits: IMAPLimits
    var buffer: [UInt8] = []
    var start = 0
    /// Where the search for LF resumes, so a long line arriving byte by byte is scanned once.
    var scanned = 0
    /// Bytes of the literal still to hand out, when inside one.
    var literalRemaining: Int64?

    public init(limits: IMAPLimits = .default) { self.limits = limits }

    /// Bytes received and not yet handed out.
    public var bufferedCount: Int { buffer.count - start }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            scanned -= start
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Forgets every byte received and not yet framed (STARTTLS: nothing sent before the handshake may be
    /// read as if it came through TLS, RFC 2595 section 3.1). Returns how many were dropped.
    @discardableResult
    public mutating func discardBuffered() -> Int {
        let dropped = buffer.count - start
        buffer.removeAll()
        start = 0
        scanned = 0
        literalRemaining = nil
        return dropped
    }

    /// The next complete frame, or nil when more bytes are needed. Throws on bad input or a passed limit; the
    /// framer cannot continue after that.
    public mutating func next() throws(IMAPCoreError) -> Frame? {
        if let remaining = literalRemaining {
            if remaining == 0 {
                literalRemaining = nil
                return .literalEnd
            }
            let available = buffer.count - start
            guard available > 0 else { return nil }
            let take = Int(min(Int64(available), remaining))
            let chunk = Array(buffer[start..<start + take])
            start += take
            scanned = start
            literalRemaining = remaining - Int64(take)
            return .literalBytes(chunk)
        }
        var lf: Int? = nil
        var i = max(scanned, start)
        while i < buffer.count {
            if buffer[i] == 0x0a {
                lf = i
                break
            }
            i += 1
        }
        guard let lineFeed = lf else {
            scanned = buffer.count
            if buffer.count - start > limits.maxLineLength {
                throw IMAPCoreError(
                    .limitExceeded, "response line longer than \(limits.maxLineLength) bytes",
                    excerpt: IMAPCoreError.excerpt(of: buffer[start...]))
            }
            return nil
        }
        var end = lineFeed
        if end > start && buffer[end - 1] == 0x0d { end -= 1 }  // a bare LF is tolerated as a line end
        if end - start > limits.maxLineLength {
            throw IMAPCoreError(
                .limitExceeded, "response line longer than \(limits.maxLineLength) bytes",
                excerpt: IMAPCoreError.excerpt(of: buffer[start..<end]))
        }
        let line = Array(buffer[start..<end])
        start = lineFeed + 1
        scanned = start
        let announcement = try Self.literalAnnouncement(atEndOf: line, limits: limits)
        if let announcement { literalRemaining = announcement.size }
        return .text(line, literal: announcement)
    }

    /// literal = "{" number64 ["+"] "}" CRLF *CHAR8 ; RFC 9051, the "+" only from clients
    /// literal8 = "~{" number64 "}" CRLF *OCTET ; RFC 3516
    ///
    /// Only `{digits}` at the very end of a line is an announcement; `{` with anything else is left to the
    /// parser (it can be plain text in resp-text). Too many digits or a size beyond the limit is an error.
    static func literalAnnouncement(atEndOf line: [UInt8], limits: IMAPLimits) throws(IMAPCoreError)
        -> LiteralAnnouncement?
    {
        guard line.last == UInt8(ascii: "}") else { return nil }
        var i = line.count - 2
        while i >= 0 && line[i] >= 0x30 && line[i] <= 0x39 { i -= 1 }
        let digitCount = line.count - 2 - i
        guard i >= 0, line[i] == UInt8(ascii: "{"), digitCount > 0 else { return nil }
        let digits = line[(i + 1)..<(line.count - 1)]
        if digitCount > limits.maxLiteralDigits {
            throw IMAPCoreError(
                .limitExceeded, "literal announcement with \(digitCount) digits",
                excerpt: IMAPCoreError.excerpt(of: line.suffix(40)))
        }
        var size: Int64 = 0
        for digit in digits { size = size * 10 + Int64(digit - 0x30) }
        if size > limits.maxMessageLiteral {
            throw IMAPCoreError(
                .limitExceeded, "literal of \(size) bytes announced, more than the limit of \(limits.maxMessageLiteral)"
            )
        }
        let binary = i > 0 && line[i - 1] == UInt8(ascii: "~")
        return LiteralAnnouncement(size: size, binary: binary)
    }
}
