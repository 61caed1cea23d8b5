import Logging

/// `2026-12-07T03:55:00.123Z info mailferry.buffer: transaction code=250 queue_id=17 ...`: one line per event,
/// metadata as `key=value` in key order, values with spaces, quotes or `=` in double quotes.
enum PlainLogFormat {
    static func render(_ line: LogLine) -> String {
        var text = "\(line.timestamp) \(line.level) \(line.label): \(Self.singleLine(line.message))"
        for (key, value) in line.fields {
            text += " \(key)=\(Self.quoted(Self.text(value)))"
        }
        return text
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
