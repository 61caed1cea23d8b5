/// The one JSON form every manifest and statement line is written in (format-spec section 6.1): sorted keys, no
/// escaped slashes, no whitespace. Sorting makes the bytes a function of the content, so test vectors hold.
enum ManifestCoding {
    static func encoder() -> CanonicalJSONEncoder { CanonicalJSONEncoder() }

    static func line(_ value: some Encodable, with encoder: CanonicalJSONEncoder) throws -> [UInt8] {
        var bytes = try encoder.encode(value)
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    /// An entry or change line, written member by member (`ManifestLineWriter`); the same bytes as the generic path.
    static func line(_ line: ManifestLine, with encoder: CanonicalJSONEncoder) throws -> [UInt8] {
        let output = CanonicalOutput()
        try ManifestLineWriter.line(line, into: output)
        output.bytes.append(UInt8(ascii: "\n"))
        return output.bytes
    }

    /// A bare entry record, as an export's read-ahead spools them.
    static func line(_ record: EntryRecord, with encoder: CanonicalJSONEncoder) throws -> [UInt8] {
        let output = CanonicalOutput()
        try ManifestLineWriter.entry(record, into: output)
        output.bytes.append(UInt8(ascii: "\n"))
        return output.bytes
    }
}
