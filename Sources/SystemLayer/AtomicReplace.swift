#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Replaces a file so that a reader sees the old file or the whole new one: write `<path>.partial`, fsync it,
/// rename it over `path`, fsync the directory. A failure (of the disk or of the producer) leaves no partial file.
public enum AtomicReplace {
    /// Writes what `produce` hands to its sink, chunk by chunk, so a large file is never held whole. System
    /// failures throw `SystemError` with the operation "create" (the temporary file), "write" (mode, write or
    /// fsync of the temporary file) or "rename" (with `path`); the producer's own errors pass through.
    public static func write(
        to path: String, mode: mode_t, _ produce: (_ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        let temporary = path + ".partial"
        let file: FileDescriptor
        do {
            file = try FileDescriptor(opening: temporary, O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
        } catch {
            throw SystemError("create", temporary, error.code)
        }
        do {
            let raw = file.raw
            do {
                try SystemCall.retrying("write", temporary) { fchmod(raw, mode) }
                try produce { chunk in try file.writeAll(chunk) }
                try file.sync()
            } catch let error as SystemError {
                throw SystemError("write", temporary, error.code)
            }
        } catch {
            file.closeQuietly()
            _ = try? SystemCall.unlinkIfPresent(temporary)
            throw error
        }
        file.closeQuietly()
        do {
            try SystemCall.retrying("rename", path) { Glibc.rename(temporary, path) }
        } catch {
            _ = try? SystemCall.unlinkIfPresent(temporary)
            throw error
        }
        // The new name is in place; a directory that cannot be synced does not undo that.
        try? SystemCall.syncDirectory(SystemCall.parentDirectory(of: path))
    }

    /// Replaces `path` with `bytes`, for small files held whole (keys, receipts, JSON reports).
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        try write(to: path, mode: mode) { sink in try bytes.withUnsafeBytes { try sink($0) } }
    }
}

/// An exclusive `flock` on a lock file, created if missing, held until `release()` or deinit (closing the only
/// descriptor releases it).
public final class FileLock {
    public let path: String
    private let file: FileDescriptor

    /// Takes the lock, waiting for it when `wait` is true. Returns nil when `wait` is false and another
    /// process holds it for longer than `grace`.
    ///
    /// Why the grace: a child that another thread of this process is starting shares our descriptors until its
    /// exec closes them (they are all `O_CLOEXEC`), so a lock this process has just released can stay taken for
    /// the few milliseconds between the fork and the exec. Without it, closing and reopening a spool while a
    /// sibling thread starts a program was refused now and then as "in use by another process".
    public static func acquire(_ path: String, wait: Bool, grace: Duration = .seconds(1)) throws(SystemError) -> FileLock? {
        let file = try FileDescriptor(opening: path, O_RDWR | O_CREAT, mode: 0o600)
        let raw = file.raw
        if wait {
            _ = try SystemCall.retrying("flock", path) { flock(raw, LOCK_EX) }
            return FileLock(path: path, file: file)
        }
        let clock = ContinuousClock()
        let deadline = clock.now + grace
        while true {
            let taken = try SystemCall.retrying("flock", path, allowing: [EWOULDBLOCK]) { flock(raw, LOCK_EX | LOCK_NB) }
            if case .success = taken { return FileLock(path: path, file: file) }
            guard clock.now < deadline else { return nil }
            usleep(10_000)
        }
    }

    private init(path: String, file: FileDescriptor) {
        self.path = path
        self.file = file
    }

    public func release() { file.closeQuietly() }
}

/// A file with no name: created in `directory` and unlinked at once, so nothing is left behind however the
/// process ends. Written in order, read back by position.
public final class UnlinkedTemporaryFile {
    public let file: FileDescriptor

    public init(in directory: String, prefix: String = ".mailferry-tmp-") throws(SystemError) {
        var template = Array((directory + "/" + prefix + "XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw SystemError("mkstemp", directory, errno) }
        let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        file = FileDescriptor(fd, path: path)
        _ = Glibc.unlink(path)
    }
}
