import FerryArchive
import MailModel
import Reporting
import SystemLayer

/// What `copy` checks about the destination before it writes a byte: every file fits the file system's largest
/// file, and all of them together fit its free space. Pure: it decides from the sizes and what the file system
/// said (`FileSystemInfo`), so the FAT32 rule is tested without a FAT32 medium.
public enum MediumCheck {
    /// `MSDOS_SUPER_MAGIC` (linux/magic.h): the kernel's msdos and vfat drivers, FAT12, FAT16 and FAT32 alike.
    public static let fatType: Int64 = 0x4d44
    /// `EXFAT_SUPER_MAGIC` (linux/magic.h): the kernel's exFAT driver.
    public static let exFATType: Int64 = 0x2011_BAB0
    /// FAT keeps a file's size in a 32-bit field, so the largest file is 4 GiB - 1 byte (the kernel's vfat driver
    /// sets `s_maxbytes` to this for every FAT variant).
    public static let fatLargestFile: Int64 = 4 * 1024 * 1024 * 1024 - 1

    /// One file to copy: its name, its size, and how many bytes still have to be written (less than the size when
    /// a partial copy is there to resume, 0 when the copy is there already).
    public struct File: Equatable, Sendable {
        public var name: String
        public var size: Int64
        public var bytesToWrite: Int64
        public init(name: String, size: Int64, bytesToWrite: Int64) {
            self.name = name
            self.size = size
            self.bytesToWrite = bytesToWrite
        }
    }

    /// The largest file the file system of `type` holds, or nil when it has no limit an archive could meet. exFAT
    /// has none (its sizes are 64-bit); nor have ext4 (16 TiB with 4 KiB blocks), XFS, btrfs or NTFS in practice.
    public static func largestFile(onType type: Int64) -> Int64? {
        type == fatType ? fatLargestFile : nil
    }

    /// A name for the messages.
    static func typeName(_ type: Int64) -> String {
        switch type {
        case fatType: return "FAT (FAT32)"
        case exFATType: return "exFAT"
        default: return "0x" + String(type, radix: 16)
        }
    }

    /// The space `bytes` take on the file system: whole blocks.
    static func spaceTaken(by bytes: Int64, blockSize: Int64) -> Int64 {
        guard bytes > 0, blockSize > 1 else { return max(bytes, 0) }
        let (blocks, remainder) = bytes.quotientAndRemainder(dividingBy: blockSize)
        let whole = remainder == 0 ? blocks : blocks + 1
        let (taken, overflow) = whole.multipliedReportingOverflow(by: blockSize)
        return overflow ? .max : taken
    }

    /// Refuses (exit status 2) when a file is larger than the file system's largest file, naming each such file,
    /// its size and the limit, or when the bytes still to write do not fit the free space.
    public static func check(_ files: [File], destination: String, on fileSystem: FileSystemInfo) throws(FerryError) {
        if let limit = largestFile(onType: fileSystem.type) {
            let tooLarge = files.filter { $0.bytesToWrite > 0 && $0.size > limit }
            if !tooLarge.isEmpty {
                let names = tooLarge.map { "\($0.name) is \(Format.bytes($0.size)) (\($0.size) bytes)" }
                throw FerryError(
                    .usage,
                    """
                    \(names.joined(separator: "; ")), but \(destination) is on \(typeName(fileSystem.type)), which \
                    holds files up to 4 GiB - 1 byte (\(limit) bytes). Nothing was copied. Copy onto a medium \
                    formatted as exFAT or ext4 (neither has this limit), or export again as a volume set that fits: \
                    `export --volume-size fat32` writes volumes of at most 4 GiB - 1 byte each and their set \
                    statement NAME.set; copy them all.
                    """)
            }
        }
        var needed: Int64 = 0
        for file in files {
            let (sum, overflow) = needed.addingReportingOverflow(
                spaceTaken(by: file.bytesToWrite, blockSize: fileSystem.blockSize))
            needed = overflow ? .max : sum
        }
        if needed > fileSystem.availableBytes {
            let count = files.filter { $0.bytesToWrite > 0 }.count
            let advice = fittingVolumeSize(on: fileSystem).map {
                " Or export again as a volume set whose volumes fit here, `export --volume-size \($0)`, and carry its "
                    + "volumes on as many media as they need (copy each medium's share, then the set statement NAME.set with "
                    + "the last)."
            } ?? " No volume set fits either: a volume is at least \(Format.bytes(VolumeSetWriter.minimumVolumeSize))."
            throw FerryError(
                .usage,
                """
                not enough space on \(destination): \(count == 1 ? "the file needs" : "the \(count) files need") \
                \(Format.bytes(needed)) (\(needed) bytes), and \(Format.bytes(fileSystem.availableBytes)) \
                (\(fileSystem.availableBytes) bytes) is free. Nothing was copied. Free space on the medium or use \
                a larger one.
                """ + advice)
        }
    }

    /// The largest `--volume-size` (in whole MiB, else whole KiB) whose volumes fit `fileSystem` now: its free space in
    /// whole blocks, and at most its largest file. Nil when that is below the smallest volume a set can have.
    public static func fittingVolumeSize(on fileSystem: FileSystemInfo) -> String? {
        let blockSize = max(fileSystem.blockSize, 1)
        var size = fileSystem.availableBytes / blockSize * blockSize
        if let limit = largestFile(onType: fileSystem.type) { size = min(size, limit) }
        guard size >= VolumeSetWriter.minimumVolumeSize else { return nil }
        return size >= 1 << 20 ? "\(size >> 20)M" : "\(size >> 10)K"
    }
}
