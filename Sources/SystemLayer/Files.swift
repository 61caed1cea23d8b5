#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSystemShims

extension SystemCall {
    public static func isDirectory(_ info: stat) -> Bool { info.st_mode & S_IFMT == S_IFDIR }
    public static func isRegular(_ info: stat) -> Bool { info.st_mode & S_IFMT == S_IFREG }
    public static func isSymlink(_ info: stat) -> Bool { info.st_mode & S_IFMT == S_IFLNK }

    public static func lastComponent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    public static func symlink(target: String, at path: String) throws(SystemError) {
        try retrying("symlink", path) { Glibc.symlink(target, path) }
    }

    /// The target of a symbolic link.
    public static func readLink(_ path: String) throws(SystemError) -> String {
        /// Linux `PATH_MAX`: no link target is longer.
        let pathMax = 4096
        var buffer = [UInt8](repeating: 0, count: pathMax)
        let count = try buffer.withUnsafeMutableBytes { raw in
            Result { () throws(SystemError) in
                try retrying("readlink", path) {
                    Glibc.readlink(path, raw.baseAddress!.assumingMemoryBound(to: CChar.self), pathMax)
                }
            }
        }.get()
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    /// Flushes a file or directory to stable storage (a read-only descriptor is enough on Linux).
    public static func fsyncPath(_ path: String) throws(SystemError) {
        try FileDescriptor(opening: path, O_RDONLY).sync()
    }

    /// Makes everything written to the file system holding `path` durable, data and metadata, in one
    /// call: far cheaper than an fsync per file when an import has written thousands of messages.
    public static func syncFileSystem(containing path: String) throws(SystemError) {
        let file = try FileDescriptor(opening: path, O_RDONLY)
        let raw = file.raw
        try retrying("syncfs", path) { mailferry_syncfs(raw) }
    }

    /// Removes a directory and everything under it, without following symbolic links.
    public static func removeTree(_ path: String) throws(SystemError) {
        guard let info = try lstatIfPresent(path) else { return }
        guard isDirectory(info) else {
            try unlinkIfPresent(path)
            return
        }
        let listing = try listDirectory(path)
        for name in listing.names {
            try removeTree("\(path)/\(name)")
        }
        if rmdir(path) != 0 && errno != ENOENT { throw SystemError("rmdir", path, errno) }
    }
}

extension FileDescriptor {
    /// Sets access and modification times, to the nanosecond.
    public func setTimes(epochSeconds: Int64, nanoseconds: Int32) throws(SystemError) {
        let time = timespec(tv_sec: time_t(epochSeconds), tv_nsec: Int(nanoseconds))
        var times = (time, time)
        let descriptor = raw
        let path = self.path
        try withUnsafePointer(to: &times) { (pair) throws(SystemError) in
            try pair.withMemoryRebound(to: timespec.self, capacity: 2) { (first) throws(SystemError) in
                _ = try SystemCall.retrying("futimens", path) { futimens(descriptor, first) }
            }
        }
    }

    /// Reads up to `buffer.count` bytes with one read; 0 means end of file.
    public func readSome(into buffer: inout [UInt8]) throws(SystemError) -> Int {
        try buffer.withUnsafeMutableBytes { bytes in Result { () throws(SystemError) in try readSome(into: bytes) } }.get()
    }
}
