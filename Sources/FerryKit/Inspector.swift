import FerryArchive
import Foundation
import MailModel

/// `inspect`: what is inside an archive, read from the seek table and the manifest only.
/// A trusted key is optional; the result says whether the signature was checked.
public final class Inspector {
    public let reader: ArchiveReader
    public let signatureChecked: Bool
    private var loaded: VerifiedManifest?

    public init(archivePath: String, trustedKeyPath: String?, identityPaths: [String] = []) throws {
        reader = try ArchiveReader(path: archivePath, identities: AgeKeyFile.identities(files: identityPaths))
        if let trustedKeyPath {
            try reader.verifySignature(with: PublicKey(pemFile: trustedKeyPath))
        }
        signatureChecked = reader.signatureChecked
    }

    /// The whole manifest, copied and checked against the statement's hash (for listings and items); with a
    /// checked signature, its stated counts are recounted from its entry lines too, before anything is shown.
    public var manifest: VerifiedManifest {
        get throws {
            if let loaded { return loaded }
            let m = try reader.loadManifest()
            if signatureChecked { try m.checkCounts() }
            loaded = m
            return m
        }
    }

    public struct Summary: Codable, Sendable {
        public var archive: String
        public var archiveID: String
        public var format: String
        public var version: Int
        public var created: String
        public var station: String
        public var sequence: Int
        public var deltaOf: String?
        public var tool: String
        public var signerKeyID: String
        public var signatureChecked: Bool
        public var manifestSHA256: String
        /// Whether the manifest was read whole and its hash compared with the statement. A summary
        /// without a trusted key reads only the manifest's head, which is all it shows.
        public var manifestChecked: Bool
        public var fileSize: Int64
        /// Whether the file is encrypted (age, format-spec 13.2); `fileSize` is then the encrypted file's.
        public var encrypted: Bool
        public var frames: Int
        public var totals: Counts
        public var users: [UserSummary]
        /// A delta's change lines by kind (`keep`, `delete`, `renameFolder`, `deleteFolder`); read only when the
        /// manifest was checked (with a trusted key), else just their number from the archive record.
        public var changeCount: Int?
        public var changes: [String: Int]?
        /// For a volume of a volume set (format-spec 13.1): its set and place in it.
        public var volume: VolumeMembership?
    }

    public struct UserSummary: Codable, Sendable {
        public var address: String
        /// Where the user goes at the target, when the migration renames it.
        public var targetAddress: String?
        public var counts: Counts
        public var containers: [ContainerSummary]
    }

    public struct ContainerSummary: Codable, Sendable {
        public var kind: String
        public var name: String
        public var items: Int
        public var bytes: Int64
        public var specialUse: String?
        public var subscribed: Bool?
    }

    public func summary() throws -> Summary {
        // With a trusted key the whole manifest is checked; without one, nothing is proven anyway and
        // the head alone gives the summary, so inspect stays fast on archives of any size.
        let head: ManifestHead
        if signatureChecked || loaded != nil {
            let m = try manifest
            head = ManifestHead(header: m.header, users: m.users, containers: m.containers)
        } else {
            head = try reader.manifestHead()
        }
        let h = head.header
        let users = head.users.map { u in
            UserSummary(address: u.address, targetAddress: u.targetAddress, counts: u.counts, containers: head.containers.filter { $0.user == u.user }.map {
                ContainerSummary(kind: $0.kind.rawValue, name: $0.displayName, items: $0.items, bytes: $0.bytes, specialUse: $0.folder?.specialUse, subscribed: $0.folder?.subscribed)
            })
        }
        let size = reader.fileSize
        return Summary(
            archive: reader.path, archiveID: h.archiveID, format: h.format, version: h.version, created: h.created,
            station: h.station, sequence: h.sequence, deltaOf: h.deltaOf, tool: h.tool, signerKeyID: h.signerKeyID,
            signatureChecked: signatureChecked, manifestSHA256: try reader.statementWithoutSignature().manifest.sha256,
            manifestChecked: loaded != nil, fileSize: size, encrypted: reader.isEncrypted, frames: reader.seekTable.frames.count, totals: h.totals, users: users,
            changeCount: h.changeCount, changes: try changeKinds(), volume: try reader.statementWithoutSignature().volume)
    }

    private func changeKinds() throws -> [String: Int]? {
        guard let m = loaded, m.isDelta else { return nil }
        var kinds: [String: Int] = [:]
        let changes = m.changes()
        while let c = try changes.next() { kinds[c.op.rawValue, default: 0] += 1 }
        return kinds
    }

    /// One line of `--list`.
    public struct ListedItem: Codable, Sendable {
        public var entry: String
        public var user: String
        public var kind: ItemKind
        public var container: String
        public var size: Int64
        public var sha256: String
        public var flags: [String]?
        public var keywords: [String]?
        public var date: String?
        public var title: String
        /// Whether the archive's signature was checked against a trusted key; without it nothing listed is
        /// verified.
        public var signatureChecked: Bool
    }

    public func list(_ visit: (ListedItem) throws -> Void) throws {
        let manifest = try self.manifest
        let entries = manifest.entries()
        while let e = try entries.next() {
            try visit(try listed(e))
        }
    }

    func listed(_ e: EntryRecord) throws -> ListedItem {
        let manifest = try self.manifest
        return ListedItem(
            entry: e.path, user: manifest.users[e.user - 1].address, kind: e.kind, container: containerName(e), size: e.size,
            sha256: e.sha256, flags: e.message?.flags.names, keywords: e.message?.keywords, date: e.message?.internalDate.iso8601,
            title: e.title, signatureChecked: signatureChecked)
    }

    private func containerName(_ e: EntryRecord) -> String {
        guard let manifest = loaded else { return "?" }
        let kind: ContainerRecord.Kind
        switch e.kind {
        case .message: kind = .folder
        case .contact: kind = .addressBook
        case .calendarItem: kind = .calendar
        case .sieveScript: return "sieve"
        }
        return manifest.container(user: e.user, kind: kind, number: e.container ?? 0)?.displayName ?? "?"
    }

    /// Finds an item by entry path, or by the source's GUID, or by Message-ID (with or without <>).
    public func find(_ query: String) throws -> EntryRecord? {
        let entries = try manifest.entries()
        let bare = query.trimmingCharacters(in: CharacterSet(charactersIn: "<>"))
        while let e = try entries.next() {
            if e.path == query || e.message?.guid == query { return e }
            if let id = e.message?.messageID, id.trimmingCharacters(in: CharacterSet(charactersIn: "<> ")) == bare { return e }
        }
        return nil
    }

    public func metadata(_ e: EntryRecord) throws -> ListedItem { try listed(e) }

    /// The item's exact bytes, decoding only the frames it lies in, checked against the manifest.
    public func show(_ e: EntryRecord, consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        try reader.readEntry(e, consume: consume)
    }
}
