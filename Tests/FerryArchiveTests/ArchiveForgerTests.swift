import Foundation
import TestSupport
import MailModel
import Testing
@testable import FerryArchive
import SystemLayer

/// The forger itself: what it takes apart and puts back must be a valid archive, or the tamper
/// tests would prove nothing.
@Suite(.blocking) struct ArchiveForgerTests {
    @Test func decodesAWriterArchiveIntoItsParts() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let path = dir.file("a.mfa")
        let items = try SampleArchive.write(to: path, key: key)
        let parts = try ArchiveParts.decode(path)
        #expect(Dictionary(uniqueKeysWithValues: parts.members.map { ($0.name, $0.data) }) == items)
        #expect(parts.members.allSatisfy { $0.type == .regular })
        let statement = try JSONDecoder().decode(Statement.self, from: Data(parts.statement))
        #expect(statement.manifest.sha256 == SHA256.hex(parts.manifest))
        #expect(try key.publicKey.isValidSignature(parts.signature, for: parts.statement))
        #expect(try parts.manifestLines.count == 1 + 2 + 4 + items.count)
    }

    @Test func reassembledPartsVerifyAndMatchTheWritersLayout() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let original = dir.file("a.mfa")
        try SampleArchive.write(to: original, key: key)
        var parts = try ArchiveParts.decode(original)
        try parts.seal(with: key)
        let forged = dir.file("forged.mfa")
        let file = try parts.write(to: forged)
        let result = try ArchiveVerifier.verify(path: forged, trust: key.publicKey)
        #expect(result.entries == parts.members.count)
        // Same frame structure as the writer's: data frame, manifest frame, statement frame.
        #expect(try file.frames.count == ForgedFile.read(original).frames.count)
        // Re-reading the forged file gives back the same parts.
        let again = try ArchiveParts.decode(forged)
        #expect(again.members == parts.members)
        #expect(again.manifest == parts.manifest && again.statement == parts.statement && again.signature == parts.signature)
        // Plain tools accept the forger's tar headers.
        let listing = try run(["tar", "--zstd", "-tf", forged])
        #expect(listing.status == 0, "\(listing.output)")
        #expect(listing.output.split(separator: "\n").count == parts.members.count + 3)
    }

    @Test func framesAreCutLikeTheWriter() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let original = dir.file("big.mfa")
        try SampleArchive.write(to: original, key: key, bigMessage: 9 << 20)
        var parts = try ArchiveParts.decode(original)
        try parts.seal(with: key)
        let forged = try parts.file()
        let writer = try ForgedFile.read(original)
        #expect(forged.frames.map(\.declaredSize) == writer.frames.map(\.declaredSize))
        let path = dir.file("forged.mfa")
        try forged.write(to: path)
        _ = try ArchiveVerifier.verify(path: path, trust: key.publicKey)
    }

    @Test func ustarHeadersCarryTypeLinkAndDeclaredSize() throws {
        let member = TarMember(name: "u/1/m/1/1.eml", type: .symlink, data: [1, 2, 3], linkName: "/etc/passwd", declaredSize: 0o777)
        let parsed = try PlainTarParser.parse(member.encoded() + [UInt8](repeating: 0, count: 1024 + 0o777))
        #expect(parsed.count == 1)
        #expect(parsed.first?.member.type == .symlink)
        #expect(parsed.first?.member.linkName == "/etc/passwd")
        #expect(parsed.first?.member.data.count == 0o777)
    }
}
