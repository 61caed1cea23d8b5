import Connectors
import FerryArchive
import Foundation
import MailModel
import Reporting
import SystemLayer

/// `import`: checks the signature, then streams the archive into the target, each item checked
/// against the manifest before it is committed; then reconciles and writes the report.
///
/// Targets recognise committed items by their `ItemKey`, so an import that was killed and is run again finishes
/// with exactly the archive's content; a finished one is in the ledger, which refuses it a second time unless
/// `reimport` (then only what the target lacks is written).
public struct Importer {
    public var archivePath: String
    public var trustedKeyPath: String
    /// Age identity files that open an encrypted archive.
    public var identityPaths: [String] = []
    public var target: ConnectorSet
    public var users: [String]
    public var quiet: Bool
    public var options: ConnectorOptions
    /// Users imported at once (`--jobs`); each job reads its users' part of the archive on its own.
    public var jobs: Int
    /// The station's record of accepted archives: refuses replays and deltas without their base or out of order,
    /// and records the archive once it is imported and reconciled. Nil checks and records nothing.
    public var ledger: ImportLedger?
    /// Import again the last archive the ledger lists as imported for its station (a repair: only what is missing or
    /// different is put right, an IMAP target's journal checked against the server); an older one is still refused.
    public var reimport = false
    /// `import --full-reconcile`: the reconcile after a delta reads back and hashes every item at the target, as the
    /// standalone `reconcile` does, instead of checking the messages earlier accepted imports placed from their
    /// metadata (`Reconciler.checksPlacedByMetadata`).
    public var fullReconcile = false
    /// Makes each user's identity map (`IdentityMapWriter`) for the report page; with `identityMapPrefix`, writes
    /// every row to `<prefix>.<address>.map.csv` too.
    public var makesIdentityMaps = false
    public var identityMapPrefix: String?
    /// Whether file targets keep where each item went (`ConnectorOptions.recordsPlacements`), for a report
    /// (`imported.placements`); identity maps need them too.
    public var recordsPlacements = true
    /// Run between the import and its reconcile. For tests: a change made behind the import's back there is one the
    /// reconcile must catch.
    public var beforeReconcile: (() throws -> Void)?

    public init(
        archivePath: String, trustedKeyPath: String, target: ConnectorSet, users: [String], quiet: Bool,
        options: ConnectorOptions = ConnectorOptions(), jobs: Int = 1
    ) {
        self.archivePath = archivePath
        self.trustedKeyPath = trustedKeyPath
        self.target = target
        self.users = users
        self.quiet = quiet
        self.options = options
        self.jobs = jobs
    }

    /// Set by `SetImporter` for a volume of the set it imports: the volume is taken (not refused as part of an
    /// export), and the set's own ledger checks stand for the volume's.
    var importsVolume = false
    /// Set by `SetImporter` for a volume of a delta set: the whole set's folder renames (`DeltaImport.setRenames`).
    var setRenames: [String: [(from: [String], to: [String])]] = [:]

    public func run() throws -> ReconcileReport {
        let written = try importItems()
        return try reconcileAndRecord(written.manifest, selected: written.selected, counts: written.counts, ledgerTarget: target.ledgerName)
    }

    /// What `importItems` wrote: the manifest it checked, the users it took, and the counts.
    struct Written {
        var manifest: VerifiedManifest
        var selected: Set<Int>
        var counts: ImportCounts
    }

    /// The import without its reconcile: the checks, then every item written.
    func importItems() throws -> Written {
        let started = Date()
        // Nothing is written before the signature checks.
        let (archive, reader) = try VerifiedArchive.open(
            archivePath, trusting: PublicKey(pemFile: trustedKeyPath), identities: AgeKeyFile.identities(files: identityPaths))
        let loaded = try reader.loadManifest()
        let manifest = importsVolume ? loaded : try loaded.refusingVolume(archivePath, for: "import")
        // Damage anywhere in an encrypted file is refused before the target is touched.
        try reader.authenticateEncryption()
        let selected = try selectUsers(manifest, users: users, singleUserTarget: target.holdsOneUser)
        let ledgerTarget = target.ledgerName
        if let ledger {
            for user in manifest.users where selected.contains(user.user) {
                try ledger.check(manifest.header, target: ledgerTarget, user: user.address, again: reimport)
            }
        }
        let mapping = UserMapping(manifest: manifest)
        var targetOptions = options
        targetOptions.checksPlacements = reimport
        targetOptions.recordsPlacements = recordsPlacements || makesIdentityMaps
        let mailboxes = try target.target(users: manifest.users.filter { selected.contains($0.user) }.map(\.targetMailbox), options: targetOptions)
        if manifest.isDelta {
            var counts = ImportCounts()
            let progress = ProgressReporter(label: "import", quiet: quiet)
            var delta = DeltaImport(
                manifest: manifest, archive: archive, selected: selected, mailboxes: mailboxes, target: target, progress: progress,
                mapping: mapping)
            delta.heldForms = RewrittenItemsFile(directory: options.journalDirectory).held(at: target.ledgerName)
            delta.setRenames = setRenames
            try delta.run(into: &counts)
            progress.finish()
            counts.seconds = Date().timeIntervalSince(started)
            return Written(manifest: manifest, selected: selected, counts: counts)
        }

        var counts = ImportCounts()
        // The archive is read, decompressed and checked on a second thread while this one writes.
        let parallel = jobs > 1 && selected.count > 1
        // One job reads the whole archive; parallel jobs read only their users' parts.
        let read = manifest.users.filter { !parallel || selected.contains($0.user) }
        let progress = ProgressReporter(
            label: "import", quiet: quiet, totalItems: read.reduce(0) { $0 + $1.counts.items },
            totalBytes: read.reduce(0) { $0 + $1.counts.bytes })
        var items = parallel ? nil : archive.items(manifest)
        var open: UserImport?
        var seenItems = 0
        var seenBytes: Int64 = 0

        func finishOpenUser() throws {
            if let o = open {
                try counts.add(try o.finish())
                open = nil
            }
        }
        for user in manifest.users where selected.contains(user.user) && user.counts.isEmpty {
            // Users with no items still get their folders and settings.
            try finishOpenUser()
            open = try UserImport(user, in: mailboxes, manifest: manifest, mapping: mapping)
        }
        try finishOpenUser()

        if parallel {
            try ParallelImport(
                archive: archive, manifest: manifest, users: selected, jobs: jobs, target: mailboxes, mapping: mapping, progress: progress
            ).run(into: &counts)
        }
        while let items, let (record, body) = try items.next() {
            seenItems += 1
            seenBytes += record.size
            progress.update(items: seenItems, bytes: seenBytes)
            guard selected.contains(record.user) else { continue }
            if open?.record.user != record.user {
                try finishOpenUser()
                open = try UserImport(manifest.users[record.user - 1], in: mailboxes, manifest: manifest, mapping: mapping)
            }
            try open!.write(record, body: body)
        }
        // The read-ahead's buffers (8 MiB) are not needed by the reconcile.
        items = nil
        try finishOpenUser()
        progress.finish()
        counts.seconds = Date().timeIntervalSince(started)
        return Written(manifest: manifest, selected: selected, counts: counts)
    }

    /// Reconciles, then records in the ledger the users whose import passed.
    func reconcileAndRecord(
        _ manifest: VerifiedManifest, selected: Set<Int>, counts: ImportCounts, ledgerTarget: String
    ) throws -> ReconcileReport {
        var reconciler = Reconciler(manifest: manifest, archivePath: archivePath, target: target, users: selected, options: options)
        reconciler.refused = Set(counts.badItems.map(\.entry))
        reconciler.rewritten = counts.rewrittenItems
        reconciler.converted = counts.convertedItems
        reconciler.placements = counts.placements
        var report = try reconcile(reconciler, delta: manifest.isDelta ? manifest.header.signerKeyID : nil, counts: counts)
        if makesIdentityMaps {
            FreeMemory.returnToSystem()
            report.identityMaps = try IdentityMapWriter(
                manifest: manifest, counts: counts, users: selected, prefix: identityMapPrefix,
                rowLimit: ReportPage.defaultRowLimit
            ).write()
        }
        if let ledger {
            let passed = report.users.filter { $0.verdict == .pass }.map(\.address)
            if !passed.isEmpty { try ledger.accept(manifest.header, target: ledgerTarget, users: passed) }
        }
        return report
    }

    /// The reconcile after an import of one archive or of a whole volume set (`SetImporter`): the rewrites and
    /// conversions recorded for later deltas, then `reconciler` run, the report carrying `counts`. `delta` is the
    /// signer's key id when a delta was imported: kept messages earlier accepted imports placed may then be checked
    /// from their metadata.
    func reconcile(_ reconciler: Reconciler, delta signer: String?, counts: ImportCounts) throws -> ReconcileReport {
        var reconciler = reconciler
        let ledgerTarget = target.ledgerName
        // Only a target that records where it placed each message (IMAP: the journal's UIDs) can be checked so.
        if let signer, !fullReconcile, target.findsEarlierPlacements, let ledger {
            reconciler.checksPlacedByMetadata = true
            reconciler.accepted = { archiveID, user in
                ledger.hasAccepted(archiveID, signer: signer, target: ledgerTarget, user: user)
            }
        }
        try beforeReconcile?()
        let rewrites = RewrittenItemsFile(directory: options.journalDirectory)
        try rewrites.record(counts.rewrittenItems + counts.convertedItems, target: target.ledgerName)
        reconciler.rewrittenBefore = rewrites.held(at: target.ledgerName)
        FreeMemory.returnToSystem()
        var report = try reconciler.run()
        report.imported = counts
        return report
    }

    /// Creates every container of `user` at the target up front (so empty folders and calendars arrive too), with
    /// the ACL identifiers of renamed users rewritten; the rewrites are added to `rewritten`.
    static func openContainers(
        of user: UserRecord, in manifest: VerifiedManifest, at target: any UserMailboxTarget, mapping: UserMapping,
        rewritten: inout [String]
    ) throws -> [ContainerKey: Int] {
        var map: [ContainerKey: Int] = [:]
        let held = target.heldKinds
        for c in manifest.containers where c.user == user.user && held.contains(c.kind.itemKind) {
            let key = ContainerKey(kind: c.kind, number: c.number)
            switch c.kind {
            case .folder:
                let (folder, notes) = mapping.rewritingACL(of: c.folder!, user: user.address)
                rewritten += notes
                map[key] = try target.folder(folder)
            case .addressBook: map[key] = try target.addressBook(c.addressBook!)
            case .calendar: map[key] = try target.calendar(c.calendar!)
            }
        }
        return map
    }

    /// Contacts, calendar items and Sieve scripts up to this size are read whole to apply the user mapping.
    static let rewriteLimit: Int64 = 64 << 20

    /// Writes one item into its container at the target; false when the target already had it. With a user
    /// mapping, what names a renamed user in a contact, an event or a Sieve script (`UserMapping.rewriting`) is
    /// rewritten on the way (after the archived bytes were checked); `counts` lists it, with the hash the target now
    /// holds.
    static func write(
        _ record: EntryRecord, body: some CheckedItemBody, key: ItemKey, to target: any UserMailboxTarget,
        containers: [ContainerKey: Int], mapping: UserMapping, counts: inout ImportCounts
    ) throws -> Bool {
        if !mapping.isEmpty, record.kind != .message, record.size <= rewriteLimit {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(Int(record.size))
            try body.stream { bytes.append(contentsOf: $0) }
            try body.check()
            guard let (rewritten, item, notes) = mapping.rewriting(bytes, of: record) else {
                return try write(record, body: MemoryBody(bytes), key: key, to: target, containers: containers, check: {})
            }
            counts.rewritten += notes
            counts.rewrittenItems.append(item)
            let newKey = ItemKey(archiveID: key.archiveID, entryPath: key.entryPath, sha256: item.sha256, size: item.size)
            return try write(record, body: MemoryBody(rewritten), key: newKey, to: target, containers: containers, check: {})
        }
        return try write(record, body: body, key: key, to: target, containers: containers, check: { try body.check() })
    }

    private static func write(
        _ record: EntryRecord, body: some ItemBody, key: ItemKey, to target: any UserMailboxTarget,
        containers: [ContainerKey: Int], check: () throws -> Void
    ) throws -> Bool {
        switch record.kind {
        case .message:
            return try target.writeMessage(record.message!, inFolder: containers[ContainerKey(kind: .folder, number: record.container!)]!, key: key, body: body, check: check)
        case .contact:
            return try target.writeContact(record.contact!, inAddressBook: containers[ContainerKey(kind: .addressBook, number: record.container!)]!, key: key, body: body, check: check)
        case .calendarItem:
            return try target.writeCalendarItem(record.calendarItem!, inCalendar: containers[ContainerKey(kind: .calendar, number: record.container!)]!, key: key, body: body, check: check)
        case .sieveScript:
            return try target.writeSieveScript(record.sieve!, key: key, body: body, check: check)
        }
    }

    struct ContainerKey: Hashable {
        var kind: ContainerRecord.Kind
        var number: Int
    }
}

/// The user numbers to work on: all, or those named (each must be in the archive).
func selectUsers(_ manifest: VerifiedManifest, users: [String], singleUserTarget: Bool) throws -> Set<Int> {
    if users.isEmpty {
        if singleUserTarget && manifest.users.count > 1 {
            throw FerryError(.usage, "the archive holds \(manifest.users.count) users (\(manifest.users.map(\.address).joined(separator: ", "))) but the target holds one: name it with --user")
        }
        return Set(manifest.users.map(\.user))
    }
    var selected = Set<Int>()
    for address in users {
        guard let u = manifest.users.first(where: { $0.address.lowercased() == address.lowercased() }) else {
            throw FerryError(.usage, "the archive holds no user \(address) (it holds \(manifest.users.map(\.address).joined(separator: ", ")))")
        }
        selected.insert(u.user)
    }
    if singleUserTarget && selected.count != 1 {
        throw FerryError(.usage, "a maildir: target holds one user: name exactly one --user")
    }
    return selected
}

extension ContainerRecord.Kind {
    /// The kind of the items a container of this kind holds.
    var itemKind: ItemKind {
        switch self {
        case .folder: return .message
        case .addressBook: return .contact
        case .calendar: return .calendarItem
        }
    }
}

extension Counts {
    var isEmpty: Bool { messages == 0 && contactFiles == 0 && calendarFiles == 0 && sieveScripts == 0 }
}
