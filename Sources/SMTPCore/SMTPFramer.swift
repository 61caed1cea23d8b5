/// Cuts an SMTP byte stream into command lines and, in DATA mode, message content.
///
/// Feed any chunks with `append(_:)` (one byte at a time works), then call `next()` until it
/// returns `.needMoreBytes`. A thrown `SMTPFramingError` is about one command line only;
/// framing goes on after it. The framer buffers at most one command line (it discards a line
/// once it passes the limit) plus whatever the host appended and has not pulled yet; DATA
/// content is handed out as it arrives and never held whole.
///
/// DATA (RFC 5321 section 4.5.2): the message ends only at CRLF "." CRLF, where the first CRLF
/// is the end of the last line (or the 354 itself for an empty message). A line starting with
/// "." loses that dot. A bare LF is never part of an end marker (no `LF.LF`, no `LF.CRLF`): this
/// keeps the buffer out of SMTP smuggling, where two servers disagree on where a message ends.
public struct SMTPFramer: Sendable {
    /// What to do with a bare LF ending a line inside DATA.
    public enum BareLineFeedPolicy: Hashable, Sendable {
        /// Write CRLF instead and count it (default).
        case normalize
        /// Count it and refuse the message at the end (`Rejection.bareLineEnding`).
        case reject
    }

    /// What to do with a DATA line longer than the text line limit.
    public enum LongLinePolicy: Hashable, Sendable {
        /// Keep the line and count it (default).
        case accept
        /// Count it and refuse the message at the end (`Rejection.lineTooLong`).
        case reject
    }

    public struct Options: Hashable, Sendable {
        /// Longest command line including CRLF.
        public var commandLineLimit: Int
        /// Longest DATA line including CRLF.
        public var textLineLimit: Int
        public var bareLineFeeds: BareLineFeedPolicy
        public var longLines: LongLinePolicy

        public init(
            commandLineLimit: Int = SMTPLimits.commandLineLength,
            textLineLimit: Int = SMTPLimits.textLineLength,
            bareLineFeeds: BareLineFeedPolicy = .normalize,
            longLines: LongLinePolicy = .accept
        ) {
            precondition(commandLineLimit >= SMTPLimits.commandLineLength, "RFC 5321 4.5.3.1.4: at least 512")
            precondition(textLineLimit >= SMTPLimits.textLineLength, "RFC 5321 4.5.3.1.6: at least 1000")
            self.commandLineLimit = commandLineLimit
            self.textLineLimit = textLineLimit
            self.bareLineFeeds = bareLineFeeds
            self.longLines = longLines
        }
    }

    public enum Event: Hashable, Sendable {
        /// One command line without its line end.
        case commandLine([UInt8])
        /// Message content, dot-unstuffed, in order; write it out as it comes.
        case content([UInt8])
        /// The terminating "." was read; the framer is back in command mode.
        case endOfData(SMTPDataSummary)
    }

    /// The result of `next()`: an event, or a request for more bytes (errors are thrown).
    public enum Next: Hashable, Sendable {
        case event(Event)
        case needMoreBytes
    }

    /// Where the DATA reader is within a line.
    enum LineState: Sendable {
        case lineStart
        case dot
        case dotCR
        case inLine
        case cr
    }

    struct DataState: Sendable {
        var summary: SMTPDataSummary
        var line: LineState = .lineStart
        /// Whether the line now starting follows a CRLF (or the 354): only then can "." end DATA.
        var lineStartFollowsCRLF = true
        var lineLength = 0
        var finished = false
    }

    public let options: Options
    var buffer: [UInt8] = []
    var readIndex = 0
    /// Command mode: where the search for LF goes on, so a byte is scanned once.
    var scanIndex = 0
    /// Command mode: the current line passed the limit and is being dropped up to its LF.
    var discardingLongLine = false
    var data: DataState?

    /// Command lines that ended in a bare LF (accepted, but a protocol deviation).
    public private(set) var bareLineFeedCommandLines = 0

    public init(options: Options = Options()) {
        self.options = options
    }

    /// Bytes appended and not yet framed. A host that stops pulling (while the session waits)
    /// should stop reading from the socket once this grows.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Adds received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// Switches to DATA mode; call after sending 354. Bytes already buffered after the DATA
    /// command line are read as content.
    public mutating func beginData(maximumSize: Int) {
        precondition(data == nil, "beginData while already in DATA mode")
        data = DataState(summary: SMTPDataSummary(maximumSize: maximumSize))
        discardingLongLine = false
    }

    /// Drops everything buffered; after STARTTLS the plaintext a client pipelined behind it must
    /// not be read as commands of the TLS session (RFC 3207 section 4.2, CVE-2011-0411).
    public mutating func discardBufferedInput() {
        buffer.removeAll(keepingCapacity: true)
        readIndex = 0
        scanIndex = 0
        discardingLongLine = false
    }

    /// The next event, or `.needMoreBytes`.
    public mutating func next() throws(SMTPFramingError) -> Next {
        defer { compact() }
        if data != nil { return nextDataEvent() }
        return try nextCommandLine()
    }

    // MARK: Command lines

    // command-line = *(%d0-9 / %d11-12 / %d14-255) CRLF        (a bare LF is tolerated as the end)
    mutating func nextCommandLine() throws(SMTPFramingError) -> Next {
        let limit = options.commandLineLimit
        guard let lf = buffer[max(scanIndex, readIndex)...].firstIndex(of: ASCII.lf) else {
            if discardingLongLine || buffer.count - readIndex >= limit {
                // Passed the limit: drop what we have and keep dropping until the LF.
                discardingLongLine = true
                readIndex = buffer.count
            }
            scanIndex = buffer.count
            return .needMoreBytes
        }
        var line = buffer[readIndex..<lf]
        readIndex = lf + 1
        scanIndex = readIndex
        if discardingLongLine {
            discardingLongLine = false
            throw .lineTooLong(limit: limit)
        }
        let endsInCRLF = line.last == ASCII.cr
        if endsInCRLF { line = line.dropLast() }
        guard line.count + 2 <= limit else { throw .lineTooLong(limit: limit) }
        guard !line.contains(ASCII.cr) else { throw .bareCarriageReturn }
        if !endsInCRLF { bareLineFeedCommandLines += 1 }
        return .event(.commandLine(Array(line)))
    }

    // MARK: DATA

    mutating func nextDataEvent() -> Next {
        guard var state = data else { return .needMoreBytes }
        if state.finished {
            data = nil
            scanIndex = readIndex
            return .event(.endOfData(state.summary))
        }
        var output: [UInt8] = []
        output.reserveCapacity(buffer.count - readIndex)
        while readIndex < buffer.count {
            let byte = buffer[readIndex]
            readIndex += 1
            if step(byte, &state, &output) {
                state.finished = true
                state.summary.rejection = rejection(for: state.summary)
                break
            }
        }
        data = state
        if !output.isEmpty { return .event(.content(output)) }
        if state.finished { return nextDataEvent() }
        return .needMoreBytes
    }

    func rejection(for summary: SMTPDataSummary) -> SMTPDataSummary.Rejection? {
        if summary.tooLarge { return .tooLarge }
        if options.bareLineFeeds == .reject, summary.hasLineEndingDeviations { return .bareLineEnding }
        if options.longLines == .reject, summary.longLines > 0 { return .lineTooLong }
        return nil
    }

    /// Reads one DATA byte; returns true at the end of DATA.
    func step(_ byte: UInt8, _ state: inout DataState, _ output: inout [UInt8]) -> Bool {
        switch state.line {
        case .lineStart:
            if byte == ASCII.dot {
                state.line = .dot
                return false
            }
            lineByte(byte, &state, &output)
        case .dot:
            // Dot-unstuffing: the leading dot is gone whatever follows.
            if byte == ASCII.cr {
                state.line = .dotCR
                return false
            }
            lineByte(byte, &state, &output)
        case .dotCR:
            if byte == ASCII.lf, state.lineStartFollowsCRLF { return true }
            afterCR(byte, &state, &output)
        case .inLine:
            lineByte(byte, &state, &output)
        case .cr:
            afterCR(byte, &state, &output)
        }
        return false
    }

    /// The byte after a CR: LF ends the line; anything else makes the CR a bare one, kept as content.
    func afterCR(_ byte: UInt8, _ state: inout DataState, _ output: inout [UInt8]) {
        if byte == ASCII.lf {
            endLine(crlf: true, &state, &output)
            return
        }
        state.summary.bareCarriageReturns += 1
        emit(ASCII.cr, &state, &output)
        countLineOctet(&state)
        state.line = .inLine
        lineByte(byte, &state, &output)
    }

    func lineByte(_ byte: UInt8, _ state: inout DataState, _ output: inout [UInt8]) {
        switch byte {
        case ASCII.cr:
            state.line = .cr
        case ASCII.lf:
            state.summary.bareLineFeeds += 1
            endLine(crlf: false, &state, &output)
        default:
            state.line = .inLine
            emit(byte, &state, &output)
            countLineOctet(&state)
        }
    }

    /// Counts one octet of the current line; a line of more than limit-2 octets is long once.
    func countLineOctet(_ state: inout DataState) {
        state.lineLength += 1
        if state.lineLength == options.textLineLimit - 1 { state.summary.longLines += 1 }
    }

    func endLine(crlf: Bool, _ state: inout DataState, _ output: inout [UInt8]) {
        if crlf || options.bareLineFeeds == .normalize { emit(ASCII.cr, &state, &output) }
        emit(ASCII.lf, &state, &output)
        state.line = .lineStart
        state.lineStartFollowsCRLF = crlf
        state.lineLength = 0
    }

    /// Counts a content octet and hands it out unless the message is already too large.
    func emit(_ byte: UInt8, _ state: inout DataState, _ output: inout [UInt8]) {
        state.summary.size += 1
        if state.summary.size <= state.summary.maximumSize { output.append(byte) }
    }

    mutating func compact() {
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 64 * 1024)
            scanIndex = 0
            readIndex = 0
        } else if readIndex >= 16 * 1024 && readIndex * 2 >= buffer.count {
            buffer.removeFirst(readIndex)
            scanIndex -= readIndex
            readIndex = 0
        }
    }
}
