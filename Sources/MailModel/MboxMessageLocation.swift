/// Where one message of an mbox file lies, found by `MboxReader` without reading it into memory.
public struct MboxMessageLocation: Hashable, Sendable {
    /// The separator line, read.
    public var fromLine: MboxFromLine
    /// The separator line as text, without its line break (cut at `MboxReader.maximumFromLineLength`).
    public var fromLineText: String
    /// The separator's line number in the file, from 1.
    public var lineNumber: Int
    /// The offset of the first content byte, just after the separator line.
    public var contentOffset: Int64
    /// Content bytes as stored (still quoted), without the empty line that separates messages.
    public var contentLength: Int64
    /// The message's real size: `contentLength` less one byte for each `>+From ` line.
    public var unquotedLength: Int64

    public init(
        fromLine: MboxFromLine, fromLineText: String, lineNumber: Int, contentOffset: Int64, contentLength: Int64,
        unquotedLength: Int64
    ) {
        self.fromLine = fromLine
        self.fromLineText = fromLineText
        self.lineNumber = lineNumber
        self.contentOffset = contentOffset
        self.contentLength = contentLength
        self.unquotedLength = unquotedLength
    }
}
