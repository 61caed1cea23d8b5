/// Rewrites the addresses of renamed users inside a Sieve script (RFC 5228): the address of `redirect` and each
/// address of `vacation :addresses` (RFC 5230 section 4.5). The script is read with Sieve's own lexical rules
/// (section 8.1: `#` and `/* */` comments, quoted strings with `\` escapes, `text:` multi-line strings), so a word in
/// a comment or inside another string is never taken for a command. Only the quoted strings that change are
/// replaced; every other byte stays. An address in a `text:` multi-line string is left as it is (no script puts one
/// there in practice) and is not reported as rewritten.
public enum SieveAddressRewriter {
    /// The rewritten script and what changed, or nil when no address of a renamed user is named there.
    public static func rewrite(_ bytes: [UInt8], map: (String) -> String?) -> (bytes: [UInt8], changes: [AddressRewriter.Change])? {
        let tokens = Lexer(bytes: bytes).tokens()
        var replacements: [(range: Range<Int>, text: String, change: AddressRewriter.Change)] = []
        var taken: Set<Int> = []
        func consider(_ token: Token, property: String) {
            // A string two commands could claim (a damaged script with a `;` missing) is replaced once.
            guard case .quoted(let value) = token.kind, let mapped = map(value), mapped != value,
                taken.insert(token.range.lowerBound).inserted
            else { return }
            let line = bytes[..<token.range.lowerBound].reduce(1) { $1 == RFC5322.lf ? $0 + 1 : $0 }
            replacements.append((token.range, mapped, AddressRewriter.Change(property: property, from: value, to: mapped, lineNumber: line)))
        }
        var index = 0
        while index < tokens.count {
            defer { index += 1 }
            guard case .identifier(let name) = tokens[index].kind else { continue }
            // A command's arguments run to its `;` or its block.
            var end = index + 1
            while end < tokens.count, !tokens[end].isCommandEnd { end += 1 }
            let arguments = tokens[(index + 1)..<end]
            switch name.lowercased() {
            case "redirect":
                // Tagged arguments come first (`:copy`, and RFC 6009's `:notify "..."`): the address is the last string.
                if let last = arguments.last(where: \.isQuoted) { consider(last, property: "redirect") }
            case "vacation":
                guard let tag = arguments.firstIndex(where: { $0.isTag("addresses") }), tag + 1 < end else { break }
                if tokens[tag + 1].isListOpen {
                    var i = tag + 2
                    while i < end, !tokens[i].isListClose {
                        consider(tokens[i], property: "vacation :addresses")
                        i += 1
                    }
                } else {
                    consider(tokens[tag + 1], property: "vacation :addresses")
                }
            default:
                break
            }
        }
        guard !replacements.isEmpty else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var copied = 0
        for r in replacements.sorted(by: { $0.range.lowerBound < $1.range.lowerBound }) {
            output += bytes[copied..<r.range.lowerBound]
            output += quoted(r.text)
            copied = r.range.upperBound
        }
        output += bytes[copied...]
        return (output, replacements.map(\.change))
    }

    /// A quoted string holding `text`, with `"` and `\` escaped.
    static func quoted(_ text: String) -> [UInt8] {
        var out: [UInt8] = [0x22]
        for byte in text.utf8 {
            if byte == 0x22 || byte == 0x5C { out.append(0x5C) }
            out.append(byte)
        }
        out.append(0x22)
        return out
    }

    struct Token {
        enum Kind: Equatable {
            case identifier(String)
            case tag(String)
            /// A quoted string's decoded value.
            case quoted(String)
            case multiLine
            case number
            case special(UInt8)
        }
        var kind: Kind
        var range: Range<Int>

        var isQuoted: Bool { if case .quoted = kind { return true } else { return false } }
        var isCommandEnd: Bool { kind == .special(0x3B) || kind == .special(0x7B) || kind == .special(0x7D) }
        var isListOpen: Bool { kind == .special(0x5B) }
        var isListClose: Bool { kind == .special(0x5D) }
        func isTag(_ name: String) -> Bool {
            if case .tag(let t) = kind { return t.lowercased() == name }
            return false
        }
    }

    /// RFC 5228 section 8.1's tokens, comments and white space skipped. Unknown bytes are skipped one by one: the
    /// script has passed the source server's parser, and a rewrite must never fail on what it does not understand.
    struct Lexer {
        let bytes: [UInt8]

        func tokens() -> [Token] {
            var tokens: [Token] = []
            var i = 0
            let n = bytes.count
            func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A || b == 0x5F }
            func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
            while i < n {
                let b = bytes[i]
                let start = i
                switch b {
                case 0x23:  // # comment to the end of the line
                    while i < n, bytes[i] != RFC5322.lf { i += 1 }
                case 0x2F where i + 1 < n && bytes[i + 1] == 0x2A:  // /* bracket comment */
                    i += 2
                    while i + 1 < n, !(bytes[i] == 0x2A && bytes[i + 1] == 0x2F) { i += 1 }
                    i = min(n, i + 2)
                case 0x22:  // quoted string
                    var value: [UInt8] = []
                    i += 1
                    while i < n, bytes[i] != 0x22 {
                        if bytes[i] == 0x5C, i + 1 < n { i += 1 }
                        value.append(bytes[i])
                        i += 1
                    }
                    // A string cut off by the end of the script is no string to rewrite.
                    guard i < n else { break }
                    i += 1
                    tokens.append(Token(kind: .quoted(String(decoding: value, as: UTF8.self)), range: start..<i))
                case 0x3A where i + 1 < n && isLetter(bytes[i + 1]):  // :tag
                    i += 1
                    while i < n, isLetter(bytes[i]) || isDigit(bytes[i]) { i += 1 }
                    tokens.append(Token(kind: .tag(String(decoding: bytes[(start + 1)..<i], as: UTF8.self)), range: start..<i))
                case _ where isLetter(b):
                    while i < n, isLetter(bytes[i]) || isDigit(bytes[i]) { i += 1 }
                    let word = String(decoding: bytes[start..<i], as: UTF8.self)
                    if word.lowercased() == "text", i < n, bytes[i] == 0x3A {
                        i = endOfMultiLine(after: i + 1)
                        tokens.append(Token(kind: .multiLine, range: start..<i))
                    } else {
                        tokens.append(Token(kind: .identifier(word), range: start..<i))
                    }
                case _ where isDigit(b):
                    while i < n, isDigit(bytes[i]) || "KMGkmg".utf8.contains(bytes[i]) { i += 1 }
                    tokens.append(Token(kind: .number, range: start..<i))
                case 0x3B, 0x7B, 0x7D, 0x5B, 0x5D, 0x2C, 0x28, 0x29:
                    i += 1
                    tokens.append(Token(kind: .special(b), range: start..<i))
                default:
                    i += 1
                }
            }
            return tokens
        }

        /// After `text:`: the rest of that line, then lines up to one that is a lone `.`; returns the index after it.
        private func endOfMultiLine(after index: Int) -> Int {
            let n = bytes.count
            var i = index
            while i < n, bytes[i] != RFC5322.lf { i += 1 }
            i += 1
            while i < n {
                var end = i
                while end < n, bytes[end] != RFC5322.lf { end += 1 }
                var line = bytes[i..<end]
                if line.last == RFC5322.cr { line = line.dropLast() }
                i = min(n, end + 1)
                if line.elementsEqual([0x2E]) { return i }
            }
            return n
        }
    }
}
