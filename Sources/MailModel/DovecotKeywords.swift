/// A Maildir folder's `dovecot-keywords` file: which IMAP keyword each lowercase letter of a file name's
/// info part stands for. Lines are `INDEX NAME`; index 0 is letter `a`, up to index 25, letter `z`.
/// Letters are per folder, so the same keyword may have different letters in different folders or trees.
public struct DovecotKeywords: Hashable, Sendable {
    /// A file name has only the 26 letters `a`...`z` for keywords; Dovecot keeps any further keyword in its
    /// index only, which a plain Maildir copy cannot carry.
    public static let maximumCount = 26
    /// The file's name inside a Maildir folder.
    public static let fileName = "dovecot-keywords"

    /// Index (letter - `a`) to name; nil for a gap.
    public private(set) var names: [String?]

    public init() { names = [] }

    /// Parses the file; lines it cannot use are reported in `problems` as `line N: …` and skipped.
    public static func parse(_ text: String) -> (keywords: DovecotKeywords, problems: [String]) {
        var keywords = DovecotKeywords()
        var problems: [String] = []
        for (number, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            if line.isEmpty { continue }
            guard let space = line.firstIndex(of: " "), let index = Int(line[..<space]) else {
                problems.append("line \(number + 1): expected \"INDEX NAME\"")
                continue
            }
            let name = String(line[line.index(after: space)...])
            guard (0..<maximumCount).contains(index) else {
                problems.append("line \(number + 1): index \(index) has no letter (only 0...25, a...z)")
                continue
            }
            guard isValidName(name) else {
                problems.append("line \(number + 1): \"\(name)\" is not a keyword name")
                continue
            }
            if keywords.names.count <= index { keywords.names += Array(repeating: nil, count: index + 1 - keywords.names.count) }
            if let earlier = keywords.names[index] {
                problems.append("line \(number + 1): index \(index) given twice (\"\(earlier)\", then \"\(name)\"); the first is kept")
                continue
            }
            keywords.names[index] = name
        }
        return (keywords, problems)
    }

    /// A keyword is an IMAP atom without `\` (RFC 9051 `flag-keyword`); the file needs at least no spaces,
    /// controls or line breaks.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix("\\")
            && name.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7f }
    }

    static func letter(at index: Int) -> Character { Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8(index))) }

    /// The keyword `letter` stands for, or nil when the file does not name it.
    public func name(forLetter letter: Character) -> String? {
        guard let ascii = letter.asciiValue, ascii >= UInt8(ascii: "a"), ascii <= UInt8(ascii: "z") else { return nil }
        let index = Int(ascii - UInt8(ascii: "a"))
        return index < names.count ? names[index] : nil
    }

    /// The letter of `name`: an exact match first, then one ignoring ASCII case (IMAP keywords are
    /// case-insensitive, RFC 9051 section 2.3.2).
    public func letter(forName name: String) -> Character? {
        if let index = names.firstIndex(where: { $0 == name }) { return Self.letter(at: index) }
        let lower = name.lowercased()
        if let index = names.firstIndex(where: { $0?.lowercased() == lower }) { return Self.letter(at: index) }
        return nil
    }

    /// The letter of `name`, giving it the letter after the last one in use when it has none. Gaps are not
    /// reused: messages may still carry a letter whose line was lost, and must not suddenly gain a keyword.
    /// Throws when the name cannot be written in the file or all 26 letters are taken; `origin` (the file's
    /// path) is named in the error.
    public mutating func assign(_ name: String, origin: String) throws(ConnectorError) -> Character {
        if let letter = letter(forName: name) { return letter }
        guard Self.isValidName(name) else {
            throw ConnectorError(location: origin, message: "keyword \"\(name)\" cannot be stored (empty, or has spaces or controls)")
        }
        guard names.count < Self.maximumCount else {
            throw ConnectorError(
                location: origin,
                message: "keyword \"\(name)\" needs a letter but all \(Self.maximumCount) (a...z) are taken")
        }
        names.append(name)
        return Self.letter(at: names.count - 1)
    }

    /// The file's text, one `INDEX NAME` line per named letter.
    public var fileText: String {
        var text = ""
        for (index, name) in names.enumerated() {
            if let name { text += "\(index) \(name)\n" }
        }
        return text
    }
}
