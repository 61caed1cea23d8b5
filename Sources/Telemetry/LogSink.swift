import Foundation
import Synchronization

/// Where finished log lines go. Each line is handed over whole, under a lock, so lines from several threads
/// never interleave.
public final class LogSink: Sendable {
    private let lock = Mutex(())
    private let write: @Sendable (String) -> Void

    public init(write: @escaping @Sendable (String) -> Void) {
        self.write = write
    }

    /// Standard error, where a service under systemd is read by the journal.
    public static let standardError = LogSink { line in FileHandle.standardError.write(Data(line.utf8)) }

    /// Drops every line: for servers started inside tests that do not read their log.
    public static let discard = LogSink { _ in }

    /// Writes `line` followed by a newline.
    public func emit(_ line: String) {
        lock.withLock { _ in write(line + "\n") }
    }
}
