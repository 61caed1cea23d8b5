/// Where a new message's temporary file is written. The service always uses `.spoolDirectory`; the other case is
/// a seam for tests that drive a real write failure end to end without root: `.existingFile("/dev/full")` makes
/// every write of every message fail with ENOSPC from the kernel, the same error a full file system gives.
package enum IncomingFiles: Sendable, Equatable {
    /// `incoming/<token>.tmp` in the spool (format-spec/buffer-spool.md, section 3).
    case spoolDirectory
    /// Every message is written to this existing file instead (opened for writing, never created or removed).
    case existingFile(String)
}
