/// The one JSON form every manifest and statement line is written in (format-spec section 6.1): sorted keys, no
/// escaped slashes, no whitespace. Sorting makes the bytes a function of the content, so test vectors hold.
enum ManifestCoding {
    static func encoder() -> CanonicalJSONEncoder { CanonicalJSONEncoder() }

    static func line(_ value: some Encodable, with encoder: CanonicalJSONEncoder) throws -> [UInt8] {
        var bytes = try encoder.encode(value)
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }
}
