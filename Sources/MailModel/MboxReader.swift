/// Finds the messages of an mbox file, reading it in fixed-size chunks so that memory stays bounded
/// whatever the file's size.
///
/// The separator rule: a line starting with `From ` begins a new message when it is the first non-empty
/// line of the file, or when the line before it is empty. That empty line belongs to the separator, not
/// to the message before it. The last message ends at the end of the file, less one final empty line
/// if the file ends with one (mbox writers add it after every message). Requiring the empty line keeps
/// an unquoted `From ` in the middle of a paragraph (mboxo writers that skipped quoting, pasted text)
/// from splitting a message; an unquoted `From ` right after an empty line inside a body cannot be told
/// from a separator and does split it. Lines may end in LF or CRLF; an empty line is `LF` or `CR LF`.
///
/// Content is reported as stored; `unquotedLength` counts it after mboxrd unquoting (see `MboxQuoting`).
public struct MboxReader: Sendable {
    /// One read of 1 MiB: large enough that system calls do not dominate, small enough to never matter.
    public static let defaultChunkSize = 1 << 20
    /// From_ lines are short; this keeps a corrupt file with a huge "line" from growing a buffer.
    /// 4 KiB is four times RFC 5322's 998-octet line limit.
    public static let maximumFromLineLength = 4096

    public let file: ReadOnlyFile
    public let chunkSize: Int

    public init(file: ReadOnlyFile, chunkSize: Int = defaultChunkSize) {
        self.file = file
        self.chunkSize = max(1, chunkSize)
    }

    /// The state of the line being read.
    struct Line {
        var start: Int64 = 0
        var number = 1
        var length: Int64 = 0
        /// The first bytes, kept only while the line may be a From_ line.
        var head: [UInt8] = []
        var firstByte: UInt8?
        var greaterThan = 0
        var matched = 0
        var quoted: Bool?

        var isBlank: Bool { length == 0 || (length == 1 && firstByte == RFC5322.cr) }
        var isFromLine: Bool { head.count >= 5 && head[0..<5].elementsEqual(MboxQuoting.from) }
    }

    /// The message being read.
    struct Open {
        var location: MboxMessageLocation
        var quotedLines: Int64 = 0
    }

    /// Calls `found` with each message in file order. Throws `ConnectorError` when the file cannot be read
    /// or does not start with a From_ line (after optional empty lines).
    /// Returns the file size that was scanned, for later checks that the file did not change.
    @discardableResult
    public func scan(_ found: (MboxMessageLocation) throws -> Void) throws -> Int64 {
        let size = try file.status().size
        var line = Line()
        var current: Open?
        var previousBlank = false
        var previousBlankStart: Int64 = 0
        var offset: Int64 = 0

        func finishMessage(endingAt end: Int64) throws {
            guard var open = current else { return }
            open.location.contentLength = end - open.location.contentOffset
            open.location.unquotedLength = open.location.contentLength - open.quotedLines
            try found(open.location)
            current = nil
        }

        func endLine(at end: Int64, complete: Bool) throws {
            let startsMessage = line.isFromLine && (current == nil || previousBlank)
            if startsMessage {
                if current != nil { try finishMessage(endingAt: previousBlankStart) }
                var text = line.head
                if text.last == RFC5322.lf { text.removeLast() }
                if text.last == RFC5322.cr { text.removeLast() }
                let textString = RFC5322.text(text)
                current = Open(
                    location: MboxMessageLocation(
                        fromLine: MboxFromLine(textString)!, fromLineText: textString, lineNumber: line.number,
                        contentOffset: end, contentLength: 0, unquotedLength: 0))
            } else if current == nil {
                if !line.isBlank {
                    throw ConnectorError(
                        location: "\(file.path):\(line.number)",
                        message: "not an mbox file: first line does not start with 'From '")
                }
            } else if line.quoted == true {
                current!.quotedLines += 1
            }
            previousBlank = complete && line.isBlank
            previousBlankStart = line.start
            line = Line(start: end, number: line.number + 1)
        }

        while offset < size {
            let chunk = try file.read(at: offset, count: Int(min(Int64(chunkSize), size - offset)))
            guard !chunk.isEmpty else {
                throw ConnectorError(
                    location: file.path, message: "file shrank while being read: expected \(size) bytes, got \(offset)")
            }
            for (index, byte) in chunk.enumerated() {
                if line.length == 0 { line.firstByte = byte }
                if line.head.count < Self.maximumFromLineLength
                    && (line.head.count < 5 || line.head[0..<5].elementsEqual(MboxQuoting.from))
                {
                    line.head.append(byte)
                }
                if byte == RFC5322.lf {
                    try endLine(at: offset + Int64(index) + 1, complete: true)
                    continue
                }
                line.length += 1
                if line.quoted == nil {
                    // The same decision `MboxQuoting` makes when unquoting: `>+From ` at the line start.
                    if line.matched == 0 && byte == MboxQuoting.greaterThan {
                        line.greaterThan += 1
                    } else if byte == MboxQuoting.from[line.matched] {
                        line.matched += 1
                        if line.matched == MboxQuoting.from.count { line.quoted = line.greaterThan > 0 }
                    } else {
                        line.quoted = false
                    }
                }
            }
            offset += Int64(chunk.count)
        }
        if line.length > 0 { try endLine(at: size, complete: false) }
        if let open = current {
            let dropsBlank = previousBlank && previousBlankStart >= open.location.contentOffset
            try finishMessage(endingAt: dropsBlank ? previousBlankStart : size)
        }
        return size
    }
}
