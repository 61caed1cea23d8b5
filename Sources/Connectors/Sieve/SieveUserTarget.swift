import IMAPClient
import MailModel
import SystemLayer

/// One user's side of a `SieveTarget`.
///
/// Each script is read whole (scripts are small; the ManageSieve limit bounds them), checked against the manifest,
/// then offered to the server with CHECKSCRIPT: a script the server cannot run is a bad item with the server's
/// reason, and is not stored. Otherwise PUTSCRIPT stores it, replacing a script of that name in one step, and the
/// archive's active script is made active with SETACTIVE once it is stored.
///
/// Exactly once: a script name is unique on the server and PUTSCRIPT is atomic, so no script can arrive twice. A
/// script already there with the same bytes (SHA-256 of GETSCRIPT's answer, read for names LISTSCRIPTS shows) is not
/// written again, so a killed import run again, or a repeated one, rewrites nothing it finished. A script there with
/// other bytes under the same name is replaced, with a notice (the archive's version is the one being migrated).
final class SieveUserTarget: UserMailboxTarget {
    let target: SieveTarget
    let user: String
    let connection: ManageSieveConnection
    /// The scripts on the server by name, with whether each is active; kept up to date as scripts are written.
    var present: [String: Bool]
    let placements = PlacementLog()
    private(set) var badItems: [BadItem] = []

    var heldKinds: Set<ItemKind> { [.sieveScript] }

    /// Where scripts are filed in placements and bad items (a ManageSieve server has no folders).
    static let place = "sieve"

    init(target: SieveTarget, user: String) throws {
        self.target = target
        self.user = user
        connection = try SieveSession.open(target.access, user: user)
        present = Dictionary(try connection.listScripts().map { ($0.name, $0.active) }, uniquingKeysWith: { a, b in a || b })
    }

    deinit { connection.logout() }

    var location: String { "\(SieveSession.name(target.access)) \(user)" }

    // MARK: What a ManageSieve server does not hold

    private func refusal(_ what: String) -> ConnectorError {
        ConnectorError(
            location: location,
            message: "a ManageSieve server holds Sieve scripts only, not \(what); import mail into imap(s)://, maildir: or dir:, and contacts and calendars into dir:")
    }

    func folder(_ folder: FolderInfo) throws -> Int { throw refusal("mail folders (\(folder.path.joined(separator: "/")))") }
    func addressBook(_ book: AddressBookInfo) throws -> Int { throw refusal("address books") }
    func calendar(_ calendar: CalendarInfo) throws -> Int { throw refusal("calendars") }

    func writeMessage(
        _ info: MessageInfo, inFolder folder: Int, key: ItemKey, body: any ItemBody, check: () throws -> Void
    ) throws -> Bool { throw refusal("messages") }

    func writeContact(
        _ info: ContactInfo, inAddressBook book: Int, key: ItemKey, body: any ItemBody, check: () throws -> Void
    ) throws -> Bool { throw refusal("contacts") }

    func writeCalendarItem(
        _ info: CalendarItemInfo, inCalendar calendar: Int, key: ItemKey, body: any ItemBody,
        check: () throws -> Void
    ) throws -> Bool { throw refusal("calendar items") }

    // MARK: Scripts

    func writeSieveScript(_ info: SieveScriptInfo, key: ItemKey, body: any ItemBody, check: () throws -> Void)
        throws -> Bool
    {
        guard key.size <= Int64(connection.limits.maxLiteralBytes) else {
            try refuse(key, "\(key.size) bytes, more than the \(connection.limits.maxLiteralBytes) this program sends as one script")
            return false
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(key.size))
        try body.stream { bytes.append(contentsOf: $0) }
        // Nothing reaches the server before the bytes matched the manifest.
        try check()
        let written: Bool
        if present[info.name] != nil, SHA256.hex(try connection.getScript(info.name)) == key.sha256 {
            written = false
        } else {
            switch try connection.checkScript(bytes) {
            case .refused(let reason, let code):
                try refuse(key, "CHECKSCRIPT: " + (code.map { "[\($0)] " } ?? "") + reason)
                return false
            case .accepted:
                break
            }
            switch try connection.putScript(info.name, bytes) {
            case .refused(let reason, let code):
                try refuse(key, "PUTSCRIPT: " + (code.map { "[\($0)] " } ?? "") + reason)
                return false
            case .accepted:
                break
            }
            if present[info.name] != nil {
                target.onNotice?("\(location): replaced script \(info.name), which held other bytes on the server")
            }
            present[info.name] = present[info.name] ?? false
            written = true
        }
        if info.active && present[info.name] != true {
            try connection.setActive(info.name)
            for name in present.keys { present[name] = name == info.name }
        }
        try placements.append(ItemPlacement(entry: key.entryPath, guid: nil, folder: Self.place, uidValidity: nil, uid: nil, file: info.name))
        return written
    }

    private func refuse(_ key: ItemKey, _ reason: String) throws {
        let bad = BadItem(entry: key.entryPath, folder: Self.place, reason: reason)
        badItems.append(bad)
        try target.countBadItem(bad, user: user)
    }

    /// Everything is stored once the server answered OK; vacation settings have no place here and are named.
    func finish(settings: UserSettings) throws {
        if settings.vacation != nil {
            target.onNotice?("\(location): the archive's vacation setting is not written (a ManageSieve target takes scripts only)")
        }
    }
}
