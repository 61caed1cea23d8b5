import Foundation
import TestSupport
import MailModel
import Testing
@testable import FerryArchive

/// Entries removed, added, duplicated, reordered or resized, sizes that lie, and manifests grafted
/// from another archive. "Old statement" means the parts were changed after signing; "restated"
/// means a signer re-signed a statement for the new layout but the manifest it lists is unchanged;
/// "sealed" means the signer also listed the hostile content in the manifest.
@Suite struct EntryTamperTests {
    static let m1 = "u/1/m/1/1.eml", m2 = "u/1/m/1/2.eml", m3 = "u/1/m/1/3.eml", m4 = "u/1/m/2/1.eml"
    static let last = "u/2/s/1.sieve"

    func sample(_ dir: TemporaryDirectory, _ key: SigningKey) throws -> ArchiveParts {
        let parts = try ArchiveParts.sample(key: key, in: dir)
        #expect(parts.members.map(\.name) == [Self.m1, Self.m2, Self.m3, Self.m4, "u/1/m/2/2.eml", "u/1/c/1/1.vcf", "u/2/m/1/1.eml", Self.last])
        return parts
    }

    // MARK: Removed, added, duplicated, reordered

    @Test func aRemovedEntryIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let parts = try sample(dir, key)
        var removed = parts
        removed.members.remove(at: parts.index(of: Self.m2))
        try removed.write(to: dir.file("old.mfa"))
        try expectRefused(dir.file("old.mfa"), trust: key.publicKey, in: dir, stage: .signature,
                          saying: "manifest reference does not match the archive's frames")

        try removed.restate(with: key)
        try removed.write(to: dir.file("restated.mfa"))
        try expectRefused(dir.file("restated.mfa"), trust: key.publicKey, in: dir, stage: .items,
                          at: "entry \"\(Self.m3)\"", saying: "found where the manifest lists \(Self.m2)")

        var lastRemoved = parts
        lastRemoved.members.removeLast()
        try lastRemoved.restate(with: key)
        try lastRemoved.write(to: dir.file("last.mfa"))
        try expectRefused(dir.file("last.mfa"), trust: key.publicKey, in: dir, stage: .items,
                          at: Self.last, saying: "listed in the manifest but missing from the archive")
    }

    @Test func anAddedEntryIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let parts = try sample(dir, key)
        let extra = TarMember.regular("u/1/m/1/4.eml", SampleArchive.message(4))
        var added = parts
        added.members.insert(extra, at: parts.index(of: Self.m3) + 1)
        try added.write(to: dir.file("old.mfa"))
        try expectRefused(dir.file("old.mfa"), trust: key.publicKey, in: dir, stage: .signature,
                          saying: "manifest reference does not match the archive's frames")

        try added.restate(with: key)
        try added.write(to: dir.file("restated.mfa"))
        try expectRefused(dir.file("restated.mfa"), trust: key.publicKey, in: dir, stage: .items,
                          at: "entry \"u/1/m/1/4.eml\"", saying: "found where the manifest lists \(Self.m4)")

        var atEnd = parts
        atEnd.members.append(.regular("u/2/s/2.sieve", Array("keep;\r\n".utf8)))
        try atEnd.restate(with: key)
        try atEnd.write(to: dir.file("end.mfa"))
        try expectRefused(dir.file("end.mfa"), trust: key.publicKey, in: dir, stage: .items,
                          at: "entry \"u/2/s/2.sieve\"", saying: "is in the archive but not in the manifest")
    }

    @Test func aDuplicatedEntryIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try sample(dir, key)
        let i = parts.index(of: Self.m2)
        parts.members.insert(parts.members[i], at: i + 1)
        try parts.write(to: dir.file("old.mfa"))
        try expectRefused(dir.file("old.mfa"), trust: key.publicKey, in: dir, stage: .signature,
                          saying: "manifest reference does not match the archive's frames")
        try parts.restate(with: key)
        try parts.write(to: dir.file("restated.mfa"))
        try expectRefused(dir.file("restated.mfa"), trust: key.publicKey, in: dir, stage: .items,
                          at: "entry \"\(Self.m2)\"", saying: "found where the manifest lists \(Self.m3)")
    }

    @Test func reorderedEntriesAreRefusedUnderTheUnchangedSignedManifest() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let parts = try sample(dir, key)
        for (a, b) in [(Self.m1, Self.m2), (Self.m3, Self.m4)] {
            var swapped = parts
            swapped.members.swapAt(parts.index(of: a), parts.index(of: b))
            #expect(swapped.layout().plainFrames.map(\.count) == parts.layout().plainFrames.map(\.count), "same layout, old statement still applies")
            let path = dir.file("swap-\(a.split(separator: "/").joined(separator: "-")).mfa")
            try swapped.write(to: path)
            try expectRefused(path, trust: key.publicKey, in: dir, stage: .items,
                              at: "entry \"\(b)\"", saying: "found where the manifest lists \(a)")
        }
    }

    // MARK: Sizes

    @Test func anEntryLargerOrSmallerThanItsManifestSizeIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let parts = try sample(dir, key)
        let i = parts.index(of: Self.m2)
        let original = parts.members[i].data
        for data in [original + Array("0123456789".utf8), Array(original.dropLast(10))] {
            var resized = parts
            resized.members[i].data = data
            let path = dir.file("size\(data.count).mfa")
            try resized.write(to: path)  // within one tar block: the old statement still applies
            try expectRefused(path, trust: key.publicKey, in: dir, stage: .items,
                              at: Self.m2, saying: "the tar header says \(data.count) bytes, the manifest \(original.count)")
        }
    }

    @Test func aTarHeaderThatLiesAboutTheSizeIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let parts = try sample(dir, key)
        let i = parts.index(of: Self.m2)
        let size = parts.members[i].data.count
        // The header claims more (it would swallow the next header) or less than the data that follows.
        for declared in [size + 512, size + 1, size - 1] {
            var lying = parts
            lying.members[i].declaredSize = Int64(declared)
            let path = dir.file("declared\(declared).mfa")
            try lying.write(to: path)
            try expectRefused(path, trust: key.publicKey, in: dir, stage: .items,
                              at: Self.m2, saying: "the tar header says \(declared) bytes, the manifest \(size)")
        }
    }

    @Test func aSignedEntryThatSwallowsTheNextHeaderIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try sample(dir, key)
        let i = parts.index(of: Self.m2)
        let data = parts.members[i].data
        // The header claims the data, its padding and the next member's header block; the signer lists
        // exactly those bytes, so the entry itself checks out and the next header has been eaten.
        let swallowed = parts.members[i].encoded().dropFirst(512) + parts.members[i + 1].encoded().prefix(512)
        parts.members[i].declaredSize = Int64(swallowed.count)
        try parts.editEntries { entries in
            for j in entries.indices where entries[j].path == Self.m2 { entries[j].describe(Array(swallowed)) }
        }
        try parts.seal(with: key)
        #expect(parts.members[i].data == data)
        try parts.write(to: dir.file("a.mfa"))
        try expectRefused(dir.file("a.mfa"), trust: key.publicKey, in: dir, stage: .items)
    }

    @Test func aManifestSizeOfTenGigabytesForASmallEntryIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try sample(dir, key)
        let size = parts.members[parts.index(of: Self.m2)].data.count
        try parts.editEntries { entries in
            for j in entries.indices where entries[j].path == Self.m2 { entries[j].size = 10_000_000_000 }
        }
        try parts.seal(with: key)
        try parts.write(to: dir.file("a.mfa"))
        try expectRefused(dir.file("a.mfa"), trust: key.publicKey, in: dir, stage: .items,
                          at: Self.m2, saying: "the tar header says \(size) bytes, the manifest 10000000000")
    }

    @Test func aSignedEightGigabyteTarSizeForASmallEntryIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try sample(dir, key)
        let i = parts.index(of: Self.last)  // the last item: its "data" runs into the end of the data frames
        let huge: Int64 = 0o77777777777
        parts.members[i].declaredSize = huge
        try parts.editEntries { entries in
            for j in entries.indices where entries[j].path == Self.last { entries[j].size = huge }
        }
        try parts.seal(with: key)
        try parts.write(to: dir.file("a.mfa"))
        try expectRefused(dir.file("a.mfa"), trust: key.publicKey, in: dir, stage: .items)
    }

    // MARK: Grafts

    /// Two genuine archives by the same key; the manifest, statement and signature of X on the data of Y.
    @Test func aManifestGraftedFromAnotherArchiveIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let x = dir.file("x.mfa"), sameLayout = dir.file("y1.mfa"), otherLayout = dir.file("y2.mfa")
        try SampleArchive.write(to: x, key: key)
        try SampleArchive.write(to: sameLayout, key: key, bigMessage: 300)   // message 3 still fits one tar block
        try SampleArchive.write(to: otherLayout, key: key, bigMessage: 3000)
        let fx = try ForgedFile.read(x)
        let size3 = try ArchiveParts.decode(x).members.first { $0.name == Self.m3 }!.data.count

        let y1 = try ForgedFile.read(sameLayout)
        #expect(y1.frames[0].declaredSize == fx.frames[0].declaredSize)
        try ForgedFile(frames: [y1.frames[0]] + fx.frames[1...]).write(to: dir.file("graft1.mfa"))
        try expectRefused(dir.file("graft1.mfa"), trust: key.publicKey, in: dir, stage: .items,
                          at: Self.m3, saying: "the tar header says 300 bytes, the manifest \(size3)")

        let y2 = try ForgedFile.read(otherLayout)
        try ForgedFile(frames: [y2.frames[0]] + fx.frames[1...]).write(to: dir.file("graft2.mfa"))
        try expectRefused(dir.file("graft2.mfa"), trust: key.publicKey, in: dir, stage: .signature,
                          saying: "manifest reference does not match the archive's frames")

        // Only X's manifest frame, between Y's data and Y's statement.
        try ForgedFile(frames: [y1.frames[0], fx.frames[1], y1.frames[2]]).write(to: dir.file("graft3.mfa"))
        // (Its size differs by one digit of message 3's size, so that is what is noticed first.)
        try expectRefused(dir.file("graft3.mfa"), trust: key.publicKey, in: dir, stage: .manifest,
                          at: EntryPath.manifest, saying: "the signed statement says")
    }
}
