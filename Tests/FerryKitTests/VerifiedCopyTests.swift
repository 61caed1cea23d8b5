import FerryKit
import Foundation
import MailModel
import SystemLayer
import TestSupport
import Testing

/// `VerifiedCopy` on ordinary folders: resuming a partial copy from its verified prefix, starting over when the
/// prefix differs, and never leaving or overwriting anything wrong under a final name.
@Suite struct VerifiedCopyTests {
    /// A few MiB and a few bytes, so that chunks and prefixes do not fall on round numbers.
    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    struct Setup {
        let folder: TemporaryDirectory
        let source: String
        let bytes: [UInt8]
        var medium: String { folder.file("medium") }
        var target: String { folder.file("medium/a.mfa") }

        init(size: Int = 3 * (1 << 20) + 12345) throws {
            folder = try TemporaryDirectory(prefix: "mailferry-copy")
            bytes = VerifiedCopyTests.randomBytes(size, seed: 10)
            source = try folder.write("a.mfa", bytes)
            try folder.makeDirectory("medium")
        }

        func run() throws -> (events: [VerifiedCopy.Event], copied: [VerifiedCopy.Copied]) {
            var events: [VerifiedCopy.Event] = []
            let copied = try VerifiedCopy(sources: [source], destination: medium, quiet: true).run { events.append($0) }
            return (events, copied)
        }

        func contents(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }
        func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }
    }

    @Test func aFreshCopyMatchesTheSourceAndLeavesNoPartial() throws {
        let setup = try Setup()
        let (events, copied) = try setup.run()
        #expect(
            copied == [
                VerifiedCopy.Copied(
                    path: setup.target, size: Int64(setup.bytes.count), sha256: SHA256.hex(setup.bytes), wasThere: false
                )
            ])
        #expect(events.count == 1)
        #expect(try setup.contents(setup.target) == setup.bytes)
        #expect(!setup.exists(setup.target + ".partial"))
    }

    @Test func aPartialCopyWhosePrefixMatchesIsContinuedFromItsEnd() throws {
        let setup = try Setup()
        let prefix = 1_500_001
        try Data(setup.bytes[..<prefix]).write(to: URL(fileURLWithPath: setup.target + ".partial"))
        let (events, copied) = try setup.run()
        guard case .resumed(let path, let from) = events.first else {
            Issue.record("expected a resume first, got \(events)")
            return
        }
        #expect(path == setup.target && from == Int64(prefix))
        #expect(copied.first?.sha256 == SHA256.hex(setup.bytes))
        #expect(try setup.contents(setup.target) == setup.bytes)
        #expect(!setup.exists(setup.target + ".partial"))
    }

    @Test func aDamagedPrefixMakesTheCopyStartOver() throws {
        let setup = try Setup()
        var damaged = Array(setup.bytes[..<(2 << 20)])
        damaged[1000] ^= 0x01
        try Data(damaged).write(to: URL(fileURLWithPath: setup.target + ".partial"))
        let (events, copied) = try setup.run()
        guard case .startingOver(_, let reason) = events.first else {
            Issue.record("expected a start over first, got \(events)")
            return
        }
        #expect(
            reason.contains(
                "the partial copy's 2097152 bytes read back from the medium have SHA-256 \(SHA256.hex(damaged))"))
        #expect(reason.contains("the source's first 2097152 bytes \(SHA256.hex(Array(setup.bytes[..<(2 << 20)])))"))
        #expect(copied.first?.sha256 == SHA256.hex(setup.bytes))
        #expect(try setup.contents(setup.target) == setup.bytes)
    }

    @Test func aPartialLongerThanTheSourceMakesTheCopyStartOver() throws {
        let setup = try Setup(size: 100_000)
        try Data(setup.bytes + [1, 2, 3]).write(to: URL(fileURLWithPath: setup.target + ".partial"))
        let (events, _) = try setup.run()
        guard case .startingOver(_, let reason) = events.first else {
            Issue.record("expected a start over first, got \(events)")
            return
        }
        #expect(reason.contains("has 100003 bytes, more than the source's 100000"))
        #expect(try setup.contents(setup.target) == setup.bytes)
    }

    @Test func aMatchingFileAlreadyThereIsReadBackNotRewritten() throws {
        let setup = try Setup(size: 200_000)
        try Data(setup.bytes).write(to: URL(fileURLWithPath: setup.target))
        let before = try #require(try SystemCall.lstatIfPresent(setup.target))
        let (_, copied) = try setup.run()
        #expect(copied.first?.wasThere == true)
        #expect(copied.first?.sha256 == SHA256.hex(setup.bytes))
        let after = try #require(try SystemCall.lstatIfPresent(setup.target))
        #expect(
            after.st_ino == before.st_ino && after.st_mtim.tv_sec == before.st_mtim.tv_sec
                && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec)
    }

    @Test func aDifferentFileOfTheSameSizeFailsAndIsMovedOffTheName() throws {
        let setup = try Setup(size: 200_000)
        var other = setup.bytes
        other[150_000] ^= 0x80
        try Data(other).write(to: URL(fileURLWithPath: setup.target))
        do {
            _ = try setup.run()
            Issue.record("a copy that differs from its source passed")
        } catch let error as FerryError {
            #expect(error.exitStatus == .verificationFailed)
            #expect(error.description.contains("SHA-256 \(SHA256.hex(other)), the source's \(SHA256.hex(setup.bytes))"))
            #expect(error.description.contains(setup.target + ".bad"))
        }
        #expect(!setup.exists(setup.target))
        #expect(try setup.contents(setup.target + ".bad") == other)
    }

    @Test func theFilesAfterOneThatFailsAreStillCopied() throws {
        let setup = try Setup(size: 50_000)
        try Data(setup.bytes.reversed()).write(to: URL(fileURLWithPath: setup.target))
        let second = try setup.folder.write("b.mfa", Array(setup.bytes.prefix(1000)))
        var events: [VerifiedCopy.Event] = []
        #expect(throws: FerryError.self) {
            try VerifiedCopy(sources: [setup.source, second], destination: setup.medium, quiet: true).run {
                events.append($0)
            }
        }
        guard case .verified(let copied) = events.last else {
            Issue.record("the second file was not reported verified: \(events)")
            return
        }
        #expect(copied.path == setup.folder.file("medium/b.mfa"))
        #expect(try setup.contents(copied.path) == Array(setup.bytes.prefix(1000)))
        #expect(setup.exists(setup.target + ".bad") && !setup.exists(setup.target))
    }

    @Test func aFileOfAnotherSizeUnderTheNameIsRefusedBeforeAnythingIsWritten() throws {
        let setup = try Setup(size: 200_000)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: setup.target))
        do {
            _ = try setup.run()
            Issue.record("copy replaced another file")
        } catch let error as FerryError {
            #expect(error.exitStatus == .usage)
            #expect(error.description.contains("exists with 3 bytes"))
        }
        #expect(try setup.contents(setup.target) == [1, 2, 3])
        #expect(!setup.exists(setup.target + ".partial"))
    }

    @Test func twoSourcesOfOneNameAreRefused() throws {
        let setup = try Setup(size: 10)
        try setup.folder.makeDirectory("other")
        let second = try setup.folder.write("other/a.mfa", [1])
        #expect(throws: FerryError.self) {
            try VerifiedCopy(sources: [setup.source, second], destination: setup.medium, quiet: true).run { _ in }
        }
        #expect(!setup.exists(setup.target + ".partial"))
    }

    @Test func anEmptyFileIsCopiedToo() throws {
        let setup = try Setup(size: 0)
        let (_, copied) = try setup.run()
        #expect(copied.first?.sha256 == SHA256.hex([]))
        #expect(try setup.contents(setup.target) == [])
    }
    /// FAT32's largest file checked on real files: sparse files of 4 GiB + 1 byte and of 4 GiB - 1 byte (no disk space
    /// taken), against a folder whose file system is given FAT's kind and room for both. The larger is refused before a
    /// byte is written, with the volume-size advice; the other passes the check (then the copy runs out of the small
    /// space the test folder reports, which shows the check let it through).
    @Test func aSparseFileOver4GiBIsRefusedOnFATAndOneOf4GiBMinus1PassesTheCheck() throws {
        let folder = try TemporaryDirectory(prefix: "mailferry-copy-sparse")
        try folder.makeDirectory("medium")
        func sparse(_ name: String, _ size: Int64) throws -> String {
            let path = folder.file(name)
            #expect(FileManager.default.createFile(atPath: path, contents: nil))
            let handle = try #require(FileHandle(forWritingAtPath: path))
            try handle.truncate(atOffset: UInt64(size))
            try handle.close()
            return path
        }
        let over = try sparse("over.mfa", MediumCheck.fatLargestFile + 2)
        let largest = try sparse("largest.mfa", MediumCheck.fatLargestFile)
        var copy = VerifiedCopy(sources: [over], destination: folder.file("medium"), quiet: true)
        copy.fileSystemInfo = { _ in FileSystemInfo(type: MediumCheck.fatType, blockSize: 32768, availableBytes: 64 << 30) }
        let error = try #require(throws: FerryError.self) { try copy.run { _ in } }
        #expect(error.exitStatus == .usage)
        #expect(error.description.contains("over.mfa is 4.3 GB (4294967297 bytes)"), "\(error.description)")
        #expect(error.description.contains("`export --volume-size fat32`"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.file("medium")).isEmpty)

        // 4 GiB - 1 byte fits FAT32: the check passes, and the copy is then stopped by the free space this test gives.
        copy.sources = [largest]
        copy.fileSystemInfo = { _ in FileSystemInfo(type: MediumCheck.fatType, blockSize: 32768, availableBytes: 1 << 20) }
        let space = try #require(throws: FerryError.self) { try copy.run { _ in } }
        #expect(space.description.contains("not enough space"), "\(space.description)")
        #expect(!space.description.contains("4 GiB - 1 byte ("), "\(space.description)")
        #expect(space.description.contains("`export --volume-size 1M`"), "\(space.description)")
    }
}
