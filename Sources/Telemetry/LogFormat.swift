/// How the service writes its log lines: `[log] format` in the buffer's TOML.
public enum LogFormat: String, Sendable, CaseIterable {
    /// `TIME LEVEL LABEL: MESSAGE key=value ...`, for people reading a terminal or the journal.
    case plain
    /// One JSON object per line, for log shippers.
    case json
}
