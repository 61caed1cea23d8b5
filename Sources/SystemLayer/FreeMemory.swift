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
}
