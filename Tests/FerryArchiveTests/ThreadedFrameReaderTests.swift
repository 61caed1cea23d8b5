import TestSupport
import Foundation
import MailModel
import Testing
@testable import FerryArchive

/// `verify` decompresses on a second thread (`ThreadedFrameReader`). What the tar reader gets from it must be what a
/// `FrameReader` gives on one thread: the same bytes, and a damaged or cut frame refused with the same error at the
/// same place (which `expectRefused` checks against the one-threaded walk import makes), after the good frames
/// before it were handed over, and without leaving either thread waiting.
@Suite struct ThreadedFrameReaderTests {
    /// A message this large spans several frames (`FramePipeline.hardFrameSize` is 4 MiB) and many hand-over chunks.
    static let bigMessage = 10 << 20

    func sample(_ dir: TemporaryDirectory, _ key: SigningKey) throws -> (ArchiveParts, ForgedFile) {
        let parts = try ArchiveParts.sample(key: key, in: dir, bigMessage: Self.bigMessage)
        let file = try parts.file()
        // Item frames, then the manifest's and the last.
        #expect(file.frames.count >= 5)
        return (parts, file)
    }

    /// The item frames of `path` through `ThreadedFrameReader`, read in pieces of `piece` bytes.
    func threadedBytes(_ path: String, key: SigningKey, piece: Int = TarReader.bufferSize) throws -> [UInt8] {
        let (archive, _) = try VerifiedArchive.open(path, trusting: key.publicKey)
        let frames = ThreadedFrameReader { try archive.openReader().itemFrames() }
        return try readAll(frames, piece: piece)
    }

    func readAll(_ source: TarByteSource, piece: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: piece, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = try source.read(into: buffer)
            if n == 0 { break }
            bytes += buffer.prefix(n)
        }
        return bytes
    }

    @Test func theThreadedReaderGivesExactlyWhatAFrameReaderGives() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let (parts, _) = try sample(dir, key)
        let path = dir.file("big.mfa")
        try parts.write(to: path)
        let reader = try ArchiveReader(path: path)
        try reader.verifySignature(with: key.publicKey)
        let plain = try readAll(try reader.itemFrames(), piece: TarReader.bufferSize)
        #expect(plain.count > Self.bigMessage)
        #expect(try threadedBytes(path, key: key) == plain)
        // A caller whose buffer is smaller than a chunk gets every byte too, in order.
        #expect(try threadedBytes(path, key: key, piece: 300_007) == plain)
        // Lent chunks (the tar reader's way), after a first smaller read that leaves a part of a chunk.
        let (archive, _) = try VerifiedArchive.open(path, trusting: key.publicKey)
        let frames = ThreadedFrameReader { try archive.openReader().itemFrames() }
        let first = UnsafeMutableRawBufferPointer.allocate(byteCount: 1000, alignment: 16)
        defer { first.deallocate() }
        var lent = Array(first.prefix(try frames.read(into: first)))
        while let chunk = try frames.lendNext(), !chunk.isEmpty { lent += chunk }
        #expect(lent == plain)
        #expect(try frames.lendNext()?.isEmpty == true)
        _ = try ArchiveVerifier.verify(path: path, trust: key.publicKey)
    }

    @Test func aDamagedFrameAfterGoodOnesIsRefusedAsOnOneThread() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let (_, file) = try sample(dir, key)
        // Frame 1 lies inside the big message: frame 0's chunks have gone over before it is read.
        let frame = file.frames[1].compressed
        var magic = file
        magic.frames[1].compressed = frame.flipping(0)
        try magic.write(to: dir.file("magic.mfa"))
        try expectRefused(dir.file("magic.mfa"), trust: key.publicKey, in: dir, stage: .items,
                          at: "frame 1", saying: "zstd frame magic")
        var checksum = file
        checksum.frames[1].compressed = frame.flipping(frame.count - 1)
        try checksum.write(to: dir.file("checksum.mfa"))
        try expectRefused(dir.file("checksum.mfa"), trust: key.publicKey, in: dir, stage: .items,
                          at: "frame 1", saying: "zstd data is damaged")
    }

    @Test func aFrameCutShortAfterGoodOnesIsRefusedAsOnOneThread() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let (_, file) = try sample(dir, key)
        for index in [1, 2] {
            var cut = file
            cut.frames[index].compressed.removeLast(cut.frames[index].compressed.count / 2)
            let path = dir.file("cut\(index).mfa")
            try cut.write(to: path)
            try expectRefused(path, trust: key.publicKey, in: dir, stage: .items, at: "frame \(index)", saying: "truncated")
        }
    }

    @Test func theErrorIsGivenAgainOnEveryLaterRead() throws {
        let failure = ArchiveError(.verification, "x.mfa: frame 3", "the zstd frame is truncated")
        let frames = ThreadedFrameReader { throw failure }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 16)
        defer { buffer.deallocate() }
        for _ in 0..<3 {
            let error = #expect(throws: ArchiveError.self) { try frames.read(into: buffer) }
            #expect(error == failure)
        }
    }

    @Test func aReaderDroppedEarlyDoesNotLeaveTheThreadWaiting() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let (parts, _) = try sample(dir, key)
        let path = dir.file("stop.mfa")
        try parts.write(to: path)
        let (archive, _) = try VerifiedArchive.open(path, trusting: key.publicKey)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: TarReader.bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        for _ in 0..<5 {
            // One chunk read, then dropped while the decompressing thread may be waiting for a free buffer.
            var frames: ThreadedFrameReader? = ThreadedFrameReader { try archive.openReader().itemFrames() }
            #expect(try frames!.read(into: buffer) > 0)
            frames = nil
            #expect(frames == nil)
        }
        // The archive still verifies afterwards (no thread holds anything it needs).
        _ = try ArchiveVerifier.verify(path: path, trust: key.publicKey)
    }
}
