import Foundation
import MailModel
import Reporting
import SystemLayer

/// `copy`: files (archives, encrypted archives, volumes: bytes to this code) onto a mounted medium, each one read
/// back from the device and compared with the source's SHA-256 before it gets its final name.
///
/// For each file: refuse before any byte is written when a file does not fit the file system's largest file or all
/// of them do not fit its free space (`MediumCheck`); write `DIR/NAME.partial`, hashing the source as it is read;
/// fsync; drop the file's cached pages and read it back from the device; only a copy whose SHA-256 matches is
/// renamed to `DIR/NAME`, then the directory is fsynced. A partial copy left by an interrupted run is read back the
/// same way and compared with the source's prefix of the same length: when they match the copy continues after
/// it, when not it starts over. A `DIR/NAME` already there with the source's size is read back and compared, never
/// rewritten. Memory stays at two chunks whatever the file's size.
public struct VerifiedCopy {
    /// Bytes read and written at a time.
    public static let chunkSize = 1 << 20
    /// Bytes written between fsyncs: progress then follows the medium rather than the page cache (a USB stick
    /// can take minutes to drain a cache filled in seconds), and the pages already on the device are dropped from
    /// the cache instead of crowding out other programs' pages.
    public static let syncInterval: Int64 = 64 << 20
    /// Tests only: after writing this many bytes of a file, the copy stops and waits to be killed, so that a kill
    /// test does not race a fast disk (the same idea as the plan's `MAILFERRY_TEST_KILL_BEFORE_RECORDING`).
    public static let pauseVariable = "MAILFERRY_TEST_PAUSE_COPY_AT_BYTES"

    public var sources: [String]
    public var destination: String
    public var quiet: Bool
    /// What the destination's file system says of itself (`MediumCheck` decides from it). Tests give an ordinary
    /// folder FAT's kind here, to check the 4 GiB - 1 byte rule on a sparse file where no FAT32 medium can be mounted.
    public var fileSystemInfo: (String) throws(SystemError) -> FileSystemInfo = { path throws(SystemError) in
        try SystemCall.fileSystemInfo(of: path)
    }

    public init(sources: [String], destination: String, quiet: Bool) {
        self.sources = sources
        self.destination = destination
        self.quiet = quiet
    }

    /// A file that is on the medium and matched its source when read back.
    public struct Copied: Equatable, Sendable {
        /// `DIR/NAME`.
        public var path: String
        public var size: Int64
        /// The SHA-256 of the source as it was read, equal to that of the copy read back, in lowercase hex.
        public var sha256: String
        /// True when the file was there before this run (with the source's size) and was only read back.
        public var wasThere: Bool

        public init(path: String, size: Int64, sha256: String, wasThere: Bool) {
            self.path = path
            self.size = size
            self.sha256 = sha256
            self.wasThere = wasThere
        }
    }

    /// What happens, as it happens, for the command to print.
    public enum Event: Sendable {
        /// A partial copy's first `from` bytes matched the source's; the copy goes on from there.
        case resumed(path: String, from: Int64)
        /// A partial copy could not be continued, for `reason`; it is written again from the start.
        case startingOver(path: String, reason: String)
        /// A file is on the medium and verified.
        case verified(Copied)
    }

    /// One source and what to do with it.
    struct Planned {
        enum Action {
            /// Copy, continuing a partial copy of this many bytes if there is one.
            case copy(partialSize: Int64?)
            /// `DIR/NAME` exists with the source's size: read it back and compare.
            case checkExisting
        }

        var source: String
        var target: String
        var size: Int64
        var mode: mode_t
        var action: Action

        var partialPath: String { target + ".partial" }
        var badPath: String { target + ".bad" }

        /// How many bytes are still to be written, for the space check.
        var bytesToWrite: Int64 {
            switch action {
            case .checkExisting: return 0
            case .copy(let partialSize?) where partialSize <= size: return size - partialSize
            case .copy: return size
            }
        }
    }

    /// Copies every source, in order. Every file that matched is reported as `.verified` as soon as it is done; if
    /// any did not match, the copy goes on with the others and then throws (exit status 1) naming each of them.
    @discardableResult
    public func run(_ report: (Event) -> Void) throws -> [Copied] {
        let planned = try plan()
        let fileSystem = try FerryError.io { try fileSystemInfo(destination) }
        try MediumCheck.check(
            planned.map { MediumCheck.File(name: $0.source, size: $0.size, bytesToWrite: $0.bytesToWrite) },
            destination: destination, on: fileSystem)

        let total = planned.reduce(Int64(0)) { $0 + 2 * $1.size }
        let meter = Meter(
            ProgressReporter(label: "copy+verify", quiet: quiet, totalItems: planned.count, totalBytes: total),
            files: planned.count, bytes: total)
        let pauseAt = ProcessInfo.processInfo.environment[Self.pauseVariable].flatMap { Int64($0) }
        var copied: [Copied] = []
        var mismatches: [String] = []
        for file in planned {
            let outcome: Outcome
            switch file.action {
            case .checkExisting: outcome = try checkExisting(file, meter)
            case .copy(let partialSize):
                outcome = try copy(file, partialSize: partialSize, pauseAt: pauseAt, meter, report)
            }
            meter.fileDone()
            switch outcome {
            case .verified(let result):
                copied.append(result)
                report(.verified(result))
            case .mismatch(let message):
                mismatches.append(message)
            }
        }
        meter.finish()
        if !mismatches.isEmpty {
            throw FerryError(.verificationFailed, mismatches.joined(separator: "\n"))
        }
        return copied
    }

    enum Outcome {
        case verified(Copied)
        case mismatch(String)
    }

    // MARK: - Before anything is written

    /// Looks at every source and at what the destination already holds, refusing (exit status 2) what cannot be
    /// done as asked: a destination that is not a directory, a source that is not a regular file, two sources of
    /// the same name, a `DIR/NAME` that is another file.
    func plan() throws -> [Planned] {
        guard let directory = try FerryError.io({ try SystemCall.statIfPresent(destination) }) else {
            throw FerryError(.usage, "\(destination) does not exist (is the medium mounted?)")
        }
        guard SystemCall.isDirectory(directory) else {
            throw FerryError(.usage, "\(destination) is not a directory; --to takes the directory to copy into")
        }
        let base = destination.count > 1 && destination.hasSuffix("/") ? String(destination.dropLast()) : destination
        var sourceOfName: [String: String] = [:]
        var planned: [Planned] = []
        for source in sources {
            let name = SystemCall.lastComponent(of: source)
            guard !name.isEmpty, name != ".", name != ".." else {
                throw FerryError(.usage, "\(source) does not name a file")
            }
            if let other = sourceOfName[name] {
                throw FerryError(
                    .usage,
                    "\(other) and \(source) would both be copied to \(base)/\(name); copy them to different directories"
                )
            }
            sourceOfName[name] = source
            guard let info = try FerryError.io({ try SystemCall.statIfPresent(source) }) else {
                throw FerryError(.ioError, "\(source): no such file")
            }
            guard SystemCall.isRegular(info) else {
                throw FerryError(.usage, "\(source) is not a regular file; copy takes archive files")
            }
            let target = base + "/" + name
            let size = Int64(info.st_size)
            let action: Planned.Action
            if let existing = try FerryError.io({ try SystemCall.lstatIfPresent(target) }) {
                guard SystemCall.isRegular(existing) else {
                    throw FerryError(.usage, "\(target) exists and is not a regular file; copy replaces nothing")
                }
                guard Int64(existing.st_size) == size else {
                    throw FerryError(
                        .usage,
                        "\(target) exists with \(existing.st_size) bytes and \(source) has \(size): it is another file, and copy replaces nothing; remove it or copy into another directory"
                    )
                }
                action = .checkExisting
            } else if let partial = try FerryError.io({ try SystemCall.lstatIfPresent(target + ".partial") }) {
                guard SystemCall.isRegular(partial) else {
                    throw FerryError(.usage, "\(target).partial exists and is not a regular file; remove it")
                }
                action = .copy(partialSize: Int64(partial.st_size))
            } else {
                action = .copy(partialSize: nil)
            }
            planned.append(
                Planned(source: source, target: target, size: size, mode: info.st_mode & 0o777, action: action))
        }
        return planned
    }

    // MARK: - Copying

    func copy(_ file: Planned, partialSize: Int64?, pauseAt: Int64?, _ meter: Meter, _ report: (Event) -> Void) throws
        -> Outcome
    {
        let source = try FerryError.io { try FileDescriptor(opening: file.source, O_RDONLY) }
        try checkSize(source, file)
        var hash = SHA256()
        var offset: Int64 = 0
        if let partialSize, partialSize > file.size {
            report(
                .startingOver(
                    path: file.target,
                    reason:
                        "the partial copy \(file.partialPath) has \(partialSize) bytes, more than the source's \(file.size)"
                ))
        } else if let partialSize, partialSize > 0 {
            let prefixes = try hashPrefixes(of: file, length: partialSize, source: source, continuing: hash, meter)
            if prefixes.partial == prefixes.source {
                report(.resumed(path: file.target, from: partialSize))
                offset = partialSize
            } else {
                report(
                    .startingOver(
                        path: file.target,
                        reason:
                            "the partial copy's \(partialSize) bytes read back from the medium have SHA-256 \(prefixes.partial), the source's first \(partialSize) bytes \(prefixes.source)"
                    ))
                hash = SHA256()
                meter.addToTotal(partialSize)
            }
        }

        try write(file, from: source, startingAt: offset, hash: hash, pauseAt: pauseAt, meter)
        let expected = hash.finalizeHex()
        // Read back before the rename, not after: the bytes are the same either way (a rename moves no data), but
        // then a kill or power cut at any moment leaves under the final name only a copy that was verified, and a
        // copy that does not match never has the final name at all (it is moved to NAME.bad, kept for inspection
        // rather than removed, so that a failing medium can be shown with `cmp`).
        let readBack = try FerryError.io { try hashFromDevice(file.partialPath, meter) }
        if readBack == expected {
            try FerryError.io {
                try SystemCall.rename(file.partialPath, to: file.target)
                try SystemCall.syncDirectory(SystemCall.parentDirectory(of: file.target))
            }
            return .verified(Copied(path: file.target, size: file.size, sha256: expected, wasThere: false))
        }
        try setAside(file.partialPath, as: file.badPath)
        return .mismatch(
            """
            \(file.target): the copy read back from the medium does not match the source \(file.source): SHA-256 of \
            the copy \(readBack), of the source \(expected). It was not given its final name; it is kept as \
            \(file.badPath) for inspection (compare it with the source, then delete it). The medium may be failing: \
            try another, or run the copy again.
            """)
    }

    /// Writes the source from `offset` on to the partial file (appending to a verified prefix, or from scratch),
    /// then fsyncs it.
    func write(
        _ file: Planned, from source: FileDescriptor, startingAt offset: Int64, hash: SHA256, pauseAt: Int64?,
        _ meter: Meter
    ) throws {
        var offset = offset
        do {
            let output =
                offset > 0
                ? try FileDescriptor(opening: file.partialPath, O_WRONLY | O_APPEND)
                : try FileDescriptor(opening: file.partialPath, O_WRONLY | O_CREAT | O_TRUNC, mode: file.mode)
            var buffer = [UInt8](repeating: 0, count: Self.chunkSize)
            var sinceSync: Int64 = 0
            while offset < file.size {
                let wanted = Int(min(Int64(Self.chunkSize), file.size - offset))
                try buffer.withUnsafeMutableBytes { raw in
                    let chunk = UnsafeMutableRawBufferPointer(rebasing: raw[0..<wanted])
                    let count = try source.read(into: chunk, at: offset)
                    guard count == wanted else { throw Self.shrank(file) }
                    hash.update(UnsafeRawBufferPointer(chunk))
                    try output.writeAll(UnsafeRawBufferPointer(chunk))
                }
                offset += Int64(wanted)
                sinceSync += Int64(wanted)
                meter.add(Int64(wanted))
                if sinceSync >= Self.syncInterval {
                    try output.sync()
                    try? output.dropCachedPages()
                    sinceSync = 0
                }
                if let pauseAt, offset >= pauseAt, offset < file.size {
                    while true { pause() }
                }
            }
            try output.sync()
            try output.close()
        } catch let error as SystemError {
            var message = "\(error.path): \(error.operation) failed: \(error.reason)."
            if error.code == EFBIG {
                message +=
                    " The file system refuses a file of \(file.size) bytes (FAT32 holds files up to 4 GiB - 1 byte); copy onto an exFAT or ext4 medium."
            }
            if error.path == file.partialPath && error.operation != "open" {
                message +=
                    " \(file.partialPath) keeps what was written; run the same copy again to resume once the cause is fixed."
            }
            throw FerryError(.ioError, message)
        }
    }

    /// Hashes the partial copy's `length` bytes, read back from the device, and the source's first `length` bytes,
    /// which also go into `continuing` (the whole source's hash, should the copy resume).
    func hashPrefixes(of file: Planned, length: Int64, source: FileDescriptor, continuing: SHA256, _ meter: Meter)
        throws
        -> (partial: String, source: String)
    {
        try FerryError.io {
            let partial = try FileDescriptor(opening: file.partialPath, O_RDONLY)
            try Self.dropFromCache(partial)
            let partialHash = SHA256()
            let sourceHash = SHA256()
            var partialBuffer = [UInt8](repeating: 0, count: Self.chunkSize)
            var sourceBuffer = [UInt8](repeating: 0, count: Self.chunkSize)
            var offset: Int64 = 0
            while offset < length {
                let wanted = Int(min(Int64(Self.chunkSize), length - offset))
                try partialBuffer.withUnsafeMutableBytes { raw in
                    let chunk = UnsafeMutableRawBufferPointer(rebasing: raw[0..<wanted])
                    let count = try partial.read(into: chunk, at: offset)
                    partialHash.update(UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
                }
                try sourceBuffer.withUnsafeMutableBytes { raw in
                    let chunk = UnsafeMutableRawBufferPointer(rebasing: raw[0..<wanted])
                    guard try source.read(into: chunk, at: offset) == wanted else { throw Self.shrank(file) }
                    sourceHash.update(UnsafeRawBufferPointer(chunk))
                    continuing.update(UnsafeRawBufferPointer(chunk))
                }
                offset += Int64(wanted)
                meter.add(Int64(wanted))
            }
            return (partialHash.finalizeHex(), sourceHash.finalizeHex())
        }
    }

    // MARK: - Reading back

    /// `DIR/NAME` is there with the source's size: hash the source, read the copy back, compare.
    func checkExisting(_ file: Planned, _ meter: Meter) throws -> Outcome {
        let expected = try FerryError.io {
            let source = try FileDescriptor(opening: file.source, O_RDONLY)
            try checkSize(source, file)
            return try Self.hash(source, meter)
        }
        let readBack = try FerryError.io { try hashFromDevice(file.target, meter) }
        if readBack == expected {
            return .verified(Copied(path: file.target, size: file.size, sha256: expected, wasThere: true))
        }
        try setAside(file.target, as: file.badPath)
        return .mismatch(
            """
            \(file.target) was already there with the size of \(file.source), but its bytes read back from the \
            medium differ: SHA-256 \(readBack), the source's \(expected). It is moved to \(file.badPath), so that \
            nothing wrong stands under the archive's name (compare it with the source, then delete it); run the \
            copy again to copy the source.
            """)
    }

    /// The SHA-256 of a file on the medium, read from the device rather than from the page cache (as far as the
    /// file system lets `dropFromCache` see to that).
    func hashFromDevice(_ path: String, _ meter: Meter) throws(SystemError) -> String {
        let file = try FileDescriptor(opening: path, O_RDONLY)
        try Self.dropFromCache(file)
        return try Self.hash(file, meter)
    }

    /// Makes the next read of `file` come from the device: fsync first (only clean pages can be dropped; fsync
    /// through a read-only descriptor is enough on Linux), then `posix_fadvise(POSIX_FADV_DONTNEED)`. This is best
    /// effort: tmpfs keeps its pages (they are its storage), and FUSE and network file systems may cache on their
    /// own; opening with `O_DIRECT` is the alternative, at the price of aligned buffers and lengths.
    static func dropFromCache(_ file: FileDescriptor) throws(SystemError) {
        try file.sync()
        try file.dropCachedPages()
    }

    static func hash(_ file: FileDescriptor, _ meter: Meter) throws(SystemError) -> String {
        let hash = SHA256()
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let count = try buffer.withUnsafeMutableBytes { raw in
                Result { () throws(SystemError) in
                    let count = try file.readFully(into: raw)
                    hash.update(UnsafeRawBufferPointer(rebasing: raw[0..<count]))
                    return count
                }
            }.get()
            meter.add(Int64(count))
            if count < chunkSize { return hash.finalizeHex() }
        }
    }

    /// Moves a copy that did not match off its name, and makes the move durable.
    func setAside(_ path: String, as badPath: String) throws {
        try FerryError.io {
            try SystemCall.rename(path, to: badPath)
            try SystemCall.syncDirectory(SystemCall.parentDirectory(of: badPath))
        }
    }

    func checkSize(_ source: FileDescriptor, _ file: Planned) throws {
        let size = try FerryError.io { try source.size }
        guard size == file.size else { throw Self.shrank(file) }
    }

    static func shrank(_ file: Planned) -> FerryError {
        FerryError(
            .ioError,
            "\(file.source) changed size while it was being copied (it had \(file.size) bytes); copy it again once nothing writes to it"
        )
    }

    /// Counts files and bytes for the progress line: each byte of a file counts twice, once written (or, for a
    /// file already there or a partial copy, read from the source) and once read back.
    final class Meter {
        let progress: ProgressReporter
        let fileCount: Int
        var files = 0
        var bytes: Int64 = 0
        var total: Int64

        init(_ progress: ProgressReporter, files fileCount: Int, bytes total: Int64) {
            self.progress = progress
            self.fileCount = fileCount
            self.total = total
        }

        func add(_ count: Int64) {
            bytes += count
            progress.update(items: files, bytes: bytes)
        }

        func fileDone() {
            files += 1
            progress.update(items: files, bytes: bytes)
        }

        /// A copy that starts over after reading a partial copy does more than planned.
        func addToTotal(_ count: Int64) {
            total += count
            progress.setTotal(items: fileCount, bytes: total)
        }

        func finish() { progress.finish() }
    }
}
