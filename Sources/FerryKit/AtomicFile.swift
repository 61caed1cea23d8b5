import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SystemLayer

/// Writes small files (keys, reports) so that a reader sees the old file or the whole new one:
/// temporary name, fsync, rename, fsync of the directory.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        try write(to: path, mode: mode) { sink in try sink(bytes[...]) }
    }

    /// Writes what `produce` hands to its sink, chunk by chunk, under a temporary name, then renames it: a large
    /// file (an HTML report) is never held whole, and a failure (of the disk or of `produce`) leaves nothing.
    public static func write(
        to path: String, mode: mode_t, _ produce: (_ sink: (ArraySlice<UInt8>) throws -> Void) throws -> Void
    ) throws {
        do {
            try AtomicReplace.write(to: path, mode: mode) { sink in
                try withoutActuallyEscaping(sink) { sink in
                    try produce { chunk in try chunk.withUnsafeBytes { try sink($0) } }
                }
            }
        } catch let error as SystemError {
            throw FerryError(.ioError, "\(error.path): \(error.operation) failed: \(error.reason)")
        }
    }
}
