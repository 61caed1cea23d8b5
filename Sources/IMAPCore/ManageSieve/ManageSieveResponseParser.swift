/// Cuts ManageSieve response lines (RFC 5804 section 4) out of the bytes a server sends and parses each into
/// tokens. Pure: bytes in, lines out, no sockets. Memory stays bounded by `ManageSieveLimits`: a line without its
/// CRLF past `maxLineBytes` and a literal announced larger than `maxLiteralBytes` are refused as soon as seen.
///
///     response-line = *(token SP) CRLF
///     string        = quoted / literal-s2c
///     quoted        = DQUOTE *(SAFE-CHAR / "\" QUOTED-SPECIALS) DQUOTE
///     literal-s2c   = "{" number "}" CRLF *OCTET      ; "{" number "+}" accepted too
///     resp-code     = "(" ... ")"
public struct ManageSieveResponseParser {
    public let limits: ManageSieveLimits
    private var buffer: [UInt8] = []
    private var start = 0

    public init(limits: ManageSieveLimits = .default) { self.limits = limits }

    /// Bytes received from the server.
    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if start > 0 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Forgets every byte received (STARTTLS: nothing sent in the clear may be used after it).
    public mutating func discardBuffered() {
        buffer.removeAll()
        start = 0
    }

    /// Bytes received and not yet parsed into a line.
    public var bufferedBytes: Int { buffer.count - start }

    /// The next complete line, or nil when more bytes are needed.
    public mutating func nextLine() throws(ManageSieveParseError) -> [ManageSieveToken]? {
        var position = start
        var tokens: [ManageSieveToken] = []
        var stack: [[ManageSieveToken]] = []
        var literalBytes = 0
        while true {
            guard position < buffer.count else { return try needMore(literalBytes: literalBytes) }
            let byte = buffer[position]
            switch byte {
            case UInt8(ascii: " "):
                position += 1
            case UInt8(ascii: "\r"):
                guard position + 1 < buffer.count else { return try needMore(literalBytes: literalBytes) }
                guard buffer[position + 1] == UInt8(ascii: "\n") else { throw ManageSieveParseError("CR without LF") }
                guard stack.isEmpty else { throw ManageSieveParseError("a response code's ( is not closed") }
                start = position + 2
                return tokens
            case UInt8(ascii: "\n"):
                throw ManageSieveParseError("LF without CR")
            case UInt8(ascii: "("):
                stack.append(tokens)
                tokens = []
                position += 1
            case UInt8(ascii: ")"):
                guard let outer = stack.popLast() else { throw ManageSieveParseError(") without (") }
                tokens = outer + [.list(tokens)]
                position += 1
            case UInt8(ascii: "\""):
                guard let (bytes, end) = try quoted(from: position + 1) else { return try needMore(literalBytes: literalBytes) }
                tokens.append(.string(bytes))
                position = end
            case UInt8(ascii: "{"):
                // Waiting for a literal's bytes is bounded by its announced size, checked against the limit.
                guard let (bytes, end) = try literal(from: position + 1, before: literalBytes) else { return nil }
                literalBytes += bytes.count
                tokens.append(.string(bytes))
                position = end
            default:
                var end = position
                while end < buffer.count, Self.isAtomByte(buffer[end]) { end += 1 }
                guard end > position else { throw ManageSieveParseError("unexpected byte \(byte)") }
                guard end < buffer.count else { return try needMore(literalBytes: literalBytes) }
                tokens.append(.atom(String(decoding: buffer[position..<end], as: UTF8.self)))
                position = end
            }
        }
    }

    /// Nil (wait for more), unless the line so far is already longer than any line may be.
    /// `literalBytes`: the bytes of the line's complete literals, which count against `maxLiteralBytes` instead.
    private func needMore(literalBytes: Int) throws(ManageSieveParseError) -> [ManageSieveToken]? {
        if bufferedBytes - literalBytes > limits.maxLineBytes {
            throw ManageSieveParseError("a response line is longer than \(limits.maxLineBytes) bytes", limit: true)
        }
        return nil
    }

    /// After the opening quote: the unescaped bytes and the position after the closing quote.
    private func quoted(from first: Int) throws(ManageSieveParseError) -> ([UInt8], Int)? {
        var bytes: [UInt8] = []
        var position = first
        while position < buffer.count {
            let byte = buffer[position]
            switch byte {
            case UInt8(ascii: "\""): return (bytes, position + 1)
            case UInt8(ascii: "\\"):
                guard position + 1 < buffer.count else { return nil }
                let next = buffer[position + 1]
                guard next == UInt8(ascii: "\"") || next == UInt8(ascii: "\\") else {
                    throw ManageSieveParseError("a quoted string escapes a byte other than \" or \\")
                }
                bytes.append(next)
                position += 2
            case UInt8(ascii: "\r"), UInt8(ascii: "\n"), 0:
                throw ManageSieveParseError("a quoted string holds CR, LF or NUL")
            default:
                bytes.append(byte)
                position += 1
            }
            if bytes.count > limits.maxLineBytes {
                throw ManageSieveParseError("a quoted string is longer than \(limits.maxLineBytes) bytes", limit: true)
            }
        }
        return nil
    }

    /// After `{`: `number["+"]"}" CRLF` and that many bytes; the bytes and the position after them. The size is
    /// checked against the limit before any of the literal is waited for.
    /// `before`: the bytes of the line's earlier literals; all of a line's literals together are held to the limit.
    private func literal(from first: Int, before: Int) throws(ManageSieveParseError) -> ([UInt8], Int)? {
        var position = first
        var size = 0
        var digits = 0
        while position < buffer.count, buffer[position] >= UInt8(ascii: "0"), buffer[position] <= UInt8(ascii: "9") {
            size = size * 10 + Int(buffer[position] - UInt8(ascii: "0"))
            digits += 1
            guard digits <= 10 else {
                throw ManageSieveParseError("a literal of more than \(limits.maxLiteralBytes) bytes announced", limit: true)
            }
            position += 1
        }
        if digits > 0, before + size > limits.maxLiteralBytes {
            throw ManageSieveParseError("a literal of \(size) bytes announced, more than the \(limits.maxLiteralBytes) allowed", limit: true)
        }
        guard position < buffer.count else { return nil }
        guard digits > 0 else { throw ManageSieveParseError("{ not followed by a number") }
        if buffer[position] == UInt8(ascii: "+") { position += 1 }
        guard position + 2 < buffer.count else { return nil }
        guard buffer[position] == UInt8(ascii: "}"), buffer[position + 1] == UInt8(ascii: "\r"),
            buffer[position + 2] == UInt8(ascii: "\n")
        else { throw ManageSieveParseError("a literal's {N} is not followed by CRLF") }
        position += 3
        guard buffer.count - position >= size else { return nil }
        return (Array(buffer[position..<(position + size)]), position + size)
    }

    /// Bytes an atom may hold: printable ASCII but for the characters that start or end something else.
    static func isAtomByte(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: "(") && byte != UInt8(ascii: ")")
            && byte != UInt8(ascii: "{") && byte != UInt8(ascii: "\"")
    }
}
