/// The line layer shared by vCard (RFC 6350) and iCalendar (RFC 5545): unfolding and splitting content
/// lines into group, name, parameters and value.
public enum ContentLines {
    /// One logical line before parsing: its bytes with folds removed, where it starts, what it spans.
    public struct Unfolded: Hashable, Sendable {
        public var bytes: [UInt8]
        public var lineNumber: Int
        public var byteRange: Range<Int>
    }

    /// Joins folded lines. A line break (CRLF, or a bare LF as files in the wild have) followed by one
    /// space or tab is removed together with that one white space character; empty lines are dropped.
    ///
    ///     unfolding: remove CRLF immediately followed by a single WSP   ; RFC 6350 3.2, RFC 5545 3.1
    public static func unfold(_ bytes: [UInt8]) -> [Unfolded] {
        var result: [Unfolded] = []
        var current: [UInt8] = []
        var currentStart = 0
        var currentLine = 1
        var physicalLine = 1
        var index = 0
        func finish(at end: Int) {
            if !current.isEmpty {
                result.append(Unfolded(bytes: current, lineNumber: currentLine, byteRange: currentStart..<end))
            }
            current = []
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == RFC5322.lf || (byte == RFC5322.cr && index + 1 < bytes.count && bytes[index + 1] == RFC5322.lf) {
                let breakLength = byte == RFC5322.cr ? 2 : 1
                let next = index + breakLength
                physicalLine += 1
                if next < bytes.count, bytes[next] == RFC5322.space || bytes[next] == RFC5322.tab, !current.isEmpty {
                    index = next + 1  // A fold: drop the break and the one white space character.
                    continue
                }
                finish(at: next)
                index = next
                currentStart = next
                currentLine = physicalLine
                continue
            }
            if current.isEmpty {
                currentStart = index
                currentLine = physicalLine
            }
            current.append(byte)
            index += 1
        }
        finish(at: bytes.count)
        return result
    }

    /// Unfolds and parses every line; lines without a colon are returned in `malformed` by line number.
    public static func parse(_ bytes: [UInt8]) -> (lines: [ContentLine], malformed: [Int]) {
        var lines: [ContentLine] = []
        var malformed: [Int] = []
        for unfolded in unfold(bytes) {
            if let line = parseLine(unfolded) { lines.append(line) } else { malformed.append(unfolded.lineNumber) }
        }
        return (lines, malformed)
    }

    ///     contentline = [group "."] name *(";" param) ":" value CRLF        ; RFC 6350 section 3.3
    ///     param       = param-name "=" param-value *("," param-value)
    ///     param-value = *SAFE-CHAR / DQUOTE *QSAFE-CHAR DQUOTE
    ///     contentline = name *(";" param ) ":" value CRLF                  ; RFC 5545 section 3.1
    public static func parseLine(_ line: Unfolded) -> ContentLine? {
        let text = RFC5322.text(line.bytes)
        let scalars = Array(text.unicodeScalars)
        var index = 0
        func isNameScalar(_ s: Unicode.Scalar) -> Bool {
            s.properties.isAlphabetic && s.isASCII || ("0"..."9").contains(s) || s == "-" || s == "_" || s == "/"
        }
        func take(while predicate: (Unicode.Scalar) -> Bool) -> String {
            let start = index
            while index < scalars.count, predicate(scalars[index]) { index += 1 }
            return String(String.UnicodeScalarView(scalars[start..<index]))
        }
        var name = take(while: isNameScalar)
        var group: String?
        if index < scalars.count, scalars[index] == "." {
            index += 1
            group = name
            name = take(while: isNameScalar)
        }
        guard !name.isEmpty else { return nil }
        var parameters: [ContentLineParameter] = []
        while index < scalars.count, scalars[index] == ";" {
            index += 1
            let parameterName = take(while: { $0 != "=" && $0 != ";" && $0 != ":" })
            var values: [String] = []
            if index < scalars.count, scalars[index] == "=" {
                repeat {
                    index += 1
                    if index < scalars.count, scalars[index] == "\"" {
                        index += 1
                        values.append(take(while: { $0 != "\"" }))
                        guard index < scalars.count else { return nil }  // an unclosed quote
                        index += 1
                    } else {
                        values.append(take(while: { $0 != "," && $0 != ";" && $0 != ":" }))
                    }
                } while index < scalars.count && scalars[index] == ","
            }
            parameters.append(ContentLineParameter(name: parameterName.uppercased(), values: values))
        }
        guard index < scalars.count, scalars[index] == ":" else { return nil }
        index += 1
        return ContentLine(
            group: group, name: name.uppercased(), parameters: parameters,
            value: String(String.UnicodeScalarView(scalars[index...])), lineNumber: line.lineNumber,
            byteRange: line.byteRange)
    }

    /// Undoes TEXT escaping: `\\`, `\;`, `\,` and `\n` or `\N` (a line break). Any other backslash is
    /// kept as written, as RFC 6350 section 3.4 asks readers to be lenient.
    ///
    ///     ESCAPED-CHAR = ("\\" / "\;" / "\," / "\N" / "\n")   ; RFC 5545 section 3.3.11
    public static func unescapeText(_ value: String) -> String {
        var result = ""
        var escaping = false
        for character in value {
            if escaping {
                switch character {
                case "n", "N": result.append("\n")
                case "\\", ";", ",": result.append(character)
                default:
                    result.append("\\")
                    result.append(character)
                }
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                result.append(character)
            }
        }
        if escaping { result.append("\\") }
        return result
    }
}
