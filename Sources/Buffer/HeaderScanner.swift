/// Reads the header section of a message as DATA arrives, so the server can keep the Message-ID (stored in the
/// spool for loop avoidance) and look for its own loop marker. Pure: bytes in, a verdict out.
///
/// Two bounds, both in octets:
/// - `limit` (`BufferDefaults.headerScanLimit`): how much of the message start is kept in memory before the
///   spool writer opens. The result comes when the header section ended or this much was collected.
/// - `scanLimit` (`BufferDefaults.headerFieldScanLimit`): how far the header section is read in all. When it is
///   longer than `limit`, the host keeps feeding the scanner while the content streams to the spool, and reads
///   the late Message-ID and markers (`messageID`, `bufferedMarkers`) at the end of DATA. Only the field being
///   read is held then (at most `fieldLimit` octets), so memory stays bounded. A header section longer than
///   `scanLimit` is stored as it is, without what lies beyond.
struct HeaderScanner: Sendable {
    /// The outcome once the header section ended (or the limit or the end of the message was reached).
    struct Result: Hashable, Sendable {
        /// Every byte collected so far, to be written to the spool unchanged.
        var collected: [UInt8]
        /// The value of the first non-empty Message-ID field, trimmed and unfolded; nil if none (yet).
        var messageID: String?
        /// The values of every `X-MailFerry-Buffered` field (so far), trimmed.
        var bufferedMarkers: [String]
        /// False when `limit` was reached inside the header section: feed the rest of the content too, then
        /// read `messageID` and `bufferedMarkers` again at the end.
        var isHeaderComplete: Bool = true
    }

    /// The longest header field kept while it is read; longer fields are cut there. A Message-ID is far shorter
    /// (RFC 5322 section 2.1.1: lines of at most 998 octets; section 3.6.4: one msg-id).
    static let fieldLimit = 4096

    let limit: Int
    let scanLimit: Int
    private(set) var collected: [UInt8] = []
    /// The result was returned; later content is only scanned.
    private(set) var isComplete = false
    /// The header section was read to its end (or to `scanLimit`, or the message ended).
    private(set) var isHeaderScanned = false
    private(set) var messageID: String?
    private(set) var bufferedMarkers: [String] = []
    private var scanned = 0
    private var line: [UInt8] = []
    /// The field being read, folded lines joined by CRLF as they came.
    private var field: [UInt8]?

    init(limit: Int, scanLimit: Int = BufferDefaults.headerFieldScanLimit) {
        precondition(limit > 0)
        self.limit = limit
        self.scanLimit = max(limit, scanLimit)
    }

    /// Adds content; returns the result as soon as the header section is complete (a blank line) or `limit`
    /// octets were collected. Later calls return nil and only go on reading the header section.
    mutating func append(_ bytes: [UInt8]) -> Result? {
        scan(bytes)
        guard !isComplete else { return nil }
        collected.append(contentsOf: bytes)
        if isHeaderScanned || collected.count >= limit { return result() }
        return nil
    }

    /// The message ended: the last field counts as complete. Returns the result if it was not returned yet
    /// (a message that ended before its header section did, or before `limit`).
    mutating func finish() -> Result {
        if !isHeaderScanned {
            if !line.isEmpty { lineEnded(line) }
            line = []
            endField()
            isHeaderScanned = true
        }
        return result()
    }

    private mutating func result() -> Result {
        let result = Result(
            collected: collected, messageID: messageID, bufferedMarkers: bufferedMarkers, isHeaderComplete: isHeaderScanned)
        isComplete = true
        collected = []
        return result
    }

    // MARK: - Reading fields as lines arrive

    private mutating func scan(_ bytes: [UInt8]) {
        guard !isHeaderScanned else { return }
        for byte in bytes {
            guard scanned < scanLimit else {
                // Longer than anything real: stop reading; the field under way is incomplete and not used.
                isHeaderScanned = true
                return
            }
            scanned += 1
            if byte == 10 {
                if line.last == 13 { line.removeLast() }
                lineEnded(line)
                line.removeAll(keepingCapacity: true)
                if isHeaderScanned { return }
            } else if line.count < Self.fieldLimit {
                line.append(byte)
            }
        }
    }

    // field = field-name ":" unstructured CRLF, continued by lines starting with WSP (RFC 5322 2.2, 2.2.3);
    // the header section ends at the first empty line.
    private mutating func lineEnded(_ line: [UInt8]) {
        if line.isEmpty {
            endField()
            isHeaderScanned = true
        } else if line[0] == 32 || line[0] == 9 {
            if field != nil, field!.count < Self.fieldLimit {
                field! += [13, 10] + line.prefix(Self.fieldLimit - field!.count)
            }
        } else {
            endField()
            field = line
        }
    }

    private mutating func endField() {
        guard let bytes = field else { return }
        field = nil
        guard let (name, value) = Self.fields(bytes).first else { return }
        switch name {
        case "message-id" where messageID == nil && !value.isEmpty: messageID = value
        case "x-mailferry-buffered": bufferedMarkers.append(value)
        default: break
        }
    }

    // field = field-name ":" unstructured CRLF, continued by lines starting with WSP (RFC 5322 2.2, 2.2.3)
    static func fields(_ header: [UInt8]) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        let text = String(decoding: header, as: UTF8.self)
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
            if let first = line.first, first == " " || first == "\t" {
                guard !result.isEmpty else { continue }
                result[result.count - 1].value += " " + line.trimmingWhitespace()
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingWhitespace().lowercased()
            result.append((name, line[line.index(after: colon)...].trimmingWhitespace()))
        }
        return result.map { ($0.name, $0.value.trimmingWhitespace()) }
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !isSpace($0) }) else { return "" }
        let end = lastIndex(where: { !isSpace($0) })!
        return String(self[start...end])
    }
}
