import Foundation
import MailModel
import SystemLayer
import Testing
import TestSupport
@testable import FerryArchive

/// Format-spec section 4 allows regular files (type '0') after at most a pax header, with no gaps and no
/// end-of-archive marker before the manifest. libarchive reads '7' and unknown type letters as regular files and
/// fills a GNU sparse file's holes with zeros, so each of these was accepted (a 1.3 KB signed archive carried a
/// 1 GiB item); each is refused now, even when a signer lists it (issue 13).
@Suite struct TarLayerStrictnessTests {
    static let m2 = "u/1/m/1/2.eml"

    @Test(arguments: [TarMember.TypeFlag.contiguous, .unknownLetter])
    func aRegularLookingTypeOtherThanZeroIsRefused(_ type: TarMember.TypeFlag) throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        parts.members[parts.index(of: Self.m2)].type = type
        try parts.seal(with: key)  // the same bytes, so the signed manifest still describes them
        try parts.write(to: dir.file("a.mfa"))
        try expectRefused(
            dir.file("a.mfa"), trust: key.publicKey, in: dir, stage: .items, at: "entry \"\(Self.m2)\"",
            saying: "has tar type '\(Character(Unicode.Scalar(type.rawValue)))'; only regular files")
    }

    /// 64 MiB from a sparse entry holding 512 bytes: the signer lists the 64 MiB (their true hash), which the
    /// archive does not hold.
    @Test func aSparseEntryIsRefusedBeforeItsHolesAreRead() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        let i = parts.index(of: Self.m2)
        let held = [UInt8](repeating: UInt8(ascii: "x"), count: 512)
        let realSize = 64 << 20
        parts.members[i] = TarMember(name: Self.m2, type: .gnuSparse, data: held, sparseRealSize: Int64(realSize))
        let whole = held + [UInt8](repeating: 0, count: realSize - held.count)
        try parts.editEntries { entries in
            for j in entries.indices where entries[j].path == Self.m2 { entries[j].describe(whole) }
        }
        try parts.setManifest(try parts.manifestLines.map { line in
            switch line {
            case .user(var u) where u.user == 1:
                u.counts.messageBytes += Int64(realSize) - 1 - Int64(parts.members[i].data.count)
                return .user(u)
            default: return line
            }
        })
        try parts.seal(with: key)
        try parts.write(to: dir.file("a.mfa"))
        let archiveSize = try FileManager.default.attributesOfItem(atPath: dir.file("a.mfa"))[.size] as? Int ?? 0
        #expect(archiveSize < 100_000)
        try expectRefused(dir.file("a.mfa"), trust: key.publicKey, in: dir, stage: .items, at: "entry \"\(Self.m2)\"")
    }

    @Test func anEndOfArchiveMarkerBeforeTheManifestIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        parts.members.append(.rawBytes([UInt8](repeating: 0, count: 1024)))
        try parts.seal(with: key)  // the statement's manifest offset is after the marker
        try parts.write(to: dir.file("a.mfa"))
        try expectRefused(dir.file("a.mfa"), trust: key.publicKey, in: dir, stage: .items, saying: "an end-of-archive marker or other data sits between them")
    }

    @Test func aGlobalPaxHeaderBetweenEntriesIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        let record = Array("30 comment=hidden unsigned text\n".utf8)
        parts.members.insert(TarMember(name: "pax_global_header", type: .globalPax, data: record), at: parts.index(of: Self.m2))
        try parts.seal(with: key)
        try parts.write(to: dir.file("a.mfa"))
        try expectRefused(dir.file("a.mfa"), trust: key.publicKey, in: dir, stage: .items)
    }
}
