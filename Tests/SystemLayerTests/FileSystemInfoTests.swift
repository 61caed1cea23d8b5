import SystemLayer
import Testing

/// `statfs` reaches Swift through the C shim: the kind of a file system every Linux has is read right.
@Suite struct FileSystemInfoTests {
    @Test func procIsProcfsAndAFolderHasSpaceInWholeBlocks() throws {
        /// `PROC_SUPER_MAGIC` (linux/magic.h).
        #expect(try SystemCall.fileSystemInfo(of: "/proc").type == 0x9FA0)
        let temporary = try SystemCall.fileSystemInfo(of: "/tmp")
        #expect(temporary.blockSize > 0)
        #expect(temporary.availableBytes >= 0)
    }
}
