#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension SystemCall {
    /// Creates a directory; one that exists already is not an error.
    public static func makeDirectory(_ path: String, mode: mode_t = 0o700) throws(SystemError) {
        _ = try retrying("mkdir", path, allowing: [EEXIST]) { Glibc.mkdir(path, mode) }
    }

    /// `lstat`: nil when nothing is at `path`.
    public static func lstatIfPresent(_ path: String) throws(SystemError) -> stat? {
        var info = stat()
        switch try retrying("lstat", path, allowing: [ENOENT, ENOTDIR], { Glibc.lstat(path, &info) }) {
        case .success: return info
        case .failure: return nil
        }
    }

    /// `stat`, following symbolic links: nil when nothing is at `path`.
    public static func statIfPresent(_ path: String) throws(SystemError) -> stat? {
        var info = stat()
        switch try retrying("stat", path, allowing: [ENOENT, ENOTDIR], { fstatat(AT_FDCWD, path, &info, 0) }) {
        case .success: return info
        case .failure: return nil
        }
    }

    /// The names in a directory, without `.` and `..`, sorted by their bytes. Names that are not UTF-8 cannot be
    /// carried as `String` and are returned in `undecodable` (shown with replacement characters).
    public static func listDirectory(_ path: String) throws(SystemError) -> (names: [String], undecodable: [String]) {
        guard let stream = opendir(path) else { throw SystemError("opendir", path, errno) }
        defer { closedir(stream) }
        var names: [String] = []
        var undecodable: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno == 0 { break }
                if errno == EINTR { continue }
                throw SystemError("readdir", path, errno)
            }
            let name: String? = withUnsafeBytes(of: &entry.pointee.d_name) { raw in
                let bytes = raw.prefix(while: { $0 != 0 })
                return String(validating: bytes, as: UTF8.self)
            }
            guard let name else {
                undecodable.append(withUnsafeBytes(of: &entry.pointee.d_name) {
                    String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self)
                })
                continue
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        names.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return (names, undecodable)
    }
}
