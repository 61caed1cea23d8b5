import Foundation
import MailModel
import TestSupport
import Testing
@testable import FerryArchive

#if canImport(Glibc)
import Glibc
#endif

/// The age v1 layer (format-spec 13.2) against the real `age` and `age-keygen`: each side reads what the other
/// writes, every chunk size edge, and each kind of damage refused with its own message.
@Suite(.blocking) struct AgeEncryptionTests {
    /// Writes `plaintext` encrypted to `recipients` with MailFerry's writer.
    static func encrypt(_ plaintext: [UInt8], to recipients: [AgeRecipient], at path: String) throws {
        let file = try OwnedFile(path: path, flags: O_WRONLY | O_CREAT | O_TRUNC)
        let output = try AgeEncryptingOutput(file: file, recipients: recipients)
        // In uneven pieces, so chunk edges fall inside writes.
        var offset = 0
        var piece = 1
        while offset < plaintext.count {
            let n = min(piece, plaintext.count - offset)
            try plaintext[offset..<(offset + n)].withUnsafeBytes { try output.write($0) }
            offset += n
            piece = piece * 7 % 100_003 + 1
        }
        try output.finish()
        try output.sync()
    }

    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func newIdentity(_ dir: TemporaryDirectory, _ name: String) throws -> (identity: AgeIdentity, keyFile: String) {
        let identity = try AgeIdentity.generate()
        let path = dir.file(name + ".age.key")
        try AgeKeyFile.identityFileText(identity, created: Date()).write(toFile: path, atomically: true, encoding: .utf8)
        return (identity, path)
    }

    static func open(_ path: String, _ identities: [AgeIdentity]) throws -> AgeDecryptingFile {
        try AgeDecryptingFile(file: OwnedFile(path: path, flags: O_RDONLY), identities: identities)
    }

    @Test func keysMadeByAgeKeygenAreReadAndOursAreReadByAge() throws {
        let dir = try TemporaryDirectory()
        #expect(try run(["age-keygen", "-o", dir.file("theirs.key")]).status == 0)
        let theirs = try AgeKeyFile.identities(dir.file("theirs.key"))
        #expect(theirs.count == 1)
        // age-keygen -y prints the recipient of an identity file: the same as the one MailFerry computes.
        let printed = try run(["age-keygen", "-y", dir.file("theirs.key")]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(printed == theirs[0].recipient.description)
        #expect(AgeRecipient(printed)?.description == printed)

        let (ours, ourFile) = try Self.newIdentity(dir, "ours")
        let ourPrinted = try run(["age-keygen", "-y", ourFile]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(ourPrinted == ours.recipient.description)
    }

    @Test(arguments: [0, 1, 65_535, 65_536, 65_537, 3 * 65_536, 1_000_000])
    func ourOutputIsDecryptedByAgeAndReadAtAnyOffset(size: Int) throws {
        let dir = try TemporaryDirectory()
        let (b, bFile) = try Self.newIdentity(dir, "b")
        let (escrow, escrowFile) = try Self.newIdentity(dir, "escrow")
        let plaintext = Self.randomBytes(size, seed: UInt64(size) + 1)
        let path = dir.file("x.age")
        try Self.encrypt(plaintext, to: [b.recipient, escrow.recipient], at: path)
        // Every recipient opens it with age itself.
        for keyFile in [bFile, escrowFile] {
            let out = dir.file("out")
            let decrypted = try run(["age", "-d", "-i", keyFile, "-o", out, path])
            #expect(decrypted.status == 0, "\(decrypted.output)")
            // age creates no output file for an empty plaintext.
            let back = FileManager.default.fileExists(atPath: out) ? try Array(Data(contentsOf: URL(fileURLWithPath: out))) : []
            #expect(back == plaintext)
            try? FileManager.default.removeItem(atPath: out)
        }
        // And MailFerry reads any range of it.
        let file = try Self.open(path, [escrow])
        #expect(try file.size == Int64(size))
        var generator = SplitMix64(seed: 7)
        for _ in 0..<20 where size > 0 {
            let start = Int.random(in: 0..<size, using: &generator)
            let count = Int.random(in: 0...min(200_000, size - start), using: &generator)
            #expect(try file.read(count: count, at: Int64(start)) == Array(plaintext[start..<(start + count)]))
        }
    }

    @Test func aFileEncryptedByAgeIsReadWithOurIdentity() throws {
        let dir = try TemporaryDirectory()
        let (b, _) = try Self.newIdentity(dir, "b")
        let plaintext = Self.randomBytes(300_000, seed: 3)
        try Data(plaintext).write(to: URL(fileURLWithPath: dir.file("plain")))
        // age adds a grease stanza of a random type to every header: it must be skipped, not refused.
        let made = try run(["age", "-r", b.recipient.description, "-o", dir.file("x.age"), dir.file("plain")])
        #expect(made.status == 0, "\(made.output)")
        let file = try Self.open(dir.file("x.age"), [b])
        #expect(try file.read(count: plaintext.count, at: 0) == plaintext)
    }

    /// A five-chunk file and its pieces: header (with nonce) and the sealed chunks.
    struct Pieces {
        var head: [UInt8]
        var chunks: [[UInt8]]
        var bytes: [UInt8] { head + chunks.flatMap { $0 } }
    }

    static func pieces(_ dir: TemporaryDirectory, _ identity: AgeIdentity) throws -> Pieces {
        let path = dir.file("five.age")
        try encrypt(randomBytes(4 * 65_536 + 1000, seed: 5), to: [identity.recipient], at: path)
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        let header = try AgeHeader.parse(bytes, location: path)
        let start = header.length + AgePayload.nonceSize
        var chunks: [[UInt8]] = []
        var i = start
        while i < bytes.count {
            chunks.append(Array(bytes[i..<min(i + AgePayload.sealedChunkSize, bytes.count)]))
            i += AgePayload.sealedChunkSize
        }
        #expect(chunks.count == 5)
        return Pieces(head: Array(bytes[..<start]), chunks: chunks)
    }

    /// Writes `bytes`, opens and reads all of it, and returns the refusal's message.
    static func refusal(_ bytes: [UInt8], _ dir: TemporaryDirectory, _ identities: [AgeIdentity]) throws -> ArchiveError? {
        let path = dir.file("tampered.age")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            let file = try open(path, identities)
            _ = try file.read(count: Int(try file.size), at: 0)
            return nil
        } catch let error as ArchiveError {
            return error
        }
    }

    @Test func eachKindOfDamageIsRefusedWithItsOwnMessage() throws {
        let dir = try TemporaryDirectory()
        let (b, _) = try Self.newIdentity(dir, "b")
        let (other, _) = try Self.newIdentity(dir, "other")
        let good = try Self.pieces(dir, b)
        #expect(try Self.refusal(good.bytes, dir, [b]) == nil)

        func expectRefusal(_ bytes: [UInt8], _ identities: [AgeIdentity], _ says: String, _ comment: Comment) throws {
            let error = try Self.refusal(bytes, dir, identities)
            #expect(error?.message.contains(says) == true, "\(comment): \(error?.description ?? "accepted")")
            #expect(error?.exitStatus == .verificationFailed, comment)
        }
        try expectRefusal(good.bytes, [other], "none of the keys", "another station's key")

        var flipped = good
        flipped.chunks[2][100] ^= 1
        try expectRefusal(flipped.bytes, [b], "chunk 2 of 5 (file bytes", "a flipped byte in chunk 2")
        try expectRefusal(flipped.bytes, [b], "is damaged", "a flipped byte in chunk 2")

        var swapped = good
        swapped.chunks.swapAt(1, 2)
        try expectRefusal(swapped.bytes, [b], "chunk 1 of 5", "chunks 1 and 2 swapped")
        try expectRefusal(swapped.bytes, [b], "holds chunk 2's data and chunk 2 this one's: chunks 1 and 2 were swapped", "chunks 1 and 2 swapped")

        var dropped = good
        dropped.chunks.remove(at: 2)
        // The last chunk is checked first, at open: it now stands one place early.
        try expectRefusal(dropped.bytes, [b], "chunk 3 of 4 (file bytes", "chunk 2 dropped")
        try expectRefusal(dropped.bytes, [b], "holds chunk 4's data: 1 chunk was dropped before it", "chunk 2 dropped")

        var cutAtChunk = good
        cutAtChunk.chunks.removeLast()
        try expectRefusal(cutAtChunk.bytes, [b], "truncated: the file ends after chunk 3 of 4", "the last chunk dropped")

        let cutInside = Array(good.bytes.dropLast(500))
        try expectRefusal(cutInside, [b], "truncated inside chunk 4 of 5", "cut inside the last chunk")

        let headerOnly = Array(good.head.dropLast(AgePayload.nonceSize))
        try expectRefusal(headerOnly, [b], "ends after its header", "only the header left")

        // The MAC line's first base64 character changed: the MAC no longer matches.
        var badMAC = good.head
        let mac = badMAC.indices.first { i in badMAC[i...].starts(with: Array("--- ".utf8)) }! + 4
        badMAC[mac] = badMAC[mac] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        try expectRefusal(badMAC + good.chunks.flatMap { $0 }, [b], "the age header has been altered", "a changed MAC")

        var appended = good
        appended.chunks.append(good.chunks[0])
        let error = try Self.refusal(appended.bytes, dir, [b])
        #expect(error != nil, "a chunk appended after the last one")
    }

    @Test func hostileHeadersAreRefusedWithBoundedWork() throws {
        let dir = try TemporaryDirectory()
        let (b, _) = try Self.newIdentity(dir, "b")
        let prefix = Array("age-encryption.org/v1\n".utf8)
        let cases: [(bytes: [UInt8], says: String)] = [
            (prefix + Array(repeating: UInt8(ascii: "A"), count: 200_000), "longer than"),
            (prefix + Array("-> X25519\n".utf8), "truncated"),
            (prefix + Array("->  X25519 a\n\n--- x\n".utf8), "empty"),
            (prefix + Array("-> X25519 AAAA\n====\n".utf8), "canonical base64"),
            (prefix + Array("garbage\n".utf8), "expected a stanza"),
            (prefix + Array("-> scrypt c2FsdA 18\nAAAA\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n".utf8) + [UInt8](repeating: 0, count: 40), "passphrase"),
            (prefix + Array("-> X25519 AAAA\nAAAA\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n".utf8) + [UInt8](repeating: 0, count: 40), "damaged X25519 stanza"),
        ]
        for (bytes, says) in cases {
            let error = try Self.refusal(bytes, dir, [b])
            #expect(error?.message.contains(says) == true, "\(says): \(error?.description ?? "accepted")")
        }
    }

    @Test func keyFilesOfTheWrongKindAreNamed() throws {
        let dir = try TemporaryDirectory()
        let (b, bFile) = try Self.newIdentity(dir, "b")
        try "\(b.recipient)\n".write(toFile: dir.file("b.age.pub"), atomically: true, encoding: .utf8)
        #expect(throws: ArchiveError.self) { try AgeKeyFile.identities(dir.file("b.age.pub")) }
        #expect(throws: ArchiveError.self) { try AgeKeyFile.recipients(bFile) }
        #expect(try AgeKeyFile.recipients(dir.file("b.age.pub")) == [b.recipient])
        // One changed character breaks the Bech32 checksum.
        var text = try String(contentsOfFile: bFile, encoding: .utf8)
        text = text.replacingOccurrences(of: "AGE-SECRET-KEY-1Q", with: "AGE-SECRET-KEY-1P").replacingOccurrences(of: "AGE-SECRET-KEY-1A", with: "AGE-SECRET-KEY-1C")
        let lines = text.split(separator: "\n")
        var last = Array(lines.last!.utf8)
        last[20] = last[20] == UInt8(ascii: "Q") ? UInt8(ascii: "P") : UInt8(ascii: "Q")
        try (lines.dropLast().joined(separator: "\n") + "\n" + String(decoding: last, as: UTF8.self) + "\n").write(toFile: bFile, atomically: true, encoding: .utf8)
        do {
            _ = try AgeKeyFile.identities(bFile)
            Issue.record("a damaged key was accepted")
        } catch let error as ArchiveError {
            #expect(error.message.contains("damaged"), "\(error)")
        }
    }

    @Test func anEncryptedArchiveReadsAsThePlainOneAndItsScratchIsSealed() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let (b, _) = try Self.newIdentity(dir, "b")
        var options = ArchiveOptions(station: "test", tool: "tests")
        options.encryptTo = [b.recipient]
        let writer = try ArchiveWriter(path: dir.file("a.mfa.age"), signingKey: key, options: options)
        try writer.beginUser(UserInfo(address: "alice@example.com"))
        let inbox = try writer.folder(FolderInfo(path: ["INBOX"]))
        var bodies: [[UInt8]] = []
        // Random letters, which compress to about 5 bits each: some 2 MB of archive, many 64 KiB chunks.
        var generator = SplitMix64(seed: 11)
        for n in 0..<60 {
            let letters = (0..<(40_000 + n * 1_001)).map { _ in UInt8.random(in: 65...90, using: &generator) }
            let body = SampleArchive.message(n) + letters
            bodies.append(body)
            try writer.message(MessageInfo(flags: [.seen], keywords: [], internalDate: InternalDate(epochSeconds: 1_700_000_000)), inFolder: inbox, body: MemoryBody(body))
        }
        _ = try writer.finish()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: dir.file("a.mfa.age")))
        #expect(bytes.starts(with: AgeHeader.versionLine))
        // No message text shows through.
        #expect(bytes.range(of: Data("Subject: message 7".utf8)) == nil)

        #expect(throws: ArchiveError.self) { try ArchiveReader(path: dir.file("a.mfa.age")) }
        let reader = try ArchiveReader(path: dir.file("a.mfa.age"), identities: [b])
        #expect(reader.isEncrypted)
        try reader.verifySignature(with: key.publicKey)
        let manifest = try reader.loadManifest()
        let items = try reader.items(manifest)
        var read: [[UInt8]] = []
        while let (_, body) = try items.next() {
            var collected: [UInt8] = []
            try body.stream { collected.append(contentsOf: $0) }
            read.append(collected)
        }
        #expect(read == bodies)

        // What inspect reads (seek table, statement, the manifest's head) costs a few of the file's chunks.
        let inspecting = try ArchiveReader(path: dir.file("a.mfa.age"), identities: [b])
        _ = try inspecting.statementWithoutSignature()
        _ = try inspecting.manifestHead()
        let decrypting = try #require(inspecting.file as? AgeDecryptingFile)
        let chunks = bytes.count / AgePayload.sealedChunkSize + 1
        #expect(chunks > 20 && decrypting.chunksOpened <= 6, "\(decrypting.chunksOpened) of \(chunks) chunks decrypted")

        // Scratch files of an encrypted export hold no plaintext.
        let scratch = try ScratchFile(in: dir.path, prefix: "s.", sealed: true)
        let text = Array(String(repeating: "plaintext line\n", count: 100_000).utf8)
        try scratch.append(text)
        try scratch.flush()
        let raw = try scratch.file.read(count: text.count, at: 0)
        #expect(raw != text && !Data(raw).contains(Data("plaintext line".utf8)))
        var back: [UInt8] = []
        try scratch.read(from: 0, to: Int64(text.count)) { piece, _ in back.append(contentsOf: piece) }
        #expect(back == text)
        // Read again from an offset inside a ChaCha20 block.
        var middle: [UInt8] = []
        try scratch.read(from: 1_000_003, to: 1_000_103) { piece, _ in middle.append(contentsOf: piece) }
        #expect(middle == Array(text[1_000_003..<1_000_103]))
    }
}

extension Data {
    func contains(_ other: Data) -> Bool { range(of: other) != nil }
}
