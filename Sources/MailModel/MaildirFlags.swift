/// The flags of one Maildir message as its file name carries them: the info part after `:2,`
/// (<https://cr.yp.to/proto/maildir.html>) with Dovecot's lowercase keyword letters.
///
/// Uppercase letters: D Draft, F Flagged, P Passed (forwarded), R Replied (`\Answered`), S Seen, T Trashed
/// (`\Deleted`). P has no IMAP flag: Dovecot 2.3 shows none for it and keeps `$Forwarded` as a keyword letter like
/// any other keyword, so MailFerry carries P as itself (`MessageInfo.maildirPassed`).
/// Lowercase `a`...`z` are indexes into the folder's `dovecot-keywords` file (see `DovecotKeywords`).
public struct MaildirFlags: Hashable, Sendable {
    public var system: SystemFlags
    /// The P letter.
    public var passed: Bool
    /// Dovecot keyword letters, `a`...`z`.
    public var keywordLetters: Set<Character>
    /// Other characters found in the info part (unknown uppercase letters, digits), kept so that a reader can
    /// warn about them; `suffix` does not write them.
    public var otherLetters: [Character]

    /// Separates the unique name from the info part; Maildir's `:`, version 2 ("experimental semantics" 1 is unused).
    public static let infoMarker = ":2,"

    static let letters: [(Character, SystemFlags)] = [
        ("D", .draft), ("F", .flagged), ("R", .answered), ("S", .seen), ("T", .deleted),
    ]

    public init(
        system: SystemFlags = [], passed: Bool = false, keywordLetters: Set<Character> = [],
        otherLetters: [Character] = []
    ) {
        self.system = system
        self.passed = passed
        self.keywordLetters = keywordLetters
        self.otherLetters = otherLetters
    }

    /// Parses the letters after `:2,`.
    public init(info: Substring) {
        self.init()
        for letter in info {
            if let match = Self.letters.first(where: { $0.0 == letter }) {
                system.insert(match.1)
            } else if letter == "P" {
                passed = true
            } else if let ascii = letter.asciiValue, ascii >= UInt8(ascii: "a"), ascii <= UInt8(ascii: "z") {
                keywordLetters.insert(letter)
            } else {
                otherLetters.append(letter)
            }
        }
    }

    /// Splits a file name into its base (unique) name and flags. `hasInfo` is false for a name with no `:2,`
    /// part (a message in `new/`, or one a broken delivery left in `cur/`); its flags are then empty.
    public static func parse(fileName: String) -> (baseName: String, flags: MaildirFlags, hasInfo: Bool) {
        // The last `:2,` wins: the unique part may itself contain `:` on some writers, the info part never does.
        let bytes = Array(fileName.utf8)
        let marker = Array(infoMarker.utf8)
        var start = bytes.count - marker.count
        while start >= 0 {
            if bytes[start..<start + marker.count].elementsEqual(marker) {
                let base = String(decoding: bytes[..<start], as: UTF8.self)
                let info = String(decoding: bytes[(start + marker.count)...], as: UTF8.self)
                return (base, MaildirFlags(info: Substring(info)), true)
            }
            start -= 1
        }
        return (fileName, MaildirFlags(), false)
    }

    /// `:2,` followed by the letters in ASCII order, as the Maildir specification asks.
    public var suffix: String {
        var chosen: [Character] = Self.letters.filter { system.contains($0.1) }.map(\.0)
        if passed { chosen.append("P") }
        chosen.append(contentsOf: keywordLetters)
        return Self.infoMarker + String(chosen.sorted { $0.unicodeScalars.first!.value < $1.unicodeScalars.first!.value })
    }

    /// The file name for `baseName` with these flags.
    public func fileName(baseName: String) -> String { baseName + suffix }
}
