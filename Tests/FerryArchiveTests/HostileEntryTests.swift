import Foundation
import TestSupport
import MailModel
import Testing
@testable import FerryArchive

/// Names that escape or do not follow the synthetic form, entry types other than regular files,
/// and decompression bombs. Reading must refuse all of them and never write a file.
@Suite struct HostileEntryTests {
    static let m2 = "u/1/m/1/2.eml"
    static let hostileNames = ["../evil.eml", "/etc/passwd", "u/1/m/1/../../x.eml", "u/01/m/1/1.eml", "notes.txt"]

    // MARK: Names

    @Test(arguments: hostileNames)
    func aSignedManifestListingAHostileNameIsRefused(_ name: String) throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        parts.members[parts.index(of: Self.m2)].name = name
        try parts.editEntries { entries in
            for j in entries.indices where entries[j].path == Self.m2 { entries[j].path = name }
        }
        try parts.seal(with: key)
        let path = dir.file("a.mfa")
        try parts.write(to: path)
        try expectRefused(path, trust: key.publicKey, in: dir, stage: .items,
                          at: "\(EntryPath.manifest): entry \(name)", saying: "is not a MailFerry item name")
    }

    @Test(arguments: hostileNames)
    func aHostileTarNameUnderALegitimateManifestIsRefused(_ name: String) throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        parts.members[parts.index(of: Self.m2)].name = name
        let path = dir.file("a.mfa")
        try parts.write(to: path)  // the same layout: the genuine statement and manifest still apply
        try expectRefused(path, trust: key.publicKey, in: dir, stage: .items,
                          at: "entry \(String(reflecting: name))", saying: "found where the manifest lists \(Self.m2)")
        // The forged tar really carries the name (plain tar would see it).
        #expect(try ArchiveParts.decode(path).members.contains { $0.name == name })
    }

    // MARK: Types

    static let hostileTypes: [TarMember] = [
        TarMember(name: m2, type: .symlink, linkName: "/etc/passwd"),
        TarMember(name: m2, type: .symlink, linkName: "../../../../evil.eml"),
        TarMember(name: m2, type: .hardLink, linkName: "u/1/m/1/1.eml"),
        TarMember(name: m2, type: .hardLink, linkName: "/etc/passwd"),
        TarMember(name: m2, type: .charDevice),
        TarMember(name: m2, type: .directory, mode: 0o755),
        TarMember(name: m2 + "/", type: .directory, mode: 0o755),
    ]

    @Test(arguments: hostileTypes)
    func aNonRegularEntryIsRefused(_ member: TarMember) throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let parts = try ArchiveParts.sample(key: key, in: dir)
        let i = parts.index(of: Self.m2)

        // The signer re-signs for the new layout; the manifest still lists the genuine message.
        var restated = parts
        restated.members[i] = member
        try restated.restate(with: key)
        try restated.write(to: dir.file("restated.mfa"))
        try expectRefused(dir.file("restated.mfa"), trust: key.publicKey, in: dir, stage: .items,
                          at: "entry \"\(Self.m2)", saying: "is not a regular file")

        // The signer lists it (empty, as links and devices are) in the manifest.
        var sealed = restated
        try sealed.editEntries { entries in
            for j in entries.indices where entries[j].path == Self.m2 { entries[j].describe([]) }
        }
        try sealed.seal(with: key)
        try sealed.write(to: dir.file("sealed.mfa"))
        try expectRefused(dir.file("sealed.mfa"), trust: key.publicKey, in: dir, stage: .items,
                          at: "entry \"\(Self.m2)", saying: "is not a regular file")

        // With a hostile name as well, the type is refused before the name is compared.
        var named = restated
        named.members[i].name = "../evil.eml"
        try named.write(to: dir.file("named.mfa"))
        try expectRefused(dir.file("named.mfa"), trust: key.publicKey, in: dir, stage: .items,
                          at: "entry \"../evil.eml\"", saying: "is not a regular file")
    }

    @Test func aStatementThatIsASymlinkIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let parts = try ArchiveParts.sample(key: key, in: dir)
        var file = try parts.file()
        file.frames[file.frames.count - 1] = try ForgedFile.compress(
            TarMember(name: EntryPath.statement, type: .symlink, linkName: "/etc/passwd").encoded()
                + TarMember.regular(EntryPath.signature, parts.signature).encoded()
                + [UInt8](repeating: 0, count: 1024))
        try file.write(to: dir.file("a.mfa"))
        try expectRefused(dir.file("a.mfa"), trust: key.publicKey, in: dir, stage: .open,
                          at: "entry \"\(EntryPath.statement)\"", saying: "is not a regular file")
    }

    @Test func aManifestThatIsAHardLinkIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let parts = try ArchiveParts.sample(key: key, in: dir)
        var file = try parts.file()
        // A hard link that still carries the manifest's bytes, so the manifest region has its signed size.
        let link = TarMember(name: EntryPath.manifest, type: .hardLink, data: parts.manifest, linkName: EntryPath.statement)
        file.frames[1] = try ForgedFile.compress(link.encoded())
        try file.write(to: dir.file("a.mfa"))
        try expectRefused(dir.file("a.mfa"), trust: key.publicKey, in: dir, stage: .manifest)
    }

    // MARK: Decompression bombs

    /// 100 MB of zeros in one zstd frame (a few kilobytes compressed), made once for all tests.
    static let zeroBomb: [UInt8] = {
        let frame = try! ZstdFrameCompressor().compress([UInt8](repeating: 0, count: 100_000_000))
        return Array(frame)
    }()

    @Test func aSmallFrameThatInflatesTo100MBIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let file = try ArchiveParts.sample(key: key, in: dir).file()
        #expect(Self.zeroBomb.count < 100_000)
        for (frame, stage) in [(0, ReadStage.items), (1, .manifest), (2, .open)] {
            var bomb = file
            bomb.frames[frame].compressed = Self.zeroBomb  // the seek table keeps the small declared size
            let path = dir.file("bomb\(frame).mfa")
            try bomb.write(to: path)
            let started = ContinuousClock.now
            try expectRefused(path, trust: key.publicKey, in: dir, stage: stage,
                              at: "frame \(frame)", saying: "decompresses to more than the \(file.frames[frame].declaredSize) bytes")
            #expect(ContinuousClock.now - started < .seconds(2), "refusing the bomb took \(ContinuousClock.now - started)")
        }
    }

    @Test func aFrameDeclaringMoreThan4MiBIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        let i = parts.index(of: Self.m2)
        let big = SampleArchive.message(2, size: 5 << 20)
        parts.members[i].data = big
        try parts.editEntries { entries in
            for j in entries.indices where entries[j].path == Self.m2 { entries[j].describe(big) }
        }
        // A signer whose frames are not cut at 4 MiB.
        parts.hardFrameSize = 8 << 20
        parts.targetFrameSize = 8 << 20
        try parts.seal(with: key)
        let file = try parts.write(to: dir.file("a.mfa"))
        #expect(file.frames[0].declaredSize > UInt32(FramePipeline.hardFrameSize))
        try expectRefused(dir.file("a.mfa"), trust: key.publicKey, in: dir, stage: .items,
                          at: "frame 0", saying: "declares \(file.frames[0].declaredSize) decompressed bytes")
    }

    @Test func aLastFrameDeclaringMoreThanAStatementNeedsIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var file = try ArchiveParts.sample(key: key, in: dir).file()
        file.frames[2].declaredSize = 1 << 20
        try file.write(to: dir.file("a.mfa"))
        try expectRefused(dir.file("a.mfa"), trust: key.publicKey, in: dir, stage: .open, kind: .format,
                          saying: "the last frame is 1048576 bytes")
    }

    @Test func aSignedStatementLargerThanTheLimitIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        try parts.restate(with: key) { $0.created += String(repeating: " ", count: 17 * 1024) }
        try parts.write(to: dir.file("a.mfa"))
        try expectRefused(dir.file("a.mfa"), trust: key.publicKey, in: dir, stage: .open, kind: nil)
    }
}

extension TarMember: CustomTestStringConvertible {
    var testDescription: String { "\(type) \(name)\(linkName.isEmpty ? "" : " -> \(linkName)")" }
}
