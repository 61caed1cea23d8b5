import TOMLKit

/// The one way the buffer turns configuration text into a TOML table: TOMLKit (toml++ 3.4.0) parses it, after one
/// check of our own. toml++ asserts, rather than reports, that a table header's `[` or `[[` is followed by a key:
/// `[` then a newline, `!` or `=` aborts the whole process (found by `Fuzz/run.sh 600 toml`; the mirror has no later
/// TOMLKit). So such a header is found first and reported like any other syntax error.
enum TOMLText {
    static func parse(_ text: String, path: String) throws -> TOMLTable {
        if let (line, column) = headerWithoutName(in: text) {
            throw ConfigurationError(
                path: path, message: "line \(line): a table header needs a name after its '[' (column \(column)), as in [smtp]")
        }
        do {
            return try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(path: path, message: "line \(error.source.begin.line): \(error.description)")
        }
    }

    /// Where a table header (a `[` first on its line, outside strings, comments and values) is not followed by a
    /// bare key character or a quote, after spaces and tabs; nil when every header starts a name.
    static func headerWithoutName(in text: String) -> (line: Int, column: Int)? {
        let bytes = Array(text.utf8)
        var i = 0
        var line = 1
        var lineStart = 0
        var onlySpaceSoFar = true  // nothing but spaces and tabs since the line began
        var depth = 0  // open arrays and inline tables of a value
        func at(_ k: Int) -> UInt8? { k < bytes.count ? bytes[k] : nil }
        func newline() {
            line += 1
            lineStart = i + 1
        }
        // Skips a string whose opening quote is at `i`; leaves `i` on its last byte.
        func skipString(_ quote: UInt8) {
            let multiline = at(i + 1) == quote && at(i + 2) == quote
            i += multiline ? 3 : 1
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\\") && quote == UInt8(ascii: "\"") {
                    // An escape: the next byte is not a closing quote (a line-ending backslash still ends a line).
                    i += 1
                    if at(i) == UInt8(ascii: "\n") { newline() }
                    i += 1
                    continue
                }
                if b == UInt8(ascii: "\n") {
                    if !multiline { newline(); return }  // unterminated: toml++ reports it
                    newline()
                } else if b == quote && (!multiline || (at(i + 1) == quote && at(i + 2) == quote)) {
                    if multiline {
                        i += 2
                        while at(i + 1) == quote { i += 1 }  // up to two quotes may end the content
                    }
                    return
                }
                i += 1
            }
        }
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "\n"):
                newline()
                onlySpaceSoFar = true
                i += 1
                continue
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                i += 1
                continue
            case UInt8(ascii: "#"):
                while i < bytes.count && bytes[i] != UInt8(ascii: "\n") { i += 1 }
                continue
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                skipString(b)
            case UInt8(ascii: "["):
                if onlySpaceSoFar && depth == 0 {
                    var k = i + 1
                    if at(k) == UInt8(ascii: "[") { k += 1 }
                    while at(k) == UInt8(ascii: " ") || at(k) == UInt8(ascii: "\t") { k += 1 }
                    if let c = at(k), !isBareKeyCharacter(c), c != UInt8(ascii: "\""), c != UInt8(ascii: "'") {
                        return (line, k - lineStart + 1)
                    }
                } else {
                    depth += 1
                }
            case UInt8(ascii: "{"):
                depth += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth = max(0, depth - 1)
            default:
                break
            }
            onlySpaceSoFar = false
            i += 1
        }
        return nil
    }

    static func isBareKeyCharacter(_ c: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
    }
}
