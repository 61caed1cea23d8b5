import Foundation
import Logging

/// One JSON object per line: `time`, `level`, `label`, `message`, then every metadata key at the top level
/// (lists as arrays, dictionaries as objects). A metadata key named like one of the four is written as
/// `meta_KEY`, so it never hides them.
enum JSONLogFormat {
    static let reservedKeys: Set<String> = ["time", "level", "label", "message"]

    /// The line's text; nil if it cannot be serialised (nothing is logged then).
    static func render(_ line: LogLine) -> String? {
        var object: [String: Any] = [
            "time": line.timestamp, "level": line.level.rawValue, "label": line.label, "message": line.message,
        ]
        for (key, value) in line.fields {
            object[Self.reservedKeys.contains(key) ? "meta_" + key : key] = Self.json(value)
        }
        // Sorted keys: the same event always gives the same line.
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let string): return string
        case .stringConvertible(let convertible):
            // Numbers stay numbers, so a shipper can sum and compare them.
            if let integer = convertible as? any BinaryInteger { return Int64(integer) }
            if let double = convertible as? Double { return double }
            return convertible.description
        case .array(let values): return values.map(json)
        case .dictionary(let dictionary): return dictionary.mapValues(json)
        }
    }
}
