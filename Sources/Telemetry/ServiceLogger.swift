import Logging

/// Makes the service's `Logger` in the chosen format without touching swift-log's process-wide bootstrap, so
/// several servers in one process (tests) each keep their own sink.
public enum ServiceLogger {
    public static func make(label: String, format: LogFormat, sink: LogSink = .standardError) -> Logger {
        Logger(label: label) { label in
            switch format {
            case .plain: return PlainLogHandler(label: label, sink: sink)
            case .json: return JSONLogHandler(label: label, sink: sink)
            }
        }
    }
}
