import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Shows how far a long operation is: on a terminal one line rewritten in place (a bar, items, bytes, rate and
/// time left when the total is known), plain lines every few seconds otherwise (logs, CI), and nothing when
/// quiet (for `--json`). Safe to call from several threads.
public final class ProgressReporter {
    // The counters are guarded by `lock`; every public method takes it.
    public enum Mode: Sendable { case terminal, lines, quiet }
    public let mode: Mode
    private let label: String
    private let start = Date()
    private let lock = NSLock()
    private var lastShown = Date.distantPast
    private var items = 0
    private var bytes: Int64 = 0
    private var totalItems: Int?
    private var totalBytes: Int64?
    private let interval: TimeInterval
    private let output: @Sendable (String) -> Void

    /// Seconds between plain lines when standard error is not a terminal.
    public static let lineInterval: TimeInterval = 5

    public convenience init(label: String, quiet: Bool, totalItems: Int? = nil, totalBytes: Int64? = nil) {
        let mode: Mode = quiet ? .quiet : isatty(STDERR_FILENO) == 1 ? .terminal : .lines
        self.init(label: label, mode: mode, totalItems: totalItems, totalBytes: totalBytes) { text in
            FileHandle.standardError.write(Data(text.utf8))
        }
    }

    /// A reporter writing to `output` in the given mode (tests, and servers relaying progress).
    public init(
        label: String, mode: Mode, totalItems: Int? = nil, totalBytes: Int64? = nil,
        output: @escaping @Sendable (String) -> Void
    ) {
        self.label = label
        self.mode = mode
        self.totalItems = totalItems
        self.totalBytes = totalBytes
        self.output = output
        interval = mode == .terminal ? 0.1 : Self.lineInterval
        // Plain lines start after one interval, so short runs print only the final line.
        if mode == .lines { lastShown = start }
    }

    /// Sets (or corrects) what the operation will amount to, once it is known.
    public func setTotal(items: Int?, bytes: Int64?) {
        lock.withLock {
            totalItems = items
            totalBytes = bytes
        }
    }

    public func update(items: Int, bytes: Int64) {
        lock.withLock {
            self.items = items
            self.bytes = bytes
            guard mode != .quiet else { return }
            let now = Date()
            guard now.timeIntervalSince(lastShown) >= interval else { return }
            lastShown = now
            show(final: false, now: now)
        }
    }

    public func finish() {
        lock.withLock {
            guard mode != .quiet else { return }
            show(final: true, now: Date())
        }
    }

    private func show(final: Bool, now: Date) {
        let elapsed = max(now.timeIntervalSince(start), 0.001)
        let status = Status(
            label: label, items: items, bytes: bytes, totalItems: totalItems, totalBytes: totalBytes, elapsed: elapsed)
        switch mode {
        case .terminal:
            let text = final ? status.finalLine : status.barLine(width: Self.terminalWidth())
            output("\r\u{1B}[K" + text + (final ? "\n" : ""))
        case .lines:
            output((final ? status.finalLine : status.plainLine) + "\n")
        case .quiet: break
        }
    }

    /// Standard error's terminal width, or 80.
    static func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }

    /// One moment of an operation, and how it reads.
    public struct Status: Sendable {
        public var label: String
        public var items: Int
        public var bytes: Int64
        public var totalItems: Int?
        public var totalBytes: Int64?
        public var elapsed: TimeInterval

        public init(label: String, items: Int, bytes: Int64, totalItems: Int?, totalBytes: Int64?, elapsed: TimeInterval) {
            self.label = label
            self.items = items
            self.bytes = bytes
            self.totalItems = totalItems
            self.totalBytes = totalBytes
            self.elapsed = elapsed
        }

        /// How far, from 0 to 1: by bytes when their total is known and not zero, else by items.
        public var fraction: Double? {
            if let totalBytes, totalBytes > 0 { return min(1, Double(bytes) / Double(totalBytes)) }
            if let totalItems, totalItems > 0 { return min(1, Double(items) / Double(totalItems)) }
            if totalItems == 0 || totalBytes == 0 { return 1 }
            return nil
        }

        /// Bytes per second so far.
        public var rate: Double { Double(bytes) / max(elapsed, 0.001) }

        /// Seconds left at the rate so far; nil without a total or before anything was done.
        public var secondsLeft: Double? {
            guard let fraction, fraction > 0 else { return nil }
            return max(0, elapsed * (1 - fraction) / fraction)
        }

        private var itemsText: String {
            totalItems.map { "\(items)/\($0) items" } ?? "\(items) items"
        }

        private var bytesText: String {
            totalBytes.map { "\(Format.bytes(bytes))/\(Format.bytes($0))" } ?? Format.bytes(bytes)
        }

        /// The terminal line: `import [#######-------]  52%  1204/2310 items  48.2 MB/92.7 MB  12.1 MB/s  3 s left`,
        /// cut to `width` columns so that it never wraps (a wrapped line cannot be rewritten in place).
        public func barLine(width: Int) -> String {
            var tail = "  \(itemsText)  \(bytesText)  \(Format.bytes(Int64(rate)))/s"
            if let left = secondsLeft { tail += "  \(Format.duration(left)) left" } else { tail += "  \(Format.duration(elapsed))" }
            var head = label
            if let fraction {
                let percent = String(format: "%3d%%", Int((fraction * 100).rounded(.down)))
                let room = width - label.count - tail.count - percent.count - 5
                let barWidth = min(30, room)
                if barWidth >= 5 {
                    let filled = Int((Double(barWidth) * fraction).rounded(.down))
                    head += " [" + String(repeating: "#", count: filled) + String(repeating: "-", count: barWidth - filled) + "]"
                }
                head += " " + percent
            }
            let line = head + tail
            return line.count <= width - 1 ? line : String(line.prefix(max(width - 1, 0)))
        }

        /// A line for logs: `import: 52%, 1204/2310 items, 48.2 MB/92.7 MB, 12.1 MB/s, about 3 s left`.
        public var plainLine: String {
            var parts: [String] = []
            if let fraction { parts.append("\(Int((fraction * 100).rounded(.down)))%") }
            parts += [itemsText, bytesText, "\(Format.bytes(Int64(rate)))/s"]
            if let left = secondsLeft { parts.append("about \(Format.duration(left)) left") }
            return "\(label): " + parts.joined(separator: ", ")
        }

        /// The last line: what was done and how long it took.
        public var finalLine: String {
            "\(label): \(items) items, \(Format.bytes(bytes)), \(Format.bytes(Int64(rate)))/s, \(String(format: "%.1f", elapsed)) s"
        }
    }
}
