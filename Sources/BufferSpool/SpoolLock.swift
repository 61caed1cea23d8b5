#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import SystemLayer

/// An exclusive `flock` on `spool.lock`, so that a second process never runs recovery (which deletes
/// `incoming/` files) under a live writer. Released by `release()` or deinit.
final class SpoolLock: Sendable {
    let path: String
    private let descriptor: Mutex<Int32>

    init(path: String) throws {
        self.path = path
        let fd = try SpoolError.io { try SystemCall.open(path, O_RDWR | O_CREAT, mode: 0o600) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            _ = Glibc.close(fd)
            if code == EWOULDBLOCK { throw SpoolError.locked(path: path) }
            throw SpoolError.fromErrno(code, operation: "flock", path: path)
        }
        descriptor = Mutex(fd)
    }

    deinit { release() }

    func release() {
        descriptor.withLock { fd in
            if fd >= 0 {
                _ = Glibc.close(fd)  // closing the only descriptor releases the flock
                fd = -1
            }
        }
    }
}
