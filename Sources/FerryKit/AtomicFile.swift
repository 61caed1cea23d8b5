import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes small files (keys, reports) so that a reader sees the old file or the whole new one:
/// temporary name, fsync, rename, fsync of the directory.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        let temporary = path + ".partial"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("create", temporary) }
        var ok = fchmod(fd, mode) == 0
        var offset = 0
        while ok && offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 && errno == EINTR { continue }
            ok = n > 0
            offset += max(n, 0)
        }
        ok = ok && fsync(fd) == 0
        let error = failure("write", temporary)
        close(fd)
        guard ok else {
            unlink(temporary)
            throw error
        }
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
