/// The IMAP system flags (RFC 9051 section 2.3.2) a message can carry.
///
/// `\Recent` is session state on the server and is not carried.
public struct SystemFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let seen = SystemFlags(rawValue: 1 << 0)
    public static let answered = SystemFlags(rawValue: 1 << 1)
    public static let flagged = SystemFlags(rawValue: 1 << 2)
    public static let deleted = SystemFlags(rawValue: 1 << 3)
    public static let draft = SystemFlags(rawValue: 1 << 4)

    /// Every flag with its IMAP name, in the order names are written.
    public static let named: [(SystemFlags, String)] = [
        (.seen, "\\Seen"), (.answered, "\\Answered"), (.flagged, "\\Flagged"),
        (.deleted, "\\Deleted"), (.draft, "\\Draft"),
    ]

    /// IMAP names, for example `["\\Seen", "\\Flagged"]`.
    public var names: [String] { Self.named.filter { contains($0.0) }.map(\.1) }

    /// Parses IMAP names case-insensitively; unknown names are returned in `unknown`.
    public init(names: [String], unknown: inout [String]) {
        var flags = SystemFlags()
        for name in names {
            if let match = Self.named.first(where: { $0.1.lowercased() == name.lowercased() }) {
                flags.insert(match.0)
            } else {
                unknown.append(name)
            }
        }
        self = flags
    }
}

extension SystemFlags: Codable {
    public init(from decoder: any Decoder) throws {
        let names = try decoder.singleValueContainer().decode([String].self)
        var unknown: [String] = []
        self.init(names: names, unknown: &unknown)
        if let bad = unknown.first {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "unknown system flag \(bad)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(names)
    }
}
