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

    /// True for the item names above (not the `mailferry/` control entries).
    public static func isItemPath(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0] == "u", isNumber(parts[1]) else { return false }
        switch (parts[2], parts.count) {
        case ("m", 5): return isNumber(parts[3]) && isNumbered(parts[4], ext: ".eml")
        case ("c", 5): return isNumber(parts[3]) && isNumbered(parts[4], ext: ".vcf")
        case ("k", 5): return isNumber(parts[3]) && isNumbered(parts[4], ext: ".ics")
        case ("s", 4): return isNumbered(parts[3], ext: ".sieve")
        default: return false
        }
    }

    /// The item's number (the last path component without its extension), for an item path.
    public static func sequence(of path: String) -> Int? {
        guard let last = path.split(separator: "/").last, let dot = last.firstIndex(of: ".") else { return nil }
        return Int(last[..<dot])
    }

    private static func isNumbered(_ name: Substring, ext: String) -> Bool {
        name.hasSuffix(ext) && isNumber(name.dropLast(ext.count))
    }

    private static func isNumber(_ text: Substring) -> Bool {
        guard let first = text.utf8.first, first != UInt8(ascii: "0"), text.utf8.count <= 9 else { return false }
        return text.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
    }
}
