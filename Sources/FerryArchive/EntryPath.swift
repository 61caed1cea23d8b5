import Foundation
import MailModel

/// The synthetic names entries have inside the tar. They never carry names from the source (those
/// live in the manifest), so extracting an archive with plain tar cannot write outside its folder,
/// and a reader refuses any name not of these forms.
///
///     u/<user>/m/<folder>/<n>.eml        a message
///     u/<user>/c/<book>/<n>.vcf          a contact resource
///     u/<user>/k/<calendar>/<n>.ics      a calendar resource (events, tasks)
///     u/<user>/s/<n>.sieve               a Sieve script
///     mailferry/manifest.jsonl           the manifest
///     mailferry/statement.json           what the signer signs: the manifest's size and hash
///     mailferry/statement.sig            the Ed25519 signature over statement.json
///
/// Numbers are decimal without leading zeros, from 1.
public enum EntryPath {
    public static let manifest = "mailferry/manifest.jsonl"
    public static let statement = "mailferry/statement.json"
    public static let signature = "mailferry/statement.sig"

    /// Numbers stay below this so that names stay short and parse without overflow.
    static let maximumNumber = 999_999_999

    public static func message(user: Int, folder: Int, sequence: Int) -> String { "u/\(user)/m/\(folder)/\(sequence).eml" }
    public static func contact(user: Int, book: Int, sequence: Int) -> String { "u/\(user)/c/\(book)/\(sequence).vcf" }
    public static func calendarItem(user: Int, calendar: Int, sequence: Int) -> String { "u/\(user)/k/\(calendar)/\(sequence).ics" }
    public static func sieve(user: Int, sequence: Int) -> String { "u/\(user)/s/\(sequence).sieve" }

    /// What an item name says: its user, kind, container (none for a Sieve script) and number.
    public struct ItemName: Equatable, Sendable {
        public var user: Int
        public var kind: ItemKind
        public var container: Int?
        public var sequence: Int
    }

    /// True for the item names above (not the `mailferry/` control entries).
    public static func isItemPath(_ path: String) -> Bool { item(path) != nil }

    /// The parts of an item name, or nil for anything that is not exactly one of the forms above. Read from the
    /// name's bytes without making strings: every manifest entry goes through this on every read.
    public static func item(_ path: String) -> ItemName? {
        var path = path
        return path.withUTF8 { parse($0) }
    }

    private static func parse(_ b: UnsafeBufferPointer<UInt8>) -> ItemName? {
        var i = 0
        /// A number without leading zeros, of at most 9 digits, ended by `terminator`, which is passed.
        func number(endedBy terminator: UInt8) -> Int? {
            let start = i
            var value = 0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39, i - start < 10 {
                value = value * 10 + Int(b[i] - 0x30)
                i += 1
            }
            guard i > start, i - start <= 9, b[start] != 0x30, i < b.count, b[i] == terminator else { return nil }
            i += 1
            return value
        }
        /// The rest of the name is exactly `text`.
        func rest(is text: StaticString) -> Bool {
            b.count - i == text.utf8CodeUnitCount && memcmp(b.baseAddress! + i, text.utf8Start, b.count - i) == 0
        }
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        guard b.count >= 2, b[0] == UInt8(ascii: "u"), b[1] == slash else { return nil }
        i = 2
        guard let user = number(endedBy: slash), i + 1 < b.count, b[i + 1] == slash else { return nil }
        let letter = b[i]
        i += 2
        if letter == UInt8(ascii: "s") {
            guard let sequence = number(endedBy: dot), rest(is: "sieve") else { return nil }
            return ItemName(user: user, kind: .sieveScript, container: nil, sequence: sequence)
        }
        let kind: ItemKind
        let ext: StaticString
        switch letter {
        case UInt8(ascii: "m"): (kind, ext) = (.message, "eml")
        case UInt8(ascii: "c"): (kind, ext) = (.contact, "vcf")
        case UInt8(ascii: "k"): (kind, ext) = (.calendarItem, "ics")
        default: return nil
        }
        guard let container = number(endedBy: slash), let sequence = number(endedBy: dot), rest(is: ext) else { return nil }
        return ItemName(user: user, kind: kind, container: container, sequence: sequence)
    }
}
