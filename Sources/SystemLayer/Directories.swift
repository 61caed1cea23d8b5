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
        var names: [String] = []
        var undecodable: [String] = []
        try forEachName(in: path) { raw in
            if let name = String(validating: raw, as: UTF8.self) {
                names.append(name)
            } else {
                undecodable.append(String(decoding: raw, as: UTF8.self))
            }
        }
        names.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return (names, undecodable)
    }

    /// Each name in a directory as its bytes, in the directory's order, without `.` and `..`: for a caller that
    /// keeps a large folder's names its own way rather than as a `String` each.
    public static func forEachName(in path: String, _ body: (UnsafeRawBufferPointer) -> Void) throws(SystemError) {
        guard let stream = opendir(path) else { throw SystemError("opendir", path, errno) }
        defer { closedir(stream) }
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno == 0 { break }
                if errno == EINTR { continue }
                throw SystemError("readdir", path, errno)
            }
            withUnsafeBytes(of: &entry.pointee.d_name) { raw in
                let length = raw.firstIndex(of: 0) ?? raw.count
                let name = UnsafeRawBufferPointer(rebasing: raw[..<length])
                if name.count == 1 && name[0] == UInt8(ascii: ".") { return }
                if name.count == 2 && name[0] == UInt8(ascii: ".") && name[1] == UInt8(ascii: ".") { return }
                body(name)
            }
        }
    }
}
