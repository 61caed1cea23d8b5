import Logging

/// `2026-12-07T03:55:00.123Z info mailferry.buffer: transaction code=250 queue_id=17 ...`: one line per event,
/// metadata as `key=value` in key order, values with spaces, quotes or `=` in double quotes.
public struct PlainLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let sink: LogSink

    public init(label: String, sink: LogSink) {
        self.label = label
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let line = LogLine(event: event, label: label, handlerMetadata: metadata)
        var text = "\(line.timestamp) \(line.level) \(line.label): \(Self.singleLine(line.message))"
        for (key, value) in line.fields {
            text += " \(key)=\(Self.quoted(Self.text(value)))"
        }
        sink.emit(text)
    }

    /// Lists are comma-separated; a dictionary is `{key=value,...}` in key order.
    static func text(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let string): return string
        case .stringConvertible(let convertible): return convertible.description
        case .array(let values): return values.map(text).joined(separator: ",")
        case .dictionary(let dictionary):
            return "{" + dictionary.sorted { $0.key < $1.key }.map { "\($0.key)=\(text($0.value))" }.joined(separator: ",") + "}"
        }
    }

    static func quoted(_ text: String) -> String {
        let needsQuotes = text.isEmpty || text.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }
        guard needsQuotes else { return text }
        return "\"" + singleLine(text).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// A line break inside a value would start a new log line: it is written as `\n`.
    static func singleLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\n", with: "\\n")
    }
}
