import TestSupport
import Foundation
import MailModel
import Testing
@testable import FerryArchive

/// Single flipped bytes at every level (entry data, compressed frames, manifest, seek table),
/// truncation, junk, and files that are not MailFerry archives at all.
@Suite(.blocking) struct ByteTamperTests {
    /// The sample's frames: item data, manifest, statement and signature.
    static let dataFrame = 0, manifestFrame = 1, lastFrame = 2

    func sample(_ dir: TemporaryDirectory, _ key: SigningKey) throws -> (ArchiveParts, ForgedFile) {
        let parts = try ArchiveParts.sample(key: key, in: dir)
        let file = try parts.file()
        #expect(file.frames.count == 3)
        return (parts, file)
    }

    // MARK: Flipped bytes

    @Test func aFlippedByteInAnyItemIsRefusedByName() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let (parts, _) = try sample(dir, key)
        for (i, member) in parts.members.enumerated() {
            var tampered = parts
            tampered.members[i].data = member.data.flipping(member.data.count / 2)
            let path = dir.file("item\(i).mfa")
            try tampered.write(to: path)  // recompressed: zstd is fine, the statement still matches
            try expectRefused(path, trust: key.publicKey, in: dir, stage: .items,
                              at: member.name, saying: "SHA-256")
            // Random access to that one entry refuses it too.
            let reader = try ArchiveReader(path: path)
            try reader.verifySignature(with: key.publicKey)
            let manifest = try reader.loadManifest()
            let entries = manifest.entries()
            while let record = try entries.next() {
                guard record.path == member.name else { continue }
                let error = #expect(throws: ArchiveError.self) { try reader.readEntry(record) { _ in } }
                #expect(error?.message.contains("SHA-256") == true, "\(String(describing: error))")
                #expect(error?.location.contains(member.name) == true)
            }
        }
    }

    @Test func aFlippedCompressedByteInADataFrameIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let (_, file) = try sample(dir, key)
        let frame = file.frames[Self.dataFrame].compressed
        // The frame magic: refused before decoding.
        var magic = file
        magic.frames[Self.dataFrame].compressed = frame.flipping(0)
        try magic.write(to: dir.file("magic.mfa"))
        try expectRefused(dir.file("magic.mfa"), trust: key.publicKey, in: dir, stage: .items,
                          at: "frame 0", saying: "zstd frame magic")
        // The content checksum at the very end: every entry's bytes are right, the frame is not.
        var checksum = file
        checksum.frames[Self.dataFrame].compressed = frame.flipping(frame.count - 1)
        try checksum.write(to: dir.file("checksum.mfa"))
        try expectRefused(dir.file("checksum.mfa"), trust: key.publicKey, in: dir, stage: .items,
                          at: "frame 0", saying: "zstd data is damaged")
        // Anywhere else: refused, naming the frame (zstd) or an entry (tar or SHA-256) it damaged.
        // zstd's encoding is not canonical: a few bits (the descriptor's unused bit 4, some table
        // and padding bits) can flip without changing a decoded byte. Such a frame still carries
        // exactly the signed content, so it must verify; every other flip must be refused.
        let plain = try file.plain(Self.dataFrame)
        for index in stride(from: 4, to: frame.count - 4, by: max(1, frame.count / 23)) {
            var tampered = file
            tampered.frames[Self.dataFrame].compressed = frame.flipping(index, with: 0x10)
            let path = dir.file("data\(index).mfa")
            try tampered.write(to: path)
            if (try? tampered.plain(Self.dataFrame)) == plain {
                _ = try ArchiveVerifier.verify(path: path, trust: key.publicKey)
                continue
            }
            let error = try expectRefused(path, trust: key.publicKey, in: dir, stage: .items)
            if let error {
                #expect(error.location.contains("frame 0") || error.location.contains("u/") || error.message.contains("tar"),
                        "byte \(index): \(error)")
            }
        }
    }

    /// Not a refusal: the zstd frame header's unused bit (descriptor bit 4) is ignored by decoders, so
    /// flipping it yields the same decoded bytes, all of which the signature chain still covers.
    @Test func theUnusedFrameHeaderBitChangesNothing() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let (_, file) = try sample(dir, key)
        var tampered = file
        tampered.frames[Self.dataFrame].compressed = file.frames[Self.dataFrame].compressed.flipping(4, with: 0x10)
        #expect(try tampered.plain(Self.dataFrame) == file.plain(Self.dataFrame))
        try tampered.write(to: dir.file("a.mfa"))
        _ = try ArchiveVerifier.verify(path: dir.file("a.mfa"), trust: key.publicKey)
    }

    @Test func aFlippedCompressedByteInTheManifestOrLastFrameIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let (_, file) = try sample(dir, key)
        for (frameIndex, stage) in [(Self.manifestFrame, ReadStage.manifest), (Self.lastFrame, .open)] {
            let frame = file.frames[frameIndex].compressed
            for index in [0, frame.count / 3, frame.count / 2, frame.count - 1] {
                var tampered = file
                tampered.frames[frameIndex].compressed = frame.flipping(index, with: 0x40)
                let path = dir.file("f\(frameIndex)-\(index).mfa")
                try tampered.write(to: path)
                if try (try? tampered.plain(frameIndex)) == file.plain(frameIndex) {
                    _ = try ArchiveVerifier.verify(path: path, trust: key.publicKey)  // same decoded bytes
                    continue
                }
                try expectRefused(path, trust: key.publicKey, in: dir, stage: stage, kind: nil)
            }
        }
    }

    @Test func aFlippedManifestByteUnderTheOldStatementIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let (parts, _) = try sample(dir, key)
        let text = String(decoding: parts.manifest, as: UTF8.self)
        let positions = [
            10,                                                                     // the archive record
            try #require(text.range(of: "alice")).lowerBound.utf16Offset(in: text), // a user
            try #require(text.range(of: "\"sha256\":\"")).upperBound.utf16Offset(in: text) + 5, // an entry hash
            parts.manifest.count - 1,                                               // the final newline
        ]
        for index in positions {
            var tampered = parts
            tampered.manifest = parts.manifest.flipping(index)
            let path = dir.file("m\(index).mfa")
            try tampered.write(to: path)  // recompressed; statement and signature are the old ones
            try expectRefused(path, trust: key.publicKey, in: dir, stage: .manifest,
                              at: EntryPath.manifest, saying: "does not match the SHA-256 in the signed statement")
        }
        // A manifest one byte longer or shorter moves the statement frame's offsets.
        for (name, manifest) in [("longer", parts.manifest + [0x0A]), ("shorter", Array(parts.manifest.dropLast()))] {
            var tampered = parts
            tampered.manifest = manifest
            try tampered.write(to: dir.file(name + ".mfa"))
            try expectRefused(dir.file(name + ".mfa"), trust: key.publicKey, in: dir, kind: nil)
        }
    }

    @Test func everyFlippedSeekTableByteIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let (_, file) = try sample(dir, key)
        let bytes = file.bytes
        let tableSize = file.seekTable.encodedSize
        for index in (bytes.count - tableSize)..<bytes.count {
            let path = dir.file("t\(index).mfa")
            try Data(bytes.flipping(index, with: 0xFF)).write(to: URL(fileURLWithPath: path))
            let error = try expectRefused(path, trust: key.publicKey, in: dir, kind: nil)
            let stage = try readLikeImport(path, trust: key.publicKey)?.stage
            #expect(stage == .open || stage == .signature, "seek table byte \(index - bytes.count + tableSize): \(String(describing: error))")
            if let error { #expect(error.kind == .format || error.kind == .verification) }
        }
    }

    // MARK: Truncation and junk

    @Test func aTruncatedArchiveIsRefusedWherEverItIsCut() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let (_, file) = try sample(dir, key)
        let bytes = file.bytes
        let offsets = file.frameOffsets
        let cuts = [
            ("inside the data frame", offsets[1] / 2),
            ("at the data/manifest frame boundary", offsets[1]),
            ("inside the manifest frame", offsets[1] + 7),
            ("at the manifest/last frame boundary", offsets[2]),
            ("inside the last frame", offsets[2] + 9),
            ("before the seek table", offsets[3]),
            ("inside the seek table", bytes.count - 20),
            ("one byte short", bytes.count - 1),
        ]
        for (what, length) in cuts {
            let path = dir.file("cut\(length).mfa")
            try Data(bytes.prefix(length)).write(to: URL(fileURLWithPath: path))
            let error = try expectRefused(path, trust: key.publicKey, in: dir, stage: .open, kind: .format, at: path)
            #expect(error?.message.contains("seek table") == true || error?.message.contains("too short") == true, "\(what): \(String(describing: error))")
        }
        let tiny = dir.file("tiny.mfa")
        try Data(bytes.prefix(12)).write(to: URL(fileURLWithPath: tiny))
        try expectRefused(tiny, trust: key.publicKey, in: dir, stage: .open, kind: .format, saying: "too short")
    }

    @Test func aFrameCutShortWithAMatchingSeekTableIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let (_, file) = try sample(dir, key)
        for (frameIndex, stage) in [(Self.dataFrame, ReadStage.items), (Self.manifestFrame, .manifest), (Self.lastFrame, .open)] {
            var tampered = file
            tampered.frames[frameIndex].compressed.removeLast(tampered.frames[frameIndex].compressed.count / 2)
            let path = dir.file("short\(frameIndex).mfa")
            try tampered.write(to: path)
            try expectRefused(path, trust: key.publicKey, in: dir, stage: stage, at: "frame \(frameIndex)", saying: "truncated")
        }
    }

    @Test func junkAfterTheSeekTableIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let (_, file) = try sample(dir, key)
        let bytes = file.bytes
        for (name, junk) in [("byte", [UInt8(0)]), ("text", Array("junk junk junk\n".utf8)), ("table", file.seekTable.encoded())] {
            let path = dir.file("\(name).mfa")
            try Data(bytes + junk).write(to: URL(fileURLWithPath: path))
            try expectRefused(path, trust: key.publicKey, in: dir, stage: .open, kind: .format, at: path, saying: "seek table")
        }
    }

    @Test func anExtraFrameBeforeTheSeekTableIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let (_, file) = try sample(dir, key)
        let extra = try ForgedFile.compress(TarMember.regular("notes.txt", Array("hello\n".utf8)).encoded() + [UInt8](repeating: 0, count: 1024))

        // Not listed in the seek table: the frames no longer fill the file.
        let unlisted = dir.file("unlisted.mfa")
        try Data(file.frames.flatMap(\.compressed) + extra.compressed + file.seekTable.encoded()).write(to: URL(fileURLWithPath: unlisted))
        try expectRefused(unlisted, trust: key.publicKey, in: dir, stage: .open, kind: .format, saying: "seek table frames cover")

        // Listed: it becomes the last frame, which must hold the statement.
        var listed = file
        listed.frames.append(extra)
        try listed.write(to: dir.file("listed.mfa"))
        try expectRefused(dir.file("listed.mfa"), trust: key.publicKey, in: dir, stage: .open,
                          saying: "expected mailferry/statement.json in the last frame")

        // A second copy of the statement frame: the signed manifest region no longer ends where the statement starts.
        var twice = file
        twice.frames.append(file.frames[Self.lastFrame])
        try twice.write(to: dir.file("twice.mfa"))
        try expectRefused(dir.file("twice.mfa"), trust: key.publicKey, in: dir, stage: .signature,
                          saying: "manifest region is not the size")
    }

    @Test func anExtraSkippableFrameIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let (parts, file) = try sample(dir, key)
        var skippable: [UInt8] = []
        skippable.appendLE(0x184D_2A50)
        skippable.appendLE(8)
        skippable += Array("hidden!!".utf8)
        let frame = ForgedFile.Frame(compressed: skippable, declaredSize: 0)

        let unlisted = dir.file("unlisted.mfa")
        try Data(file.frames.flatMap(\.compressed) + skippable + file.seekTable.encoded()).write(to: URL(fileURLWithPath: unlisted))
        try expectRefused(unlisted, trust: key.publicKey, in: dir, stage: .open, kind: .format, saying: "seek table frames cover")

        var last = file
        last.frames.append(frame)
        try last.write(to: dir.file("last.mfa"))
        try expectRefused(dir.file("last.mfa"), trust: key.publicKey, in: dir, stage: .open, at: "frame 3", saying: "declares 0 decompressed bytes")

        // Between the data and the manifest, with a statement re-signed to point past it.
        var between = file
        between.frames.insert(frame, at: Self.manifestFrame)
        var resigned = parts
        try resigned.editStatement(with: key) { $0.manifest.frame += 1 }
        let lastFrame = try ArchiveParts.statementFrame(resigned)
        between.frames[between.frames.count - 1] = lastFrame
        try between.write(to: dir.file("between.mfa"))
        try expectRefused(dir.file("between.mfa"), trust: key.publicKey, in: dir, stage: .items, at: "frame 1", saying: "declares 0 decompressed bytes")
    }

    // MARK: Not MailFerry archives

    @Test func anEmptyFileIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        _ = FileManager.default.createFile(atPath: dir.file("empty.mfa"), contents: Data())
        try expectRefused(dir.file("empty.mfa"), trust: key.publicKey, in: dir, stage: .open, kind: .format, saying: "too short")
    }

    @Test func randomBytesAreRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var random = SplitMix64(seed: 0x4D46_4131)
        for size in [17, 4096, 65_536] {
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &random) }
            let path = dir.file("random\(size).mfa")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            try expectRefused(path, trust: key.publicKey, in: dir, stage: .open, kind: .format, saying: "seek table")
        }
    }

    @Test func aPlainZstdTarIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let source = dir.file("files")
        try FileManager.default.createDirectory(atPath: source + "/u/1/m/1", withIntermediateDirectories: true)
        try Data("hello".utf8).write(to: URL(fileURLWithPath: source + "/u/1/m/1/1.eml"))
        try Data("notes".utf8).write(to: URL(fileURLWithPath: source + "/notes.txt"))
        let path = dir.file("plain.tar.zst")
        #expect(try run(["tar", "--zstd", "-cf", path, "-C", source, "."]).status == 0)
        try FileManager.default.removeItem(atPath: source)
        try expectRefused(path, trust: key.publicKey, in: dir, stage: .open, kind: .format, saying: "no zstd seek table")
    }

    @Test func aSeekableTarWithoutMailFerryEntriesIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let tar = TarMember.regular("notes.txt", Array("notes\n".utf8)).encoded() + [UInt8](repeating: 0, count: 1024)
        try ForgedFile(frames: [ForgedFile.compress(tar)]).write(to: dir.file("a.mfa"))
        try expectRefused(dir.file("a.mfa"), trust: key.publicKey, in: dir, stage: .open,
                          saying: "expected mailferry/statement.json in the last frame, found \"notes.txt\"")
        // Only end blocks.
        try ForgedFile(frames: [ForgedFile.compress([UInt8](repeating: 0, count: 1024))]).write(to: dir.file("b.mfa"))
        try expectRefused(dir.file("b.mfa"), trust: key.publicKey, in: dir, stage: .open, saying: "lacks mailferry/statement.json")
    }
}

extension ArchiveParts {
    /// The compressed last frame (statement, signature, end blocks) for these parts.
    static func statementFrame(_ parts: ArchiveParts) throws -> ForgedFile.Frame {
        try ForgedFile.compress(
            TarMember.regular(EntryPath.statement, parts.statement).encoded()
                + TarMember.regular(EntryPath.signature, parts.signature).encoded()
                + [UInt8](repeating: 0, count: 1024))
    }
}

extension ByteTamperTests {
    /// `verify` names every damaged entry in one run, not only the first.
    @Test func everyDamagedItemIsNamedInOneRun() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var (parts, _) = try sample(dir, key)
        let victims = [1, parts.members.count - 1].map { parts.members[$0].name }
        for name in victims {
            let i = parts.index(of: name)
            parts.members[i].data = parts.members[i].data.flipping(0)
        }
        try parts.write(to: dir.file("two.mfa"))
        let error = #expect(throws: ArchiveError.self) { try ArchiveVerifier.verify(path: dir.file("two.mfa"), trust: key.publicKey) }
        #expect(error?.message.contains("2 problems") == true, "\(String(describing: error))")
        for name in victims { #expect(error?.message.contains(name) == true, "\(name) is named") }
    }
}
