import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Shows how far a long operation is: a line rewritten in place on a terminal, plain lines every
/// few seconds otherwise (logs, CI), and nothing when quiet (for `--json`).
public final class ProgressReporter {
    public enum Mode: Sendable { case terminal, lines, quiet }
    private let mode: Mode
    private let label: String
    private let start = Date()
    private var lastShown = Date.distantPast
    private var items = 0
    private var bytes: Int64 = 0
    private let interval: TimeInterval

    public init(label: String, quiet: Bool) {
        self.label = label
        if quiet {
            mode = .quiet
        } else {
            mode = isatty(STDERR_FILENO) == 1 ? .terminal : .lines
        }
        interval = mode == .terminal ? 0.1 : 5
        // Plain lines start after one interval, so short runs print only the final line.
        if mode == .lines { lastShown = start }
    }

    public func update(items: Int, bytes: Int64) {
        self.items = items
        self.bytes = bytes
        guard mode != .quiet else { return }
        let now = Date()
        guard now.timeIntervalSince(lastShown) >= interval else { return }
        lastShown = now
        show(final: false)
    }

    public func finish() {
        guard mode != .quiet else { return }
        show(final: true)
    }

    private func show(final: Bool) {
        let elapsed = max(Date().timeIntervalSince(start), 0.001)
        let rate = Double(bytes) / elapsed
        let text = "\(label): \(items) items, \(Format.bytes(bytes)), \(Format.bytes(Int64(rate)))/s, \(String(format: "%.1f", elapsed)) s"
        switch mode {
        case .terminal: FileHandle.standardError.write(Data(("\r\u{1B}[K" + text + (final ? "\n" : "")).utf8))
        case .lines: FileHandle.standardError.write(Data((text + "\n").utf8))
        case .quiet: break
        }
    }
}

public enum Format {
    public static func bytes(_ n: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(n)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }
}
