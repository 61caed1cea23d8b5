/// Collects the start of a message until its header section is complete, so the server can read the
/// Message-ID (kept in the spool for loop avoidance) and look for its own loop marker before any byte
/// reaches the spool. Pure: bytes in, a verdict out.
///
/// Only the first `limit` octets are examined (`BufferDefaults.headerScanLimit`); a header section longer
/// than that is stored as it is, without a Message-ID and without the loop check beyond the limit.
struct HeaderScanner: Sendable {
    /// The outcome once the header section ended (or the limit or the end of the message was reached).
    struct Result: Hashable, Sendable {
        /// Every byte collected so far, to be written to the spool unchanged.
        var collected: [UInt8]
        /// The value of the first Message-ID field, trimmed and unfolded; nil if none.
        var messageID: String?
        /// The values of every `X-MailFerry-Buffered` field, trimmed.
        var bufferedMarkers: [String]
    }

    let limit: Int
    private(set) var collected: [UInt8] = []
    private(set) var isComplete = false

    init(limit: Int) {
        precondition(limit > 0)
        self.limit = limit
    }

    /// Adds content; returns the result as soon as the header section is complete (a blank line) or the
    /// limit is passed. Later calls return nil: once complete, content goes straight to the spool.
    mutating func append(_ bytes: [UInt8]) -> Result? {
        guard !isComplete else { return nil }
        let searchFrom = max(0, collected.count - 3)
        collected.append(contentsOf: bytes)
        if Self.endOfHeaders(in: collected, from: searchFrom) != nil || collected.count >= limit {
            return finish()
        }
        return nil
    }

    /// The message ended before its header section did (or the host needs the verdict now).
    mutating func finish() -> Result {
        isComplete = true
        let end = Self.endOfHeaders(in: collected, from: 0) ?? min(collected.count, limit)
        let fields = Self.fields(Array(collected[..<end]))
        let result = Result(
            collected: collected,
            messageID: fields.first { $0.name == "message-id" }.map(\.value).flatMap { $0.isEmpty ? nil : $0 },
            bufferedMarkers: fields.filter { $0.name == "x-mailferry-buffered" }.map(\.value))
        collected = []
        return result
    }

    /// Index just past the CRLF that ends the last header line (before the blank line); a message that starts
    /// with a blank line has no header fields (0).
    static func endOfHeaders(in bytes: [UInt8], from start: Int) -> Int? {
        if bytes.count >= 2 && bytes[0] == 13 && bytes[1] == 10 { return 0 }
        guard bytes.count >= 4 else { return nil }
        var index = max(0, start)
        while index + 3 < bytes.count {
            if bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
                return index + 2
            }
            index += 1
        }
        return nil
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
