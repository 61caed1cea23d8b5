import MailModel

/// Names and rules of the directory store, shared by `DirectorySource` and `DirectoryTarget`:
///
///     PATH/<address>/Maildir/                  a Maildir++ tree (see MaildirSource)
///     PATH/<address>/contacts/*.vcf            the address book "contacts"; subfolders are further books
///     PATH/<address>/calendars/<name>/*.ics
///     PATH/<address>/sieve/<name>.sieve        with .dovecot.sieve -> sieve/<name>.sieve for the active one
///     PATH/<address>/vacation.json             optional VacationReply
enum DirectoryLayout {
    static let maildir = "Maildir"
    static let contacts = "contacts"
    /// The top `contacts/` folder is the address book of this name.
    static let topAddressBook = "contacts"
    static let calendars = "calendars"
    static let sieve = "sieve"
    static let activeSieveLink = ".dovecot.sieve"
    static let vacation = "vacation.json"
    /// Which items a `DirectoryTarget` has committed (see `DirectoryUserTarget`).
    static let journal = ".mailferry-import"
    static let contactExtension = ".vcf"
    static let calendarExtension = ".ics"
    static let sieveExtension = ".sieve"
    /// Contact and calendar files are read whole to be summarised; a card with photos is a few MB, and
    /// anything above this is carried unsummarised instead of being held in memory.
    static let summaryLimit = 64 << 20
    /// `vacation.json` is a few hundred bytes.
    static let settingsLimit = 1 << 20
    /// `NAME_MAX` of Linux file systems.
    static let maximumNameBytes = 255

    /// A user's address is a directory name: refuse what would leave `PATH` or cannot be a name.
    static func checkAddress(_ address: String, root: String) throws {
        if address.isEmpty || address == "." || address == ".." || address.contains("/") || address.contains("\0") {
            throw ConnectorError(
                location: root, message: "user address \"\(address)\" cannot be a directory name (empty, \".\", \"..\", \"/\" or NUL)")
        }
        if address.utf8.count > maximumNameBytes {
            throw ConnectorError(location: root, message: "user address is longer than \(maximumNameBytes) bytes")
        }
    }

    /// A file or folder name for an untrusted resource name: `/` becomes `%2F`, NUL `%00`, and a leading `.`
    /// `%2E` (so no name is hidden, `.` or `..`). `%` itself is left alone so that every name a directory store
    /// can hold (`a%20b.vcf`) comes back unchanged; the escapes are not undone on reading, so a name from
    /// another system that needed one keeps it. `requiredExtension` is added when missing so the source reads
    /// the file back.
    static func safeName(_ name: String, requiredExtension: String = "", location: String) throws -> String {
        var out = ""
        for (offset, character) in name.enumerated() {
            switch character {
            case "/": out += "%2F"
            case "\0": out += "%00"
            case "." where offset == 0: out += "%2E"
            default: out.append(character)
            }
        }
        if !requiredExtension.isEmpty, !out.lowercased().hasSuffix(requiredExtension) { out += requiredExtension }
        guard !out.isEmpty, out != requiredExtension else {
            throw ConnectorError(location: location, message: "an item or collection needs a name")
        }
        guard out.utf8.count <= maximumNameBytes else {
            throw ConnectorError(location: location, message: "name \"\(name)\" is longer than \(maximumNameBytes) bytes")
        }
        return out
    }
}
