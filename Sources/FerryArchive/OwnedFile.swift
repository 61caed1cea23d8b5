#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SystemLayer

extension ArchiveError {
    /// A failed system call, worded as the archive code words it: "<call> failed: <reason>", kind `io`.
    init(_ system: SystemError) {
        self.init(.io, system.path, "\(system.operation) failed: \(system.reason)")
    }

    /// Runs `body`, turning a `SystemError` into an `ArchiveError`.
    @discardableResult
    static func io<T>(_ body: () throws(SystemError) -> T) throws(ArchiveError) -> T {
        do { return try body() } catch { throw ArchiveError(error) }
    }
}

/// An archive file open for reading or writing: the system layer's `FileDescriptor`, with its failures worded
/// as `ArchiveError`s and a read that calls a short file a format error.
final class OwnedFile: ArchiveBytes, ArchiveOutput {
    private let descriptor: FileDescriptor
    var path: String { descriptor.path }

    init(path: String, flags: Int32, mode: mode_t = 0o644) throws {
        descriptor = try ArchiveError.io { () throws(SystemError) in try FileDescriptor(opening: path, flags, mode: mode) }
    }

    private init(descriptor: FileDescriptor) {
        self.descriptor = descriptor
    }

    /// A file with no name in `directory` (the system layer's `UnlinkedTemporaryFile`), open for reading and
    /// writing: nothing is left behind however the process ends. `prefix` names it for the moment it exists.
    static func temporary(in directory: String, prefix: String) throws -> OwnedFile {
        let temporary = try ArchiveError.io { () throws(SystemError) in try UnlinkedTemporaryFile(in: directory, prefix: prefix) }
        return OwnedFile(descriptor: temporary.file)
    }

    var size: Int64 { get throws { try ArchiveError.io { () throws(SystemError) in try descriptor.size } } }

    /// Opens an archive to read, refusing anything but a regular file: a FIFO, a device or a folder given as
    /// the archive would block or mislead the reader. The open does not wait for a FIFO's writer (O_NONBLOCK,
    /// which a regular file ignores).
    static func openRegularFile(path: String) throws -> OwnedFile {
        let file = try OwnedFile(path: path, flags: O_RDONLY | O_NONBLOCK)
        let mode = try ArchiveError.io { () throws(SystemError) in try file.descriptor.status().st_mode } & S_IFMT
        guard mode == S_IFREG else {
            let kind = mode == S_IFIFO ? "a FIFO" : mode == S_IFDIR ? "a folder" : mode == S_IFCHR || mode == S_IFBLK ? "a device" : "a socket or other special file"
            throw ArchiveError(.io, path, "is \(kind), not a regular file; give the archive file itself")
        }
        return file
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try ArchiveError.io { () throws(SystemError) in try descriptor.writeAll(bytes) }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
        try ArchiveError.io { () throws(SystemError) in try descriptor.read(into: buffer, at: offset) }
    }

    func sync() throws { try ArchiveError.io { () throws(SystemError) in try descriptor.sync() } }

    /// A plain file has nothing to add after its last byte.
    func finish() throws {}
}
