/// Message flags and keywords as mbox writers record them in the header, since the format has no
/// other place for them.
///
/// - `Status:` `R` read → `\Seen`; `O` (old, no longer new) has no IMAP flag.
/// - `X-Status:` `A` → `\Answered`, `F` → `\Flagged`, `T` → `\Draft`, `D` → `\Deleted` (mutt, Dovecot).
/// - `X-Keywords:` keywords separated by commas or spaces (Dovecot); `X-Mozilla-Keys:` (Thunderbird) likewise.
/// - `X-Mozilla-Status:` Thunderbird's hexadecimal bits: 0x1 read, 0x2 replied, 0x4 marked, 0x8 expunged.
public struct MboxStatus: Hashable, Sendable {
    public var flags: SystemFlags
    /// In the order found, without duplicates.
    public var keywords: [String]

    static let statusLetters: [Character: SystemFlags] = ["R": .seen]
    static let xStatusLetters: [Character: SystemFlags] = ["A": .answered, "F": .flagged, "T": .draft, "D": .deleted]
    static let mozillaBits: [(UInt32, SystemFlags)] = [(0x1, .seen), (0x2, .answered), (0x4, .flagged), (0x8, .deleted)]

    /// Reads the header section at the start of `header` (which may be the whole message).
    public init(header: some Collection<UInt8>) {
        var flags = SystemFlags()
        var keywords: [String] = []
        var seen: Set<String> = []
        for field in RFC5322.headerFields(in: Array(header)) {
            let value = field.text
            switch field.name.lowercased() {
            case "status":
                for letter in value { if let flag = Self.statusLetters[letter] { flags.insert(flag) } }
            case "x-status":
                for letter in value { if let flag = Self.xStatusLetters[letter] { flags.insert(flag) } }
            case "x-mozilla-status":
                if let bits = UInt32(value, radix: 16) {
                    for (bit, flag) in Self.mozillaBits where bits & bit != 0 { flags.insert(flag) }
                }
            case "x-keywords", "x-mozilla-keys":
                for keyword in value.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }) {
                    if seen.insert(String(keyword)).inserted { keywords.append(String(keyword)) }
                }
            default:
                continue
            }
        }
        self.flags = flags
        self.keywords = keywords
    }
}
