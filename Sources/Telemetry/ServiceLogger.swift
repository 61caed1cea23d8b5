import Logging

/// Makes the service's `Logger` in the chosen format without touching swift-log's process-wide bootstrap, so
/// several servers in one process (tests) each keep their own sink.
public enum ServiceLogger {
    public static func make(label: String, format: LogFormat, sink: LogSink = .standardError) -> Logger {
        Logger(label: label) { ServiceLogHandler(label: $0, format: format, sink: sink) }
    }
}

/// The service's one log handler: swift-log's level and metadata, each event made a `LogLine` and written in the
/// chosen format (`PlainLogFormat`, `JSONLogFormat`).
struct ServiceLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    let label: String
    let format: LogFormat
    let sink: LogSink

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let line = LogLine(event: event, label: label, handlerMetadata: metadata)
        let text: String?
        switch format {
        case .plain: text = PlainLogFormat.render(line)
        case .json: text = JSONLogFormat.render(line)
        }
        if let text { sink.emit(text) }
    }
}
