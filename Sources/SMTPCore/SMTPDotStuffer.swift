/// Turns message bytes into DATA content, as an SMTP or LMTP client sends it (RFC 5321 4.5.2): a "." at the start of a line gets a second ".".
/// Streaming: chunks may split lines anywhere. `finish()` gives the end: CRLF if the message did not end with
/// one, then ".CRLF".
public struct SMTPDotStuffer: Sendable {
    private var atLineStart = true
    private var lastTwo: (UInt8, UInt8) = (13, 10)

    public init() {}

    public mutating func stuff(_ chunk: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        out.reserveCapacity(out.count + chunk.count + 16)
        for byte in chunk {
            if atLineStart && byte == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
            out.append(byte)
            atLineStart = byte == 10
            lastTwo = (lastTwo.1, byte)
        }
    }

    public mutating func stuff(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        bytes.withUnsafeBytes { stuff($0, into: &out) }
        return out
    }

    /// The bytes that end DATA.
    public func finish() -> [UInt8] {
        if lastTwo == (13, 10) { return Array(".\r\n".utf8) }
        if lastTwo.1 == 13 { return Array("\n.\r\n".utf8) }  // a CR at the end: complete its CRLF
        return Array("\r\n.\r\n".utf8)
    }
}
