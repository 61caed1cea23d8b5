import Foundation
import TestSupport
import MailModel
import Testing
@testable import FerryArchive
import SystemLayer

@Suite(.blocking) struct ArchiveRoundTripTests {
    @Test func writesAnArchiveThatVerifiesAndStreamsBackEveryByte() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let path = dir.file("a.mfa")
        let items = try SampleArchive.write(to: path, key: key)
        #expect(!FileManager.default.fileExists(atPath: path + ".partial"))

        let result = try ArchiveVerifier.verify(path: path, trust: key.publicKey)
        #expect(result.entries == items.count)
        #expect(result.users.map(\.address) == ["alice@example.com", "bob@example.com"])

        let reader = try ArchiveReader(path: path)
        try reader.verifySignature(with: key.publicKey)
        let manifest = try reader.loadManifest()
        let stream = try reader.items(manifest)
        var seen: [String: [UInt8]] = [:]
        while let (record, body) = try stream.next() {
            var bytes: [UInt8] = []
            try body.stream { bytes += $0 }
            try body.check()
            seen[record.path] = bytes
            // Random access decodes only the entry's frames and gives the same bytes.
            var again: [UInt8] = []
            try reader.readEntry(record) { again += $0 }
            #expect(again == bytes)
        }
        #expect(seen.keys.sorted() == items.keys.sorted())
        #expect(seen == items, "item bytes differ")
        let folder = manifest.containers.first { $0.kind == .folder && $0.number == 2 }
        #expect(folder?.folder?.path == ["Archive", "Résumé", "a/b.c"])
    }

    @Test func aLargeItemSpansFramesAndStillVerifies() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let path = dir.file("big.mfa")
        try SampleArchive.write(to: path, key: key, bigMessage: 11 << 20)
        let result = try ArchiveVerifier.verify(path: path, trust: key.publicKey)
        #expect(result.bytes > 11 << 20)
        let reader = try ArchiveReader(path: path)
        #expect(reader.seekTable.frames.count >= 4)
    }

    /// FramePipeline reuses each frame's buffers once the frame is written: many frames of differing bytes (and one
    /// message cut at the hard frame size twice) must come back exactly, none carrying another frame's leftovers.
    @Test func framesWrittenFromReusedBuffersComeBackExactly() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let path = dir.file("many.mfa")
        var generator = SystemRandomNumberGenerator()
        var sent: [[UInt8]] = []
        for n in 0..<30 {
            // Sizes that leave frames of many lengths; random bytes, so a stale tail would not compress away unseen.
            let size = n == 17 ? FramePipeline.hardFrameSize * 2 + 12_345 : 100_000 + n * 23_111
            var words = [UInt64](repeating: 0, count: size / 8 + 1)
            for i in words.indices { words[i] = generator.next() }
            var bytes = Array("Subject: \(n)\r\n\r\n".utf8)
            words.withUnsafeBytes { bytes += $0.prefix(size) }
            sent.append(bytes)
        }
        try Self.writeInbox(of: "alice@example.com", holding: sent, to: path, key: key)

        _ = try ArchiveVerifier.verify(path: path, trust: key.publicKey)
        let reader = try ArchiveReader(path: path)
        #expect(reader.seekTable.frames.count > 2 * FramePipeline.maximumInFlight)
        let stream = try reader.items(try reader.loadManifest())
        var received: [[UInt8]] = []
        while let (_, body) = try stream.next() {
            var bytes: [UInt8] = []
            try body.stream { bytes += $0 }
            try body.check()
            received.append(bytes)
        }
        #expect(received == sent)
    }

    /// Writes an archive of one user whose INBOX holds `messages`, in order.
    static func writeInbox(of address: String, holding messages: [[UInt8]], to path: String, key: SigningKey) throws {
        let writer = try ArchiveWriter(path: path, signingKey: key, options: ArchiveOptions(station: "test", tool: "tests"))
        try writer.beginUser(UserInfo(address: address))
        let inbox = try writer.folder(FolderInfo(path: ["INBOX"]))
        for bytes in messages {
            try writer.message(MessageInfo(internalDate: InternalDate(epochSeconds: 1_700_000_000)), inFolder: inbox, body: MemoryBody(bytes))
        }
        try writer.endUser(settings: UserSettings())
        _ = try writer.finish()
    }

    @Test func standardToolsListTheArchiveAndCheckTheSignature() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let path = dir.file("a.mfa")
        let items = try SampleArchive.write(to: path, key: key)
        let expectedNames = Set(items.keys).union([EntryPath.manifest, EntryPath.statement, EntryPath.signature])
        for tool in [["tar", "--zstd", "-tf", path], ["bsdtar", "-tf", path]] {
            let (status, output) = try run(tool)
            #expect(status == 0, "\(tool[0]): \(output)")
            #expect(Set(output.split(separator: "\n").map(String.init)) == expectedNames, "\(tool[0])")
        }
        // Extract with tar, then check the signature with openssl and the manifest with sha256sum.
        let out = dir.file("x")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        #expect(try run(["tar", "--zstd", "-xf", path, "-C", out]).status == 0)
        try Data(key.publicKey.publicPEM()).write(to: URL(fileURLWithPath: dir.file("pub.pem")))
        let verify = try run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", dir.file("pub.pem"), "-rawin",
                              "-in", out + "/" + EntryPath.statement, "-sigfile", out + "/" + EntryPath.signature])
        #expect(verify.status == 0, "\(verify.output)")
        let statement = try JSONDecoder().decode(Statement.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/" + EntryPath.statement)))
        let sum = try run(["sha256sum", out + "/" + EntryPath.manifest]).output
        #expect(sum.hasPrefix(statement.manifest.sha256))
        let msg = try run(["sha256sum", out + "/u/1/m/1/1.eml"]).output
        #expect(msg.hasPrefix(SHA256.hex(items["u/1/m/1/1.eml"]!)))
    }

    @Test func opensslKeysWorkBothWays() throws {
        let dir = try TemporaryDirectory()
        #expect(try run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", dir.file("k.pem")]).status == 0)
        #expect(try run(["openssl", "pkey", "-in", dir.file("k.pem"), "-pubout", "-out", dir.file("p.pem")]).status == 0)
        let key = try SigningKey(pemFile: dir.file("k.pem"))
        let pub = try PublicKey(pemFile: dir.file("p.pem"))
        #expect(try key.publicKey.raw == pub.raw)
        try SampleArchive.write(to: dir.file("a.mfa"), key: key)
        _ = try ArchiveVerifier.verify(path: dir.file("a.mfa"), trust: pub)
    }
}
