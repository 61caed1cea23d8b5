/// Writes any `Encodable` value straight into the manifest's JSON form (format-spec section 6.1): members sorted by
/// name in byte order, no whitespace, only `"`, `\` and control characters escaped, integers only, absent optionals
/// omitted.
///
/// Why not `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]`, which writes the same bytes: it builds a tree
/// of values and sorts each object's keys as strings before it writes, and a delta export writes one line per item
/// the source still holds. A profile of a 20,000-message delta export put 40% of its time there; this encoder
/// writes each member into one buffer as it comes and only reorders the members of an object that came unsorted.
struct CanonicalJSONEncoder {
    func encode(_ value: some Encodable) throws -> [UInt8] {
        let output = CanonicalOutput()
        try output.encodeValue(value, parent: nil, key: nil)
        return output.bytes
    }
}

/// A value the manifest's form cannot hold (a fraction, a top-level value written twice).
struct CanonicalJSONError: Error, CustomStringConvertible {
    var description: String
}

/// The bytes written so far, shared by every container of one `encode` call.
final class CanonicalOutput {
    var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(512) }

    /// `key` (under `parent`) is where the value sits, turned into a path only for a value that is not a leaf.
    func encodeValue(_ value: some Encodable, parent: CanonicalPath?, key: (any CodingKey)?) throws {
        // The common leaves directly, without the Encoder round trip (a type comparison, not a dynamic cast).
        let type = type(of: value)
        if type == String.self {
            writeString(unsafeBitCast(value, to: String.self))
        } else if type == Int.self {
            writeInteger(unsafeBitCast(value, to: Int.self))
        } else if type == Int64.self {
            writeInteger(unsafeBitCast(value, to: Int64.self))
        } else if type == Bool.self {
            writeLiteral(unsafeBitCast(value, to: Bool.self) ? "true" : "false")
        } else {
            let encoder = CanonicalValueEncoder(output: self, path: CanonicalPath.appending(key, to: parent))
            let start = bytes.count
            try value.encode(to: encoder)
            try encoder.finish()
            // A value that wrote nothing (an empty `encode(to:)`) is an empty object, as JSONEncoder writes it.
            if bytes.count == start { writeLiteral("{}") }
        }
    }

    func writeLiteral(_ literal: StaticString) {
        literal.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    func writeInteger(_ value: some BinaryInteger) {
        guard let v = Int64(exactly: value) else {
            bytes.append(contentsOf: String(value).utf8)
            return
        }
        // Digits written backwards into a small buffer: no String made for each number of every line.
        var magnitude = v.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var n = 20
            repeat {
                n -= 1
                digits[n] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if v < 0 { bytes.append(UInt8(ascii: "-")) }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[n...]))
        }
    }

    func writeString(_ string: String) {
        bytes.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            var runStart = 0
            for (index, byte) in utf8.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[runStart..<index]))
                switch byte {
                case 0x22: writeLiteral("\\\"")
                case 0x5C: writeLiteral("\\\\")
                case 0x08: writeLiteral("\\b")
                case 0x09: writeLiteral("\\t")
                case 0x0A: writeLiteral("\\n")
                case 0x0C: writeLiteral("\\f")
                case 0x0D: writeLiteral("\\r")
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    writeLiteral("\\u00")
                    bytes.append(hex[Int(byte >> 4)])
                    bytes.append(hex[Int(byte & 0x0F)])
                }
                runStart = index + 1
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[runStart...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// What one `encode(to:)` asked for: a keyed container (an object), an unkeyed one (an array) or a single value.
/// Containers write into the shared output at once; an object's members are put in order when it is finished.
final class CanonicalValueEncoder: Encoder {
    let output: CanonicalOutput
    let path: CanonicalPath?
    var codingPath: [any CodingKey] { path?.keys ?? [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    private var object: CanonicalObject?
    private var array: CanonicalArray?

    init(output: CanonicalOutput, path: CanonicalPath?) {
        self.output = output
        self.path = path
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if object == nil { object = CanonicalObject(output: output, path: path) }
        return KeyedEncodingContainer(CanonicalKeyedContainer<Key>(object: object!))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if array == nil { array = CanonicalArray(output: output, path: path) }
        return CanonicalUnkeyedContainer(array: array!)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        CanonicalSingleValueContainer(output: output, path: path)
    }

    func finish() throws {
        try object?.finish()
        array?.finish()
    }
}

/// An object being written: each member's bytes (`"name":value`) land in the output as they come; `finish` closes
/// it and, if the members did not come in byte order of their names, rewrites them in that order.
final class CanonicalObject {
    let output: CanonicalOutput
    let path: CanonicalPath?
    private let start: Int
    /// Each member's name and where its bytes start in the output.
    private var members: [(name: String, start: Int)] = []
    private var sorted = true
    private var open: [CanonicalValueEncoder] = []

    init(output: CanonicalOutput, path: CanonicalPath?) {
        self.output = output
        self.path = path
        start = output.bytes.count
        output.bytes.append(UInt8(ascii: "{"))
    }

    /// Starts a member: writes its separator and name.
    func begin(_ key: any CodingKey) throws {
        try closeNested()
        let name = key.stringValue
        if let last = members.last, !last.name.utf8.lexicographicallyPrecedes(name.utf8) {
            guard last.name != name else {
                throw CanonicalJSONError(description: "member \(name) written twice at \(described)")
            }
            sorted = false
        }
        if !members.isEmpty { output.bytes.append(UInt8(ascii: ",")) }
        members.append((name, output.bytes.count))
        output.writeString(name)
        output.bytes.append(UInt8(ascii: ":"))
    }

    /// A nested container's encoder, finished when the next member begins or the object ends.
    func nested(_ key: any CodingKey) throws -> CanonicalValueEncoder {
        try begin(key)
        let encoder = CanonicalValueEncoder(output: output, path: CanonicalPath.appending(key, to: path))
        open.append(encoder)
        return encoder
    }

    private func closeNested() throws {
        for encoder in open { try encoder.finish() }
        open.removeAll()
    }

    var described: String { path?.description ?? "" }

    func finish() throws {
        try closeNested()
        guard !sorted else {
            output.bytes.append(UInt8(ascii: "}"))
            return
        }
        // Each member's bytes run from its start to the next member's start (less the comma) or the end.
        let end = output.bytes.count
        var spans: [(name: String, range: Range<Int>)] = []
        for (index, member) in members.enumerated() {
            let stop = index + 1 < members.count ? members[index + 1].start - 1 : end
            spans.append((member.name, member.start..<stop))
        }
        spans.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        var object: [UInt8] = [UInt8(ascii: "{")]
        object.reserveCapacity(end - start + 1)
        for (index, span) in spans.enumerated() {
            if index > 0 { object.append(UInt8(ascii: ",")) }
            object.append(contentsOf: output.bytes[span.range])
        }
        object.append(UInt8(ascii: "}"))
        output.bytes.replaceSubrange(start..<end, with: object)
    }
}

struct CanonicalKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let object: CanonicalObject
    var codingPath: [any CodingKey] { object.path?.keys ?? [] }

    mutating func encodeNil(forKey key: Key) throws {
        try object.begin(key)
        object.output.writeLiteral("null")
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws {
        try object.begin(key)
        object.output.writeLiteral(value ? "true" : "false")
    }

    mutating func encode(_ value: String, forKey key: Key) throws {
        try object.begin(key)
        object.output.writeString(value)
    }

    mutating func encode(_ value: Double, forKey key: Key) throws { throw fraction(key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { throw fraction(key) }

    mutating func encode(_ value: Int, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try integer(value, key) }

    mutating func encode(_ value: some Encodable, forKey key: Key) throws {
        try object.begin(key)
        try object.output.encodeValue(value, parent: object.path, key: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        // The protocol cannot throw here; a name written twice is caught when the object's member order is checked.
        let encoder = (try? object.nested(key)) ?? CanonicalValueEncoder(output: object.output, path: object.path)
        return encoder.container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let encoder = (try? object.nested(key)) ?? CanonicalValueEncoder(output: object.output, path: object.path)
        return encoder.unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        (try? object.nested(CanonicalKey("super"))) ?? CanonicalValueEncoder(output: object.output, path: object.path)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        (try? object.nested(key)) ?? CanonicalValueEncoder(output: object.output, path: object.path)
    }

    private func integer(_ value: some BinaryInteger, _ key: Key) throws {
        try object.begin(key)
        object.output.writeInteger(value)
    }

    private func fraction(_ key: Key) -> CanonicalJSONError {
        CanonicalJSONError(description: "\(object.described).\(key.stringValue): the manifest's numbers are integers")
    }
}

/// An array being written: elements land in the output as they come, separated by commas.
final class CanonicalArray {
    let output: CanonicalOutput
    let path: CanonicalPath?
    private(set) var count = 0
    private var open: [CanonicalValueEncoder] = []

    init(output: CanonicalOutput, path: CanonicalPath?) {
        self.output = output
        self.path = path
        output.bytes.append(UInt8(ascii: "["))
    }

    func beginElement() throws {
        for encoder in open { try encoder.finish() }
        open.removeAll()
        if count > 0 { output.bytes.append(UInt8(ascii: ",")) }
        count += 1
    }

    func nested() throws -> CanonicalValueEncoder {
        try beginElement()
        let encoder = CanonicalValueEncoder(output: output, path: CanonicalPath.appending(CanonicalKey(index: count - 1), to: path))
        open.append(encoder)
        return encoder
    }

    func finish() {
        for encoder in open { try? encoder.finish() }
        open.removeAll()
        output.bytes.append(UInt8(ascii: "]"))
    }
}

struct CanonicalUnkeyedContainer: UnkeyedEncodingContainer {
    let array: CanonicalArray
    var codingPath: [any CodingKey] { array.path?.keys ?? [] }
    var count: Int { array.count }

    mutating func encodeNil() throws {
        try array.beginElement()
        array.output.writeLiteral("null")
    }

    mutating func encode(_ value: Double) throws { throw fraction }
    mutating func encode(_ value: Float) throws { throw fraction }

    mutating func encode(_ value: some Encodable) throws {
        try array.beginElement()
        try array.output.encodeValue(value, parent: array.path, key: CanonicalKey(index: array.count - 1))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey>
    {
        let encoder = (try? array.nested()) ?? CanonicalValueEncoder(output: array.output, path: array.path)
        return encoder.container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let encoder = (try? array.nested()) ?? CanonicalValueEncoder(output: array.output, path: array.path)
        return encoder.unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        (try? array.nested()) ?? CanonicalValueEncoder(output: array.output, path: array.path)
    }

    private var fraction: CanonicalJSONError {
        CanonicalJSONError(description: "\(array.path?.description ?? ""): the manifest's numbers are integers")
    }
}

struct CanonicalSingleValueContainer: SingleValueEncodingContainer {
    let output: CanonicalOutput
    let path: CanonicalPath?
    var codingPath: [any CodingKey] { path?.keys ?? [] }

    mutating func encodeNil() throws { output.writeLiteral("null") }
    mutating func encode(_ value: Bool) throws { output.writeLiteral(value ? "true" : "false") }
    mutating func encode(_ value: String) throws { output.writeString(value) }
    mutating func encode(_ value: Double) throws { throw fraction }
    mutating func encode(_ value: Float) throws { throw fraction }
    mutating func encode(_ value: Int) throws { output.writeInteger(value) }
    mutating func encode(_ value: Int8) throws { output.writeInteger(value) }
    mutating func encode(_ value: Int16) throws { output.writeInteger(value) }
    mutating func encode(_ value: Int32) throws { output.writeInteger(value) }
    mutating func encode(_ value: Int64) throws { output.writeInteger(value) }
    mutating func encode(_ value: UInt) throws { output.writeInteger(value) }
    mutating func encode(_ value: UInt8) throws { output.writeInteger(value) }
    mutating func encode(_ value: UInt16) throws { output.writeInteger(value) }
    mutating func encode(_ value: UInt32) throws { output.writeInteger(value) }
    mutating func encode(_ value: UInt64) throws { output.writeInteger(value) }
    mutating func encode(_ value: some Encodable) throws { try output.encodeValue(value, parent: path, key: nil) }

    private var fraction: CanonicalJSONError {
        CanonicalJSONError(description: "\(path?.description ?? ""): the manifest's numbers are integers")
    }
}

struct CanonicalKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init(index: Int) {
        stringValue = String(index)
        intValue = index
    }
    init?(intValue: Int) { self.init(index: intValue) }
}

/// Where a value sits: its key and its parent's path, made into the `codingPath` array only when asked (error
/// messages), since most values never are.
final class CanonicalPath: CustomStringConvertible {
    let parent: CanonicalPath?
    let key: any CodingKey

    init(parent: CanonicalPath?, key: any CodingKey) {
        self.parent = parent
        self.key = key
    }

    static func appending(_ key: (any CodingKey)?, to parent: CanonicalPath?) -> CanonicalPath? {
        key.map { CanonicalPath(parent: parent, key: $0) } ?? parent
    }

    var keys: [any CodingKey] { (parent?.keys ?? []) + [key] }
    var description: String { keys.map(\.stringValue).joined(separator: ".") }
}
