import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes small files (keys, reports) so that a reader sees the old file or the whole new one:
/// temporary name, fsync, rename, fsync of the directory.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        try write(to: path, mode: mode) { sink in try sink(bytes[...]) }
    }

    /// Writes what `produce` hands to its sink, chunk by chunk, under a temporary name, then renames it: a large
    /// file (an HTML report) is never held whole, and a failure (of the disk or of `produce`) leaves nothing.
    public static func write(
        to path: String, mode: mode_t, _ produce: (_ sink: (ArraySlice<UInt8>) throws -> Void) throws -> Void
    ) throws {
        let temporary = path + ".partial"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("create", temporary) }
        do {
            guard fchmod(fd, mode) == 0 else { throw failure("write", temporary) }
            try produce { chunk in
                try chunk.withUnsafeBytes { raw in
                    var offset = 0
                    while offset < raw.count {
                        let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                        if n < 0 && errno == EINTR { continue }
                        guard n > 0 else { throw failure("write", temporary) }
                        offset += n
                    }
                }
            }
            guard fsync(fd) == 0 else { throw failure("write", temporary) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let e = failure("rename", path)
            unlink(temporary)
            throw e
        }
        let dir = (path as NSString).deletingLastPathComponent
        let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }

    private static func failure(_ what: String, _ path: String) -> FerryError {
        FerryError(.ioError, "\(path): \(what) failed: \(String(cString: strerror(errno)))")
    }
}
