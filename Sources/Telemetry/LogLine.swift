import Foundation
import Logging

/// The parts of a log line both formats share: when, how severe, from where, and the metadata flattened to
/// ordered key/value pairs (the handler's own metadata first, then the event's, which wins on a clash).
struct LogLine {
    var time: Date
    var level: Logger.Level
    var label: String
    var message: String
    var fields: [(key: String, value: Logger.Metadata.Value)]

    init(event: LogEvent, label: String, handlerMetadata: Logger.Metadata) {
        time = Date()
        level = event.level
        self.label = label
        message = event.message.description
        var merged = handlerMetadata
        if let eventMetadata = event.metadata { merged.merge(eventMetadata) { _, new in new } }
        // Sorted, so that a line reads the same every time and tests can compare it.
        fields = merged.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
    }

    /// RFC 3339 in UTC with milliseconds: sortable, and parsed by every log shipper.
    var timestamp: String {
        time.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
