#if canImport(Glibc)
import Glibc
#endif

extension SystemCall {
    /// Removes a directory and everything under it, without following symbolic links.
    static func removeTree(_ path: String) throws {
        guard let info = try lstatIfPresent(path) else { return }
        guard isDirectory(info) else {
            _ = try unlinkIfPresent(path)
            return
        }
        let listing = try listDirectory(path)
        for name in listing.names {
            try removeTree("\(path)/\(name)")
        }
        if rmdir(path) != 0 && errno != ENOENT { throw error("rmdir", path, errno) }
    }
}
