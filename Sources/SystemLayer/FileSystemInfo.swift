#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSystemShims

/// What a file system says about itself: which kind it is and how much room is left. Read from `statfs` (the kind)
/// and `statvfs` (the room), with C types kept out.
public struct FileSystemInfo: Equatable, Sendable {
    /// `statfs`'s `f_type`: the file system's magic number (`MSDOS_SUPER_MAGIC` 0x4d44 for FAT, `EXFAT_SUPER_MAGIC`
    /// 0x2011bab0 for exFAT, 0xef53 for ext2/3/4). A file system mounted through FUSE shows FUSE's number.
    public var type: Int64
    /// The unit space is counted in (`f_frsize`): a file takes a whole number of these.
    public var blockSize: Int64
    /// Bytes an unprivileged process may still write (`f_bavail` blocks).
    public var availableBytes: Int64

    public init(type: Int64, blockSize: Int64, availableBytes: Int64) {
        self.type = type
        self.blockSize = blockSize
        self.availableBytes = availableBytes
    }
}

extension SystemCall {
    /// The file system holding `path` (a file or a directory).
    public static func fileSystemInfo(of path: String) throws(SystemError) -> FileSystemInfo {
        let file = try FileDescriptor(opening: path, O_RDONLY)
        let raw = file.raw
        var type: Int64 = 0
        try retrying("statfs", path) { mailferry_file_system_type(raw, &type) }
        var space = statvfs()
        try retrying("statvfs", path) { fstatvfs(raw, &space) }
        let blockSize = Int64(space.f_frsize > 0 ? space.f_frsize : space.f_bsize)
        let (available, overflow) = Int64(clamping: space.f_bavail).multipliedReportingOverflow(by: blockSize)
        return FileSystemInfo(type: type, blockSize: blockSize, availableBytes: overflow ? .max : available)
    }
}

extension FileDescriptor {
    /// Asks the kernel to drop this file's pages from the page cache (`posix_fadvise(POSIX_FADV_DONTNEED)`), so
    /// that the next read comes from the device. Only clean pages are dropped: sync first. Best effort: the call
    /// is advice, and on some file systems (tmpfs, whose pages are the storage; FUSE and network file systems,
    /// which may cache on their own) the bytes still come from memory. `O_DIRECT` is the alternative that
    /// bypasses the cache for certain, at the price of aligned buffers, offsets and lengths.
    public func dropCachedPages() throws(SystemError) {
        let descriptor = raw
        // posix_fadvise returns the error number instead of setting errno.
        while true {
            let code = posix_fadvise(descriptor, 0, 0, POSIX_FADV_DONTNEED)
            if code == 0 { return }
            if code != EINTR { throw SystemError("posix_fadvise", path, code) }
        }
    }
}
