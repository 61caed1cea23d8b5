import MailModel

/// What a successful verification checked.
public struct VerificationResult: Sendable {
    public var statement: Statement
    public var header: ArchiveHeader
    public var users: [UserRecord]
    public var entries: Int
    public var bytes: Int64
}

/// `verify`: the signature first, then the manifest against the signed statement, then every entry
/// against the manifest, streaming the whole archive once with bounded memory; the frames are decompressed
/// (`ThreadedFrameReader`) and the manifest's entry lines decoded (`PrefetchedManifestEntries`) on threads of their
/// own while this one reads the tar entries and hashes them.
public enum ArchiveVerifier {
    /// Past this many damaged entries the archive is clearly broken; the walk stops there.
    static let maximumReported = 1000

    /// `started` is told the number of entries and bytes the signed manifest lists, before the walk; `progress` the
    /// running counts during it.
    public static func verify(
        path: String, trust key: PublicKey, identities: [AgeIdentity] = [], started: ((Int, Int64) -> Void)? = nil,
        progress: ((Int, Int64) -> Void)? = nil
    ) throws -> VerificationResult {
        let (archive, reader) = try VerifiedArchive.open(path, trusting: key, identities: identities)
        let statement = try reader.statementWithoutSignature()
        let manifest = try reader.loadManifest()
        started?(manifest.users.reduce(0) { $0 + $1.counts.items }, manifest.users.reduce(0) { $0 + $1.counts.bytes })
        // zstd and the manifest's entry lines on threads of their own, tar and SHA-256 on this one.
        let items = try reader.items(manifest, readingAheadWith: archive)
        var count = 0
        var bytes: Int64 = 0
        var damaged: [ArchiveError] = []
        func failure(_ final: ArchiveError?) -> ArchiveError? {
            let all = damaged + (final.map { [$0] } ?? [])
            if all.count <= 1 { return all.first }
            return ArchiveError(.verification, path, "\(all.count) problems:\n  " + all.map(\.description).joined(separator: "\n  "))
        }
        do {
            while let (record, body) = try items.next() {
                try body.stream { _ in }
                // A hash mismatch leaves the stream in step (sizes come from the manifest), so it is
                // named and the walk goes on: one run lists every damaged entry. Anything else stops it.
                do {
                    try body.check()
                } catch let error as ArchiveError where damaged.count < maximumReported {
                    damaged.append(error)
                }
                count += 1
                bytes += record.size
                progress?(count, bytes)
            }
        } catch {
            throw failure(ArchiveError.wrap(error, path))!
        }
        if let error = failure(nil) { throw error }
        return VerificationResult(statement: statement, header: manifest.header, users: manifest.users, entries: count, bytes: bytes)
    }
}

/// Recounts the entries and checks the counts the manifest states (per user, per container, in
/// total), so that what `inspect` shows from the counts is what the archive holds.
struct CountTally {
    let manifest: VerifiedManifest
    var users: [Int: Counts] = [:]
    var containers: [String: (items: Int, bytes: Int64)] = [:]

    init(manifest: VerifiedManifest) { self.manifest = manifest }

    mutating func add(_ e: EntryRecord) {
        var c = users[e.user] ?? Counts()
        c.add(e)
        users[e.user] = c
        if let container = e.container {
            let key = "\(e.user)/\(e.kind.rawValue)/\(container)"
            let old = containers[key] ?? (0, 0)
            containers[key] = (old.items + 1, old.bytes + e.size)
        }
    }

    func check(location: String) throws {
        var total = Counts()
        var totalBytes: Int64 = 0
        for u in manifest.users {
            let counted = users[u.user] ?? Counts()
            guard counted == u.counts else {
                throw ArchiveError(.verification, location, "the counts stated for \(u.address) do not match its entries")
            }
            total += counted
            totalBytes += counted.messageBytes + counted.otherBytes
        }
        guard total == manifest.header.totals, totalBytes == manifest.header.itemBytes else {
            throw ArchiveError(.verification, location, "the archive totals do not match its entries")
        }
        for c in manifest.containers {
            let kind: ItemKind = c.kind == .folder ? .message : c.kind == .addressBook ? .contact : .calendarItem
            let counted = containers["\(c.user)/\(kind.rawValue)/\(c.number)"] ?? (0, 0)
            guard counted.items == c.items, counted.bytes == c.bytes else {
                throw ArchiveError(.verification, location, "the counts stated for \(c.kind.rawValue) \(c.displayName) of user \(c.user) do not match its entries")
            }
        }
    }
}
