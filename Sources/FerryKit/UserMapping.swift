import FerryArchive
import Foundation
import MailModel
import SystemLayer

/// Source addresses to target addresses (`c.smith@abc.com` to `c_smith@abc.com`). It travels in the archive, as
/// each user's `targetAddress` in the signed manifest, and the importer applies it to what names migrated users:
/// the mailbox each user is written into and the identifiers of folder ACLs. Message bytes are never rewritten.
public struct UserMapping: Sendable, Equatable {
    /// Lower-cased source address to target address.
    private var targets: [String: String] = [:]

    public init(_ pairs: [(source: String, target: String)] = []) {
        for (source, target) in pairs { targets[source.lowercased()] = target }
    }

    /// The mapping an archive carries: the header's renamed users and each user's target address.
    public init(manifest: VerifiedManifest) {
        let pairs = (manifest.header.renamedUsers ?? [:]).map { ($0.key, $0.value) }
        self.init(pairs + manifest.users.compactMap { u in u.targetAddress.map { (u.address, $0) } })
    }

    /// Source to target addresses of the users whose address changes, for the archive header.
    public var renamedPairs: [String: String] {
        targets.filter { $0.key != $0.value.lowercased() }
    }

    public var isEmpty: Bool { targets.isEmpty }

    /// The address at the target for a source address (itself when unmapped).
    public func target(for address: String) -> String { targets[address.lowercased()] ?? address }

    /// Source addresses (lower-cased) to target addresses, for the archive writer.
    public var byLowercasedSource: [String: String] { targets }

    /// The folder with ACL identifiers of migrated users rewritten, and a line per rewrite for the report.
    public func rewritingACL(of folder: FolderInfo, user: String) -> (FolderInfo, [String]) {
        var folder = folder
        var notes: [String] = []
        for index in folder.acl.indices {
            let identifier = folder.acl[index].identifier
            let mapped = target(for: identifier)
            guard mapped != identifier, identifier.contains("@") else { continue }
            folder.acl[index].identifier = mapped
            notes.append("\(user) folder \(folder.displayName): ACL identifier \(identifier) is \(mapped) at the target")
        }
        return (folder, notes)
    }
}

extension UserMapping {
    /// The new address for an address of a renamed user; nil when it stays.
    public func renamed(_ address: String) -> String? {
        let mapped = target(for: address)
        return mapped.lowercased() == address.lowercased() ? nil : mapped
    }

    /// A contact's, calendar item's or Sieve script's bytes with renamed users' addresses rewritten (vCard EMAIL and
    /// MEMBER, iCalendar ORGANIZER and ATTENDEE, Sieve `redirect` and `vacation :addresses`), with the report's
    /// lines; nil when nothing names a renamed user (and for messages, whose bytes are never rewritten).
    func rewriting(_ bytes: [UInt8], of record: EntryRecord) -> ([UInt8], RewrittenItem, [String])? {
        let found: (bytes: [UInt8], changes: [AddressRewriter.Change])?
        switch record.kind {
        case .contact: found = AddressRewriter.rewrite(bytes, as: .vCard, map: renamed)
        case .calendarItem: found = AddressRewriter.rewrite(bytes, as: .iCalendar, map: renamed)
        case .sieveScript: found = SieveAddressRewriter.rewrite(bytes, map: renamed)
        case .message: return nil
        }
        guard let (rewritten, changes) = found else { return nil }
        let item = RewrittenItem(
            entry: record.path, sha256: SHA256.hex(rewritten), size: Int64(rewritten.count), archivedSHA256: record.sha256)
        let notes = changes.map { "\(record.path) line \($0.lineNumber): \($0.property) \($0.from) is \($0.to) at the target" }
        return (rewritten, item, notes)
    }
}

extension UserRecord {
    /// The mailbox this user is written into at the target.
    public var targetMailbox: String { targetAddress ?? address }
}
