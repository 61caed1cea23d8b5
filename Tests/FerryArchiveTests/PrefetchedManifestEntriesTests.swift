import TestSupport
import Foundation
import MailModel
import Testing
@testable import FerryArchive

/// `verify` decodes the manifest's entry lines on a thread of its own (`PrefetchedManifestEntries`). The records, and
/// an error in a signed manifest, must be what a `ManifestEntryIterator` gives on one thread, in the same order and
/// with the same location (`expectRefused` compares verify with the one-threaded walk import makes).
@Suite struct PrefetchedManifestEntriesTests {
    @Test func theRecordsAreTheIteratorsInOrder() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let parts = try ArchiveParts.sample(key: key, in: dir)
        let path = dir.file("a.mfa")
        try parts.write(to: path)
        let (archive, reader) = try VerifiedArchive.open(path, trusting: key.publicKey)
        let manifest = try reader.loadManifest()
        var expected: [EntryRecord] = []
        let iterator = manifest.entries()
        while let e = try iterator.next() { expected.append(e) }
        #expect(expected.count == manifest.header.entryCount)
        let prefetched = PrefetchedManifestEntries(manifest: manifest) { try archive.openReader().loadManifest().entries() }
        var got: [EntryRecord] = []
        while let e = try prefetched.next() { got.append(e) }
        #expect(got == expected)
        #expect(try prefetched.next() == nil)
    }

    @Test func aBadEntryAfterGoodOnesIsRefusedAsOnOneThread() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        var last = ""
        try parts.editEntries { entries in
            last = entries[entries.count - 1].path
            entries[entries.count - 1].sha256 = entries[entries.count - 1].sha256.uppercased()
        }
        try parts.seal(with: key)
        let path = dir.file("a.mfa")
        try parts.write(to: path)
        try expectRefused(path, trust: key.publicKey, in: dir, stage: .items,
                          at: "\(EntryPath.manifest): entry \(last)", saying: "has an invalid size, hash or position")
    }

    @Test func theErrorIsGivenAgainAndAStreamDroppedEarlyEndsItsThread() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let parts = try ArchiveParts.sample(key: key, in: dir)
        let path = dir.file("a.mfa")
        try parts.write(to: path)
        let (archive, reader) = try VerifiedArchive.open(path, trusting: key.publicKey)
        let manifest = try reader.loadManifest()
        let failure = ArchiveError(.io, path, "the archive changed while it was being read")
        let failing = PrefetchedManifestEntries(manifest: manifest) { throw failure }
        for _ in 0..<3 {
            let error = #expect(throws: ArchiveError.self) { try failing.next() }
            #expect(error == failure)
        }
        for _ in 0..<5 {
            var entries: PrefetchedManifestEntries? = PrefetchedManifestEntries(manifest: manifest) {
                try archive.openReader().loadManifest().entries()
            }
            #expect(try entries!.next() != nil)
            entries = nil
            #expect(entries == nil)
        }
    }
}
