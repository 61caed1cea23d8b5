import Foundation

/// The one JSON form every manifest and statement line is written in: sorted keys, no escaped
/// slashes, no whitespace. Sorting makes the bytes a function of the content, so test vectors hold.
enum ManifestCoding {
    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    static func line(_ value: some Encodable, with encoder: JSONEncoder) throws -> [UInt8] {
        var bytes = [UInt8](try encoder.encode(value))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }
}
