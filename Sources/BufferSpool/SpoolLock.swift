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
    private let lock: Mutex<FileLock?>

    init(path: String) throws {
        self.path = path
        let taken: FileLock?
        do {
            taken = try FileLock.acquire(path, wait: false)
        } catch {
            throw SpoolError(error)
        }
        guard let taken else { throw SpoolError.locked(path: path) }
        lock = Mutex(taken)
    }

    deinit { release() }

    func release() {
        // Closing the only descriptor releases the flock.
        lock.withLock { held in
            held?.release()
            held = nil
        }
    }
}
