import Foundation
import TestSupport
import MailModel
import Testing

@testable import FerryArchive

/// Delta archives' change records (format-spec section 6.8): signed like everything in the manifest, read back in
/// order, and refused where they break the rules even under a valid signature.
@Suite struct ChangeRecordTests {
    static let base = String(repeating: "ab", count: 16)

    static func keep(container: Int = 1) -> ChangeRecord {
        var c = ChangeRecord(op: .keep, user: 1)
        c.kind = .message
        c.container = container
        c.sourceKey = "maildir:1700000000.M1P1.host"
        c.origin = ItemOrigin(archiveID: base, path: "u/1/m/1/7.eml")
        c.size = 120
        c.sha256 = String(repeating: "0", count: 64)
        c.message = MessageInfo(flags: [.seen], internalDate: InternalDate(epochSeconds: 1_700_000_000))
        c.changed = ["flags"]
        return c
    }

    static func delete() -> ChangeRecord {
        var c = ChangeRecord(op: .delete, user: 1)
        c.kind = .message
        c.sourceKey = "maildir:1700000001.M2P1.host"
        c.origin = ItemOrigin(archiveID: base, path: "u/1/m/1/8.eml")
        c.size = 99
        c.sha256 = String(repeating: "1", count: 64)
        return c
    }

    /// The sample archive with `changes` between its containers and entries, `deltaOf` and `changeCount` as given,
    /// sealed by `key` (a signer that writes what it likes).
    static func forge(
        _ changes: [ChangeRecord], deltaOf: String?, changeCount: Int? = nil, key: SigningKey, in dir: TemporaryDirectory,
        editEntries: (inout EntryRecord) -> Void = { _ in }
    ) throws -> String {
        var parts = try ArchiveParts.sample(key: key, in: dir)
        var lines = try parts.manifestLines
        guard case .archive(var header) = lines[0] else { throw ForgeError("no archive line") }
        header.deltaOf = deltaOf
        header.changeCount = changeCount ?? changes.count
        lines[0] = .archive(header)
        let firstEntry = lines.firstIndex { if case .entry = $0 { true } else { false } } ?? lines.count
        lines.insert(contentsOf: changes.map(ManifestLine.change), at: firstEntry)
        lines = lines.map { line in
            guard case .entry(var e) = line else { return line }
            editEntries(&e)
            return .entry(e)
        }
        try parts.setManifest(lines)
        try parts.seal(with: key)
        let path = dir.file("forged.mfa")
        try parts.write(to: path)
        return path
    }

    @Test func aSignedDeltaWithChangeLinesVerifiesAndReadsThemBackInOrder() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var rename = ChangeRecord(op: .renameFolder, user: 1)
        rename.from = ["Old"]
        rename.to = ["New"]
        let path = try Self.forge([Self.keep(), Self.delete(), rename], deltaOf: Self.base, key: key, in: dir)
        let refusal = readLikeImport(path, trust: try key.publicKey)
        #expect(refusal == nil, "\(String(describing: refusal))")
        let reader = try ArchiveReader(path: path)
        try reader.verifySignature(with: try key.publicKey)
        let manifest = try reader.loadManifest()
        #expect(manifest.isDelta && manifest.changeCount == 3)
        let changes = manifest.changes()
        var read: [ChangeRecord] = []
        while let c = try changes.next() { read.append(c) }
        #expect(read == [Self.keep(), Self.delete(), rename])
        // The entries are still all there after the change lines.
        let entries = manifest.entries()
        var count = 0
        while try entries.next() != nil { count += 1 }
        #expect(count == manifest.header.entryCount && count > 0)
    }

    @Test func changeLinesInAFullArchiveAreRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let path = try Self.forge([Self.keep()], deltaOf: nil, key: key, in: dir)
        try expectRefused(path, trust: key.publicKey, in: dir, stage: .manifest, kind: .format, saying: "not a delta")
    }

    @Test func aChangeCountThatDisagreesWithTheLinesIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let path = try Self.forge([Self.keep(), Self.delete()], deltaOf: Self.base, changeCount: 1, key: key, in: dir)
        try expectRefused(path, trust: key.publicKey, in: dir, stage: .manifest, kind: .format, saying: "change records")
    }

    @Test func aKeepLineInAContainerThatIsNotListedIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let path = try Self.forge([Self.keep(container: 99)], deltaOf: Self.base, key: key, in: dir)
        try expectRefused(path, trust: key.publicKey, in: dir, stage: .manifest, kind: .format, saying: "not listed")
    }

    @Test func aDeleteLineWithoutItsOriginIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var broken = Self.delete()
        broken.origin = nil
        let path = try Self.forge([broken], deltaOf: Self.base, key: key, in: dir)
        try expectRefused(path, trust: key.publicKey, in: dir, stage: .manifest, kind: .format, saying: "origin")
    }

    @Test func aVersion2EntryWithoutASourceKeyIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let path = try Self.forge([], deltaOf: nil, key: key, in: dir) { $0.sourceKey = nil }
        try expectRefused(path, trust: key.publicKey, in: dir, stage: .items, saying: "sourceKey")
    }
}
