#if canImport(Glibc)
import Glibc
#endif

/// Hands the heap's free pages back to the system between the phases of a long command (an import's writing, its
/// reconcile, its identity map). Each phase frees most of what it allocated, but glibc keeps freed pages in its
/// arenas (one per thread that allocated), so without this the next phase's allocations land beside them and peak
/// RSS is the sum of the phases' peaks rather than the largest of them.
public enum FreeMemory {
    /// glibc's `malloc_trim`, found at run time (its header, malloc.h, is not part of the Glibc module); nil
    /// elsewhere, where this does nothing.
    private static let trim: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
        return nil
        #endif
    }()

    public static func returnToSystem() {
        _ = trim?(0)
    }

    /// glibc's `mallopt`, found at run time as `malloc_trim` is.
    private static let option: (@convention(c) (Int32, Int32) -> Int32)? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        #else
        return nil
        #endif
    }()

    /// Called first thing, before any thread starts. glibc gives each thread that allocates an arena of its own, up
    /// to eight per core, and raises its threshold for serving a large block from its own mapping each time one is
    /// freed, so large buffers come to live in the arenas, which keep the pages. For a process of a few threads
    /// (readers, compressors, SwiftNIO's loops) that held 15-20 MB more at its peak than it used. With one arena per
    /// core and a fixed 256 KiB threshold, at 200,000 messages: full import 104 -> 86 MB, delta import 106 -> 95 MB,
    /// full export 91 -> 79 MB. A block above the threshold is mapped and faulted in each time it is made, so the
    /// large buffers made often are reused (`FramePipeline`'s slots) or kept below it (IMAP write chunks); a 1 MiB
    /// threshold measured the same within 2 MB.
    public static func tuneAllocator(cores: Int) {
        _ = option?(-8, Int32(clamping: max(2, cores)))  // M_ARENA_MAX
        _ = option?(-3, 256 << 10)  // M_MMAP_THRESHOLD (fixing it also stops its growth)
    }
}
