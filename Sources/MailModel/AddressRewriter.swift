/// Rewrites the addresses of renamed users inside vCard and iCalendar bytes: vCard `EMAIL` values (RFC 6350
/// section 6.4.2) and contact groups' `mailto:` `MEMBER`s (section 6.6.5), and iCalendar `ORGANIZER` and `ATTENDEE` cal-addresses (`mailto:`, RFC 5545 sections 3.8.4.1
/// and 3.8.4.3). Only the lines that change are rewritten (unfolded, the value replaced, folded again at 75
/// octets with the line break they had); every other byte stays as it was.
public enum AddressRewriter {
    public enum Format: Sendable {
        case vCard
        case iCalendar
    }

    public struct Change: Hashable, Sendable {
        public var property: String
        public var from: String
        public var to: String
        public var lineNumber: Int
        public init(property: String, from: String, to: String, lineNumber: Int) {
            self.property = property
            self.from = from
            self.to = to
            self.lineNumber = lineNumber
        }
    }

    /// The rewritten bytes and what changed, or nil when nothing names a mapped address. `map` returns the new
    /// address for an address, or nil to leave it.
    public static func rewrite(_ bytes: [UInt8], as format: Format, map: (String) -> String?) -> (bytes: [UInt8], changes: [Change])? {
        var output: [UInt8] = []
        var changes: [Change] = []
        var copied = 0
        for unfolded in ContentLines.unfold(bytes) {
            guard let line = ContentLines.parseLine(unfolded) else { continue }
            let properties: Set<String> = format == .vCard ? ["EMAIL", "MEMBER"] : ["ORGANIZER", "ATTENDEE"]
            guard properties.contains(line.name) else { continue }
            var value = line.value
            var scheme = ""
            // A cal-address, and a contact group's MEMBER, are URIs: only `mailto:` ones name an address (a MEMBER
            // may also be `urn:uuid:` of another card, which stays).
            if format == .iCalendar || line.name == "MEMBER" {
                guard value.lowercased().hasPrefix("mailto:") else { continue }
                scheme = String(value.prefix(7))
                value = String(value.dropFirst(7))
            }
            guard let mapped = map(value), mapped != value else { continue }
            let valueBytes = Array(line.value.utf8)
            // The parsed value is the tail of the unfolded line, after the colon.
            guard unfolded.bytes.count >= valueBytes.count,
                Array(unfolded.bytes.suffix(valueBytes.count)) == valueBytes
            else { continue }
            let newLine = Array(unfolded.bytes.dropLast(valueBytes.count)) + Array((scheme + mapped).utf8)
            let range = unfolded.byteRange
            let lineBreak: [UInt8] =
                range.upperBound >= 2 && bytes[range.upperBound - 2] == RFC5322.cr && bytes[range.upperBound - 1] == RFC5322.lf
                ? [RFC5322.cr, RFC5322.lf] : (range.upperBound >= 1 && bytes[range.upperBound - 1] == RFC5322.lf ? [RFC5322.lf] : [])
            output += bytes[copied..<range.lowerBound]
            output += fold(newLine, lineBreak: lineBreak.isEmpty ? [RFC5322.cr, RFC5322.lf] : lineBreak)
            if lineBreak.isEmpty { output.removeLast(2) }  // the last line had no break; it gets none
            copied = range.upperBound
            changes.append(Change(property: line.name, from: value, to: mapped, lineNumber: line.lineNumber))
        }
        guard !changes.isEmpty else { return nil }
        output += bytes[copied...]
        return (output, changes)
    }

    /// Folds a logical line into physical lines of at most 75 octets (RFC 5545 3.1, RFC 6350 3.2), never inside a
    /// UTF-8 sequence; each continuation starts with one space.
    static func fold(_ line: [UInt8], lineBreak: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var start = 0
        var limit = 75
        while line.count - start > limit {
            var end = start + limit
            while end > start + 1 && line[end] & 0xC0 == 0x80 { end -= 1 }  // not before a continuation byte
            out += line[start..<end]
            out += lineBreak
            out.append(RFC5322.space)
            start = end
            limit = 74  // the leading space counts
        }
        out += line[start...]
        out += lineBreak
        return out
    }
}
