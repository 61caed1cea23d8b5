import Connectors
import FerryArchive
import Foundation
import MailModel
import Reporting
import SystemLayer

/// `reconcile`: proves the target holds what the archive holds, per user, container and type, by
/// reading the target back and hashing every item. Works user by user, so memory follows the
/// largest user, not the archive.
struct Reconciler {
    /// What is reconciled: one archive, or the volumes of a volume set (format-spec 13.1), each with what its import
    /// found. A user that spans volumes is reconciled once, against everything every volume holds of it.
    var parts: [Part]
    let archivePath: String
    let target: ConnectorSet
    let options: ConnectorOptions
    /// What the report and its receipts name: the archive's id and manifest hash, or a set's (`SetImporter`).
    var identity: ReportIdentity
    /// Earlier imports' rewrites and conversions at this target (archived SHA-256 to held SHA-256), for the items a
    /// delta keeps.
    var rewrittenBefore: [String: String] = [:]
    /// The reconcile after a delta import (unless `import --full-reconcile`): a kept message that an earlier
    /// accepted import placed at a known UID of an IMAP target, and that no delta moved since, is checked from its
    /// folder's metadata FETCH (present at that UID with the same UIDVALIDITY, size, flags, keywords, internal
    /// date) instead of its bytes being read and hashed again. A UID with the same UIDVALIDITY always names the same
    /// message, whose bytes never change (RFC 9051 section 2.3.1.1), and those bytes were checked by the reconcile
    /// of the import that placed them. Everything else (the delta's new items, moved items, items placed where this
    /// station does not know the UID, a folder whose UIDVALIDITY changed) is read and hashed as always.
    var checksPlacedByMetadata = false
    /// Whether the archive (id) was accepted at this target for the user (address): in the ledger, so its import
    /// reconciled. Only those archives' placements are trusted.
    var accepted: (_ archiveID: String, _ user: String) -> Bool = { _, _ in false }
    /// Messages checked from their metadata, without their bytes (`checksPlacedByMetadata`), over all users.
    private(set) var placedMessagesChecked = 0

    /// One archive of what is reconciled, with what its import found.
    struct Part {
        let manifest: VerifiedManifest
        /// The archive's user numbers to reconcile.
        let users: Set<Int>
        /// Put before the archive's entry paths in the report: empty for one archive, `FILE:` for a volume, whose
        /// entry paths another volume may use too.
        var prefix = ""
        /// Entries the import's target refused (tolerated by --max-bad-items).
        var refused: Set<String> = []
        /// Contacts and calendar items written with the user mapping applied: the target holds these bytes.
        var rewritten: [RewrittenItem] = []
        /// Messages the target holds in CRLF form (`CRLFForm`) where the archived line endings differed.
        var converted: [RewrittenItem] = []
        /// Where the import placed each item (IMAP APPENDUID): pairs an archived item with the target's copy by UID
        /// when their bytes differ.
        var placements = PlacementLog()
    }

    /// What a report names as reconciled.
    struct ReportIdentity {
        var archiveID: String
        var manifestSHA256: String
        var signerKeyID: String
        /// A volume set's volumes (their archive ids, in order); nil for one archive.
        var volumes: [String]?
    }

    init(manifest: VerifiedManifest, archivePath: String, target: ConnectorSet, users: Set<Int>, options: ConnectorOptions) {
        self.init(
            parts: [Part(manifest: manifest, users: users)], archivePath: archivePath, target: target, options: options,
            identity: ReportIdentity(
                archiveID: manifest.header.archiveID, manifestSHA256: manifest.statement.manifest.sha256,
                signerKeyID: manifest.header.signerKeyID))
    }

    init(parts: [Part], archivePath: String, target: ConnectorSet, options: ConnectorOptions, identity: ReportIdentity) {
        precondition(!parts.isEmpty)
        self.parts = parts
        self.archivePath = archivePath
        self.target = target
        self.options = options
        self.identity = identity
    }

    /// One archive's refused, rewritten and converted items (`reconcile` and the import of one archive).
    var refused: Set<String> {
        get { parts[0].refused }
        set { parts[0].refused = newValue }
    }
    var rewritten: [RewrittenItem] {
        get { parts[0].rewritten }
        set { parts[0].rewritten = newValue }
    }
    var converted: [RewrittenItem] {
        get { parts[0].converted }
        set { parts[0].converted = newValue }
    }
    var placements: PlacementLog {
        get { parts[0].placements }
        set { parts[0].placements = newValue }
    }

    mutating func run() throws -> ReconcileReport {
        var reports: [ReconcileReport.UserReport] = []
        let links = MeetingLinks()
        // Built once for all users: each user's items are looked up in them.
        var hashes = Hashes(rewritten: [:], converted: [:])
        for part in parts {
            for item in part.rewritten { hashes.rewritten[part.prefix + item.entry] = item.sha256 }
            for item in part.converted { hashes.converted[part.prefix + item.entry] = item.sha256 }
        }
        let refused = Set(parts.flatMap { part in part.refused.map { part.prefix + $0 } })
        // Folders' ACLs are compared as the import wrote them: renamed users' identifiers rewritten (the mapping is the
        // export's, the same in every volume).
        let mapping = UserMapping(manifest: parts[0].manifest)
        // Where each user's entries are in each part.
        let runs = try parts.map { try $0.manifest.userEntries() }
        for held in UsersAcrossArchives.group(parts.map { ($0.manifest, $0.users) }) {
            // A delta lists what the source still holds from earlier archives as `keep` lines: the target must hold
            // those too (the state after the delta, not only its new items). A first pass over them finds what must
            // be known before the target is read (placed messages) or after the items (deleted ones); the items
            // themselves stream past the target's inventory (`eachExpected`), so that a large mailbox's entries are
            // never all held at once.
            var deleted: [SHA256Digest: String] = [:]
            // Only the keys: a kept message's entry is named by its origin, and its key holds its hash.
            var placedCandidates = ItemKeyList()
            // The first word of every hash the target should hold: what the inventory need not keep a header for.
            var expected = Set<UInt64>()
            func expect(_ entry: EntryRecord) {
                if let digest = SHA256Digest(hex: heldHash(entry, hashes).hash) { expected.insert(digest.a) }
            }
            for p in held {
                let manifest = parts[p.part].manifest
                let prefix = parts[p.part].prefix
                if let run = runs[p.part][p.record.user] {
                    let own = manifest.entries(of: run)
                    while var e = try own.next() {
                        e.path = prefix + e.path
                        expect(e)
                    }
                }
                guard manifest.changeCount > 0 else { continue }
                let changes = manifest.changes(of: p.record.user)
                while let c = try changes.next() {
                    if let kept = Self.expectedEntry(keptBy: c) { expect(kept) }
                    if checksPlacedByMetadata, c.op == .keep, c.kind == .message, let key = c.itemKey,
                        accepted(key.archiveID, p.record.address)
                    {
                        placedCandidates.append(key)
                    }
                    if c.op == .delete, let sha = c.sha256.flatMap(SHA256Digest.init(hex:)), let origin = c.origin {
                        deleted[sha] = "\(origin.archiveID):\(origin.path)"
                    }
                }
            }
            /// The items the target must hold, part by part, in manifest order: kept items, then the part's own
            /// entries (their paths with the part's prefix), each with its container.
            func eachExpected(_ body: (EntryRecord, ContainerRecord?) throws -> Void) throws {
                for p in held {
                    let manifest = parts[p.part].manifest
                    func container(_ entry: EntryRecord) -> ContainerRecord? {
                        guard entry.kind != .sieveScript else { return nil }
                        let kind: ContainerRecord.Kind = entry.kind == .message ? .folder : entry.kind == .contact ? .addressBook : .calendar
                        return manifest.container(user: p.record.user, kind: kind, number: entry.container ?? 0)
                    }
                    if manifest.changeCount > 0 {
                        let changes = manifest.changes(of: p.record.user)
                        while let c = try changes.next() {
                            if let kept = Self.expectedEntry(keptBy: c) { try body(kept, container(kept)) }
                        }
                    }
                    guard let run = runs[p.part][p.record.user] else { continue }
                    let own = manifest.entries(of: run)
                    while var e = try own.next() {
                        let record = container(e)
                        e.path = parts[p.part].prefix + e.path
                        try body(e, record)
                    }
                }
            }
            var user = held[0].record
            if held.count > 1 {
                // A user that spans volumes: its counts are those of every part, its settings those of the last.
                for p in held.dropFirst() { user.counts += p.record.counts }
            }
            let containers = held.flatMap { p in parts[p.part].manifest.containers.filter { $0.user == p.record.user } }
            let placed = placedMessages(placedCandidates, user: user, hashes: hashes)
            placedCandidates = ItemKeyList()
            let (report, checked) = try reconcile(
                user: user, containers: containers, isDelta: held.contains { parts[$0.part].manifest.isDelta },
                expected: eachExpected, deleted: deleted, hashes: hashes, refused: refused, placed: placed, mapping: mapping,
                expectedHashes: expected, links: links)
            reports.append(report)
            placedMessagesChecked += checked
        }
        // An attendee's copy without its organizer's event is named, not failed: the organizer's own reconcile fails
        // if the import lost the event, and a source can hold such a copy (the organizer deleted the meeting).
        let unlinked = links.unlinked(reconciled: Set(reports.map { ($0.targetAddress ?? $0.address).lowercased() }))
        for index in reports.indices {
            reports[index].problems += unlinked[(reports[index].targetAddress ?? reports[index].address).lowercased()] ?? []
        }
        let verdict: ReconcileReport.Verdict = reports.allSatisfy { $0.verdict == .pass } ? .pass : .fail
        var report = ReconcileReport(
            archive: archivePath, archiveID: identity.archiveID, manifestSHA256: identity.manifestSHA256,
            signerKeyID: identity.signerKeyID, target: target.description,
            created: InternalDate(epochSeconds: Int64(Date().timeIntervalSince1970)).iso8601, verdict: verdict, users: reports)
        report.volumes = identity.volumes
        return report
    }

    /// An item a delta's `keep` line says the target holds, as an entry named by its origin (archive id and path).
    static func expectedEntry(keptBy c: ChangeRecord) -> EntryRecord? {
        guard c.op == .keep, let kind = c.kind, let origin = c.origin, let size = c.size, let sha = c.sha256 else { return nil }
        var e = EntryRecord(
            path: "\(origin.archiveID):\(origin.path)", kind: kind, user: c.user, container: c.container, size: size,
            sha256: sha, offset: 0, frame: 0)
        e.message = c.message
        e.contact = c.contact
        e.calendarItem = c.calendarItem
        e.sieve = c.sieve
        e.sourceKey = c.sourceKey
        return e
    }

    /// Where earlier accepted imports placed `candidates` at the target, with the hash each must hold. A target
    /// that cannot say (or fails to) places nothing: every item is then read and hashed.
    private func placedMessages(
        _ candidates: ItemKeyList, user: UserRecord, hashes: Hashes
    ) -> TargetInventory.PlacedMessages {
        guard !candidates.isEmpty,
            let found = try? target.placedMessages(of: candidates, user: user.targetMailbox, options: options),
            found.count == candidates.count
        else { return TargetInventory.PlacedMessages() }
        var placed = TargetInventory.PlacedMessages(capacity: found.count(where: { $0 != nil }))
        var folders: [[String]: ContainerName] = [:]
        for (index, p) in found.enumerated() {
            guard let p else { continue }
            let key = candidates[index]
            // As `expectedEntry(keptBy:)` names a kept message.
            let hash = heldHash(path: "\(key.archiveID):\(key.entryPath)", kind: .message, sha256: key.sha256, hashes).hash
            guard let digest = SHA256Digest(hex: hash) else { continue }
            let folder = folders[p.path] ?? ContainerName(folder: FolderInfo(path: p.path))
            folders[p.path] = folder
            placed.set(TargetInventory.Placed(uidValidity: p.uidValidity, size: p.size, digest: digest), folder: folder, uid: p.uid)
        }
        return placed
    }

    /// The hash the target holds for `entry`: its CRLF form's or a DAV server's own serialisation's (`converted`,
    /// this import's or an earlier one's), its rewritten form's, or the archived one.
    private func heldHash(_ entry: EntryRecord, _ hashes: Hashes) -> (hash: String, converted: Bool) {
        heldHash(path: entry.path, kind: entry.kind, sha256: entry.sha256, hashes)
    }

    private func heldHash(path: String, kind: ItemKind, sha256: String, _ hashes: Hashes) -> (hash: String, converted: Bool) {
        if let crlf = hashes.converted[path] ?? (kind == .message ? rewrittenBefore[sha256] : nil) {
            // Only messages are converted for their line ends (an IMAP target); a DAV target's converted objects
            // are in the server's own serialisation and are not counted as line-end conversions.
            return (crlf, kind == .message)
        }
        return (hashes.rewritten[path] ?? rewrittenBefore[sha256] ?? sha256, false)
    }

    /// `rewritten` and `converted` by entry path.
    private struct Hashes {
        var rewritten: [String: String]
        var converted: [String: String]
    }

    /// `deleted`: for a delta, the items it deletes (SHA-256 → origin); a copy of one left at the target fails.
    /// `placed`: messages checked from their metadata (`checksPlacedByMetadata`); returns how many were.
    /// `mapping`: the archive's user mapping, which the import applied to folders' ACLs.
    /// `containers`: the user's container records, of every part that holds the user.
    private func reconcile(
        user: UserRecord, containers records: [ContainerRecord], isDelta: Bool,
        expected: ((EntryRecord, ContainerRecord?) throws -> Void) throws -> Void, deleted: [SHA256Digest: String] = [:],
        hashes: Hashes, refused: Set<String>, placed: TargetInventory.PlacedMessages, mapping: UserMapping,
        expectedHashes: Set<UInt64>, links: MeetingLinks
    ) throws -> (ReconcileReport.UserReport, Int) {
        var user = user
        // A delta's own counts are its new items; the user's expected state, counted as it streams, is larger.
        var expectedCounts = Counts()
        let inventory = TargetInventory(placed: placed, folderProperties: target.folderPropertySupport, expected: expectedHashes)
        let owner = user.targetMailbox
        inventory.onCalendarItem = { info, calendar in links.add(info, calendar: calendar, owner: owner) }
        var problems: [String] = []
        var resolution = InternalDateResolution.nanoseconds
        do {
            let source = try target.source(users: [user.targetMailbox], options: options, forInventory: true)
            resolution = source.internalDateResolution
            try source.read(user: UserInfo(address: user.targetMailbox), into: inventory)
        } catch let error as ConnectorError {
            // The target has no (readable) mailbox for the user: everything is missing, a failed reconcile.
            problems.append("reading the target failed: \(error.description)")
        } catch {
            // A server that is down, refuses the login or breaks the connection says nothing about what the
            // target holds: an I/O or server error (exit 3), not a report of everything missing.
            let failure = FerryError.from(error)
            throw FerryError(
                failure.status,
                "reconcile of \(user.targetMailbox) could not read the target \(target.description): \(failure.description); nothing was compared")
        }
        // Taken from the inventory, not copied: matched items are taken out of it as the entries stream past.
        var remaining = inventory.takeItems()
        let containersWithItems = Set(remaining.keys)
        func containerExists(_ name: ContainerName) -> Bool {
            containersWithItems.contains(name) || inventory.knownContainers.contains(name)
        }
        var containers: [ContainerName: ReconcileReport.ContainerReport] = [:]
        var order: [ContainerName] = []
        // A target with its own special-use folders (IMAP) takes a source's Sent into its Sent, whatever each is
        // called; where the target has no folder of the archived name, look for it there.
        func targetName(_ record: ContainerRecord) -> ContainerName {
            let name = ContainerName(record)
            guard let f = record.folder, !f.isInbox, let use = f.specialUse?.lowercased(), !containerExists(name),
                let mapped = inventory.specialUseFolders[use]
            else { return name }
            return mapped
        }
        let targetSpecialUses = Set(inventory.folderDescriptions.values.compactMap { $0.specialUse?.lowercased() })
        // Items of kinds the target does not hold were left out by the import: not looked for, counted as a problem.
        let held = target.heldKinds
        var notHeld: [ItemKind: Int] = [:]
        // A container a later volume lists again is compared once.
        var seen = Set<ContainerName>()
        for record in records where held.contains(record.kind.itemKind) && seen.insert(ContainerName(record)).inserted {
            let name = targetName(record)
            if containers[name] == nil {
                order.append(name)
                containers[name] = ReconcileReport.ContainerReport(kind: name.kindName, name: name.displayName, archiveItems: 0, archiveBytes: 0, matched: 0, extra: 0, missing: [], mismatched: [])
            }
            // The folder's own properties, where the target has the folder (a missing one is a problem below).
            if let folder = record.folder, let held = inventory.folderDescriptions[name] {
                let comparison = FolderPropertyComparison(
                    archived: mapping.rewritingACL(of: folder, user: user.address).0, target: held,
                    support: inventory.folderProperties, owner: user.targetMailbox, targetSpecialUses: targetSpecialUses)
                containers[name]!.folderProperties = (containers[name]!.folderProperties ?? []) + comparison.properties
            }
            // An address book's or calendar's own properties, where the target has the collection.
            var collection: [ReconcileReport.FolderProperty] = []
            if let book = record.addressBook, let held = inventory.addressBookDescriptions[name] {
                collection = CollectionPropertyComparison(archived: book, target: held).properties
            } else if let calendar = record.calendar, let held = inventory.calendarDescriptions[name] {
                collection = CollectionPropertyComparison(archived: calendar, target: held).properties
            }
            if !collection.isEmpty {
                containers[name]!.folderProperties = (containers[name]!.folderProperties ?? []) + collection
            }
        }
        var targetCounts = Counts()
        // The entries listed as missing, different or refused, for their details and for pairing changed items.
        var listed: [String: EntryRecord] = [:]
        try expected { entry, record in
            expectedCounts.add(entry)
            guard held.contains(entry.kind) else {
                notHeld[entry.kind, default: 0] += 1
                return
            }
            let name = entry.kind == .sieveScript ? ContainerName.sieve : targetName(record!)
            if containers[name] == nil {
                order.append(name)
                containers[name] = ReconcileReport.ContainerReport(kind: name.kindName, name: name.displayName, archiveItems: 0, archiveBytes: 0, matched: 0, extra: 0, missing: [], mismatched: [])
            }
            containers[name]!.archiveItems += 1
            containers[name]!.archiveBytes += entry.size
            let (hash, converted) = heldHash(entry, hashes)
            if converted { containers[name]!.lineEndingsConverted = (containers[name]!.lineEndingsConverted ?? 0) + 1 }
            // Prefer a copy whose metadata also matches, so duplicates pair up correctly.
            guard let digest = SHA256Digest(hex: hash),
                let found = remaining[name]?.take(digest, preferring: { difference(entry, $0, inventory, resolution) == nil })
            else {
                if refused.contains(entry.path) {
                    containers[name]!.refused.append(entry.path)
                } else {
                    containers[name]!.missing.append(entry.path)
                }
                listed[entry.path] = entry
                return
            }
            if let diff = difference(entry, found, inventory, resolution) {
                containers[name]!.mismatched.append(.init(entry: entry.path, difference: diff.text, aspects: diff.aspects))
                listed[entry.path] = entry
            } else {
                containers[name]!.matched += 1
            }
            targetCounts.add(entry)
        }
        if isDelta { user.counts = expectedCounts }
        for name in order {
            guard remaining[name] != nil else { continue }
            pairChangedItems(
                &containers[name]!, extras: &remaining[name]!, inventory: inventory, listed: listed, resolution: resolution,
                placedUID: try placedUIDs(of: containers[name]!.missing))
        }
        for (name, held) in remaining.sorted(by: { $0.key.displayName < $1.key.displayName }) {
            let extra = held.remainingCount
            guard extra > 0 else { continue }
            let extras = held.remainingIndices.map { held[$0] }
            var reported: Set<SHA256Digest> = []
            for item in extras where !reported.contains(item.digest) {
                if let origin = deleted[item.digest] {
                    reported.insert(item.digest)
                    problems.append("\(name.kindName) \(name.displayName): the item \(origin), deleted at the source, is still at the target")
                }
            }
            if containers[name] == nil {
                order.append(name)
                containers[name] = ReconcileReport.ContainerReport(kind: name.kindName, name: name.displayName, archiveItems: 0, archiveBytes: 0, matched: 0, extra: 0, missing: [], mismatched: [])
            }
            containers[name]!.extra = extra
            // The first by date: a target that already held a large mailbox would otherwise list all of it.
            func byDate(_ item: HeldItem) -> (Int, Int64, Int32, UInt64, UInt64) {
                let date = item.internalDate
                return (date == nil ? 0 : 1, date?.epochSeconds ?? 0, date?.nanoseconds ?? 0, item.digest.a, item.digest.b)
            }
            let first = extras.sorted { byDate($0) < byDate($1) }.prefix(ReconcileReport.listedExtraLimit)
            containers[name]!.extraItems = first.map { Self.detail($0, inventory) }
        }
        for name in order {
            let c = containers[name]!
            let paths = c.missing + c.mismatched.map(\.entry) + c.refused
            if !paths.isEmpty { containers[name]!.details = paths.compactMap { listed[$0].map(Self.detail) } }
        }
        for name in order where name.kind != nil && !containerExists(name) {
            if containers[name]!.archiveItems == 0 { problems.append("\(name.kindName) \(name.displayName) is missing at the target") }
        }
        // Kinds the operator left out with --types are named, but do not fail the user: the run was asked that way.
        var leftOut: [String] = []
        for (kind, count) in notHeld.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let items = "\(count) \(UserImport.kindName(kind))\(count == 1 ? "" : "s")"
            if target.excludedKinds.contains(kind) {
                leftOut.append("\(items) left out of this run by --types: not imported, not checked")
            } else {
                problems.append(
                    "\(items) not imported: \(target.description) holds no \(UserImport.kindName(kind))s (listed under notImported in the import's report)")
            }
        }
        let list = order.map { containers[$0]! }
        let failed = !problems.isEmpty || list.contains { !$0.missing.isEmpty || !$0.mismatched.isEmpty || $0.propertiesDiffer }
        problems += leftOut
        problems += inventory.warnings.map { "target: \($0)" }
        let report = ReconcileReport.UserReport(address: user.address, targetAddress: user.targetAddress, verdict: failed ? .fail : .pass, archive: user.counts, target: targetCounts, containers: list, problems: problems)
        return (report, inventory.placedMessagesChecked)
    }

    /// What differs between an archived item and the target's copy with the same bytes, or nil: a sentence and the
    /// names of the aspects (`flags`, `keywords`, `date`, `name`, `active`).
    private func difference(
        _ entry: EntryRecord, _ item: HeldItem, _ inventory: TargetInventory, _ resolution: InternalDateResolution
    ) -> (text: String, aspects: [String])? {
        if let m = entry.message, item.isMessage, let date = item.internalDate {
            let t = MessageInfo(
                flags: item.flags, keywords: inventory.keywords(of: item), internalDate: date, maildirPassed: item.maildirPassed)
            var diffs: [String] = []
            var aspects: [String] = []
            // The P letter only where the target can hold it; elsewhere the export's warning said it is not carried.
            let passedDiffers = target.holdsMaildirPassed && m.maildirPassed != t.maildirPassed
            if m.flags != t.flags || passedDiffers {
                let passed = { (info: MessageInfo) in info.maildirPassed && self.target.holdsMaildirPassed ? ["P (Maildir)"] : [] }
                diffs.append("flags \(m.flags.names + passed(m)) became \(t.flags.names + passed(t))")
                aspects.append("flags")
            }
            if Set(m.keywords) != Set(t.keywords) {
                diffs.append("keywords \(m.keywords.sorted()) became \(t.keywords.sorted())")
                aspects.append("keywords")
            }
            let nanosecondsDiffer = resolution == .nanoseconds && m.internalDate.nanoseconds != t.internalDate.nanoseconds
            if m.internalDate.epochSeconds != t.internalDate.epochSeconds || nanosecondsDiffer {
                diffs.append("internal date \(m.internalDate.iso8601) became \(t.internalDate.iso8601)")
                aspects.append("date")
            }
            return diffs.isEmpty ? nil : (diffs.joined(separator: "; "), aspects)
        }
        let itemName = inventory.name(of: item)
        if let c = entry.contact, c.resourceName != itemName { return ("file name \(c.resourceName) became \(itemName ?? "?")", ["name"]) }
        if let k = entry.calendarItem, k.resourceName != itemName { return ("file name \(k.resourceName) became \(itemName ?? "?")", ["name"]) }
        if let s = entry.sieve, s.name != itemName || s.active != item.sieveActive {
            var aspects: [String] = []
            if s.name != itemName { aspects.append("name") }
            if s.active != item.sieveActive { aspects.append("active") }
            return ("script \(s.name) (active \(s.active)) became \(itemName ?? "?") (active \(item.sieveActive ?? false))", aspects)
        }
        return nil
    }

    /// The UIDs the import placed `entries` at (`placements`), looked up only for entries found missing: a table of
    /// every placement would hold one more string key per imported message through the whole reconcile.
    private func placedUIDs(of entries: [String]) throws -> [String: UInt32] {
        guard !entries.isEmpty else { return [:] }
        let wanted = Set(entries)
        var found: [String: UInt32] = [:]
        for part in parts {
            try part.placements.forEach { p in
                let entry = part.prefix + p.entry
                if wanted.contains(entry) { found[entry] = p.uid ?? found[entry] }
            }
        }
        return found
    }

    /// What names an item on both sides whatever its bytes, strongest first: the object id (GUID, EMAILID) where
    /// both sides have one, the UID the import was given for it (`placements`), a message's Message-ID; a contact's
    /// or calendar item's file name; a script's name. A missing entry and an extra item with the same identity in
    /// the same container are one item whose bytes changed.
    private enum Identity: Hashable {
        /// Hashes (`TargetInventory.identityHash`): the target's items keep no more.
        case guid(Int), uid(UInt32), messageID(Int)
        case file(String), script(String)
    }

    private func identities(_ entry: EntryRecord, placedUID: [String: UInt32]) -> [Identity] {
        if let m = entry.message {
            var ids: [Identity] = []
            if let guid = m.guid { ids.append(.guid(TargetInventory.identityHash(guid))) }
            if let uid = placedUID[entry.path] { ids.append(.uid(uid)) }
            if let id = m.messageID { ids.append(.messageID(TargetInventory.identityHash(id))) }
            return ids
        }
        if let c = entry.contact { return [.file(c.resourceName)] }
        if let k = entry.calendarItem { return [.file(k.resourceName)] }
        if let s = entry.sieve { return [.script(s.name)] }
        return []
    }

    private static func identities(_ item: HeldItem, _ inventory: TargetInventory) -> [Identity] {
        if item.isMessage {
            var ids: [Identity] = []
            if item.guidHash != 0 { ids.append(.guid(item.guidHash)) }
            if let uid = item.uid { ids.append(.uid(uid)) }
            if item.messageIDHash != 0 { ids.append(.messageID(item.messageIDHash)) }
            return ids
        }
        guard let name = inventory.name(of: item) else { return [] }
        return item.sieveActive != nil ? [.script(name)] : [.file(name)]
    }

    static func detail(_ entry: EntryRecord) -> ReconcileReport.ItemDetail {
        ReconcileReport.ItemDetail(
            entry: entry.path, title: entry.title, from: entry.message?.from, date: entry.message?.internalDate.iso8601,
            size: entry.size, sha256: entry.sha256)
    }

    static func detail(_ item: HeldItem, _ inventory: TargetInventory) -> ReconcileReport.ItemDetail {
        let header = inventory.header(of: item)
        // A message whose header was not kept (its bytes are an archived message's: a second copy) says so.
        let unread = item.headerSkipped ? "(another copy of an archived message)" : nil
        return ReconcileReport.ItemDetail(
            entry: nil, title: header.subject ?? inventory.name(of: item) ?? unread ?? "", from: header.from,
            date: item.internalDate?.iso8601, size: item.size, sha256: item.digest.hex)
    }

    /// Pairs each missing entry of a container with an extra target item of the same identity (see `identities`):
    /// such a pair is reported as one item with changed bytes instead of one missing and one extra. Identities are
    /// tried strongest first; among several items with the same Message-ID, the one whose flags, keywords and date
    /// differ least is taken, so each difference is reported once, on the right item.
    private func pairChangedItems(
        _ report: inout ReconcileReport.ContainerReport, extras: inout HeldItems, inventory: TargetInventory,
        listed: [String: EntryRecord], resolution: InternalDateResolution, placedUID: [String: UInt32]
    ) {
        guard !report.missing.isEmpty, extras.remainingCount > 0 else { return }
        var byIdentity: [Identity: [Int32]] = [:]
        for index in extras.remainingIndices {
            for id in Self.identities(extras[index], inventory) { byIdentity[id, default: []].append(index) }
        }
        guard !byIdentity.isEmpty else { return }
        var taken: Set<Int32> = []
        var pairs: [String: Int32] = [:]
        let missing = report.missing.compactMap { path in listed[path].map { (path, $0, identities($0, placedUID: placedUID)) } }
        // One pass per strength: a GUID or UID pairing is never taken away by a Message-ID one.
        for strength in 0..<3 {
            for (path, entry, ids) in missing where pairs[path] == nil && strength < ids.count {
                let free = (byIdentity[ids[strength]] ?? []).filter { !taken.contains($0) }
                guard !free.isEmpty else { continue }
                let best = free.min { a, b in
                    let da = difference(entry, extras[a], inventory, resolution)?.aspects.count ?? 0
                    let db = difference(entry, extras[b], inventory, resolution)?.aspects.count ?? 0
                    return da < db
                }!
                taken.insert(best)
                pairs[path] = best
            }
        }
        guard !pairs.isEmpty else { return }
        var stillMissing: [String] = []
        for path in report.missing {
            guard let entry = listed[path], let pick = pairs[path] else {
                stillMissing.append(path)
                continue
            }
            let item = extras[pick]
            var text = "bytes changed: \(entry.size) B (SHA-256 \(entry.sha256.prefix(12))…) became \(item.size) B (SHA-256 \(item.digest.hex.prefix(12))…)"
            var aspects = ["bytes"]
            if let more = difference(entry, item, inventory, resolution) {
                text += "; " + more.text
                aspects += more.aspects
            }
            report.mismatched.append(.init(entry: path, difference: text, aspects: aspects))
        }
        report.missing = stillMissing
        for index in taken { extras.take(at: index) }
    }
}
