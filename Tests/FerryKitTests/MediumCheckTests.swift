import FerryKit
import MailModel
import SystemLayer
import Testing

/// The checks `copy` makes before writing a byte, decided from sizes and what the file system says: FAT32's
/// largest file and the free space. A FAT32 medium cannot be mounted everywhere the tests run (no vfat driver in
/// some kernels, no loop devices in some containers), so the rule is tested here with FAT's `f_type`.
@Suite struct MediumCheckTests {
    static let gib: Int64 = 1 << 30
    static let fat32 = FileSystemInfo(type: MediumCheck.fatType, blockSize: 32768, availableBytes: 64 * gib)

    static func refusal(_ files: [MediumCheck.File], on fileSystem: FileSystemInfo) -> FerryError? {
        do {
            try MediumCheck.check(files, destination: "/media/stick", on: fileSystem)
            return nil
        } catch {
            return error
        }
    }

    @Test func aFileLargerThanFAT32sLargestIsRefusedWithTheVolumeSizeAdvice() throws {
        let size = 4 * Self.gib + 1
        let error = try #require(
            Self.refusal([MediumCheck.File(name: "june.mfa", size: size, bytesToWrite: size)], on: Self.fat32))
        #expect(error.exitStatus == .usage)
        #expect(error.description.contains("june.mfa is 4.3 GB (4294967297 bytes)"))
        #expect(error.description.contains("/media/stick is on FAT (FAT32)"))
        #expect(error.description.contains("up to 4 GiB - 1 byte (4294967295 bytes)"))
        #expect(error.description.contains("Nothing was copied"))
        #expect(error.description.contains("`export --volume-size fat32`"))
        #expect(error.description.contains("volumes of at most 4 GiB - 1 byte each and their set statement NAME.set"))
    }

    @Test func everyFileTooLargeIsNamedAndOneThatFitsIsNot() throws {
        let files = [
            MediumCheck.File(
                name: "a.001.mfa", size: MediumCheck.fatLargestFile, bytesToWrite: MediumCheck.fatLargestFile),
            MediumCheck.File(name: "b.mfa.age", size: 5 * Self.gib, bytesToWrite: 5 * Self.gib),
            MediumCheck.File(name: "c.mfa", size: 6 * Self.gib, bytesToWrite: 6 * Self.gib),
        ]
        let error = try #require(Self.refusal(files, on: Self.fat32))
        #expect(error.description.contains("b.mfa.age is 5.4 GB (5368709120 bytes)"))
        #expect(error.description.contains("c.mfa is 6.4 GB (6442450944 bytes)"))
        #expect(!error.description.contains("a.001.mfa"))
    }

    @Test func fourGiBMinusOneFitsFAT32AndExFATHasNoLimit() {
        let largest = MediumCheck.File(
            name: "a.mfa", size: MediumCheck.fatLargestFile, bytesToWrite: MediumCheck.fatLargestFile)
        #expect(Self.refusal([largest], on: Self.fat32) == nil)
        let exFAT = FileSystemInfo(type: MediumCheck.exFATType, blockSize: 131072, availableBytes: 64 * Self.gib)
        let large = MediumCheck.File(name: "a.mfa", size: 20 * Self.gib, bytesToWrite: 20 * Self.gib)
        #expect(Self.refusal([large], on: exFAT) == nil)
        #expect(MediumCheck.largestFile(onType: MediumCheck.exFATType) == nil)
        #expect(MediumCheck.largestFile(onType: 0xEF53) == nil)
        #expect(MediumCheck.largestFile(onType: MediumCheck.fatType) == 4_294_967_295)
    }

    @Test func allFilesTogetherMustFitTheFreeSpaceCountedInWholeBlocks() throws {
        let disk = FileSystemInfo(type: 0xEF53, blockSize: 4096, availableBytes: 3 * 4096)
        let two = [
            MediumCheck.File(name: "a.mfa", size: 4096, bytesToWrite: 4096),
            MediumCheck.File(name: "b.mfa", size: 4097, bytesToWrite: 4097),
        ]
        #expect(Self.refusal(two, on: disk) == nil)
        let three = two + [MediumCheck.File(name: "c.mfa", size: 1, bytesToWrite: 1)]
        let error = try #require(Self.refusal(three, on: disk))
        #expect(error.exitStatus == .usage)
        #expect(
            error.description.contains(
                "not enough space on /media/stick: the 3 files need 16.4 KB (16384 bytes), and 12.3 KB (12288 bytes) is free"
            ))
    }

    @Test func onlyTheBytesStillToWriteCount() {
        let disk = FileSystemInfo(type: 0xEF53, blockSize: 4096, availableBytes: 8192)
        let files = [
            MediumCheck.File(name: "there.mfa", size: 1 << 20, bytesToWrite: 0),
            MediumCheck.File(name: "half.mfa", size: 1 << 20, bytesToWrite: 8192),
        ]
        #expect(Self.refusal(files, on: disk) == nil)
    }
    @Test func theAdvisedVolumeSizeFitsTheFreeSpaceAndFAT32sLargestFile() throws {
        func on(_ type: Int64, free: Int64, block: Int64 = 4096) -> String? {
            MediumCheck.fittingVolumeSize(on: FileSystemInfo(type: type, blockSize: block, availableBytes: free))
        }
        #expect(on(0xEF53, free: 6 << 20) == "6M")
        #expect(on(0xEF53, free: (6 << 20) + 123_456) == "6M")
        #expect(on(0xEF53, free: 700 << 10) == "700K")
        #expect(on(0xEF53, free: 100 << 10) == nil)
        // FAT32: never over 4 GiB - 1 byte, however much is free (4095M is the largest whole MiB under it).
        #expect(on(MediumCheck.fatType, free: 64 * Self.gib, block: 32768) == "4095M")
        #expect(on(MediumCheck.exFATType, free: 64 * Self.gib, block: 131072) == "65536M")
        // The refusal for free space carries it.
        let error = try #require(Self.refusal(
            [MediumCheck.File(name: "june.mfa", size: 9 << 20, bytesToWrite: 9 << 20)],
            on: FileSystemInfo(type: 0xEF53, blockSize: 4096, availableBytes: 6 << 20)))
        #expect(error.description.contains("`export --volume-size 6M`"), "\(error.description)")
        let none = try #require(Self.refusal(
            [MediumCheck.File(name: "june.mfa", size: 9 << 20, bytesToWrite: 9 << 20)],
            on: FileSystemInfo(type: 0xEF53, blockSize: 4096, availableBytes: 64 << 10)))
        #expect(none.description.contains("No volume set fits either: a volume is at least"), "\(none.description)")
    }
}
