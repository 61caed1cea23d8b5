import MailModel

/// Writes the manifest's most numerous lines, `entry` and `change`, member by member into format-spec section 6.1's
/// form, without going through `Encodable`: the mirror of `CanonicalManifestLine`, which reads them the same way.
///
/// Why: a delta export writes one `keep` line per item the source still holds, and a profile of a 20,000-message
/// delta export put a third of its time in `CanonicalJSONEncoder`'s generic path (keyed containers, optionals
/// boxed, metadata lookups) for these lines alone. Here each member is written in its sorted place directly.
///
/// The bytes are the ones `CanonicalJSONEncoder` (and JSONEncoder with sorted keys and unescaped slashes) writes
/// for the same value, which `ManifestLineWriterTests` checks on random lines of every shape. A member added to
/// `EntryRecord`, `ChangeRecord`, `MessageInfo`, `InternalDate` or `ItemOrigin` must be added here as well, in
/// its sorted place. The less common objects (contacts, calendar items, scripts) go through the generic encoder.
enum ManifestLineWriter {
    static func line(_ line: ManifestLine, into out: CanonicalOutput) throws {
        switch line {
        case .entry(let e):
            out.writeLiteral("{\"entry\":")
            try entry(e, into: out)
            out.bytes.append(UInt8(ascii: "}"))
        case .change(let c):
            out.writeLiteral("{\"change\":")
            try change(c, into: out)
            out.bytes.append(UInt8(ascii: "}"))
        default:
            try out.encodeValue(line, parent: nil, key: nil)
        }
    }

    static func entry(_ e: EntryRecord, into out: CanonicalOutput) throws {
        var o = ObjectWriter(out)
        if let v = e.calendarItem { try o.member("calendarItem") { try out.encodeValue(v, parent: nil, key: nil) } }
        if let v = e.contact { try o.member("contact") { try out.encodeValue(v, parent: nil, key: nil) } }
        if let v = e.container { o.member("container") { out.writeInteger(v) } }
        o.member("frame") { out.writeInteger(e.frame) }
        o.member("kind") { out.writeString(e.kind.rawValue) }
        if let v = e.message { o.member("message") { message(v, into: out) } }
        o.member("offset") { out.writeInteger(e.offset) }
        o.member("path") { out.writeString(e.path) }
        o.member("sha256") { out.writeString(e.sha256) }
        if let v = e.sieve { try o.member("sieve") { try out.encodeValue(v, parent: nil, key: nil) } }
        o.member("size") { out.writeInteger(e.size) }
        if let v = e.sourceKey { o.member("sourceKey") { out.writeString(v) } }
        o.member("user") { out.writeInteger(e.user) }
        o.end()
    }

    static func change(_ c: ChangeRecord, into out: CanonicalOutput) throws {
        var o = ObjectWriter(out)
        if let v = c.calendarItem { try o.member("calendarItem") { try out.encodeValue(v, parent: nil, key: nil) } }
        if let v = c.changed { o.member("changed") { strings(v, into: out) } }
        if let v = c.contact { try o.member("contact") { try out.encodeValue(v, parent: nil, key: nil) } }
        if let v = c.container { o.member("container") { out.writeInteger(v) } }
        if let v = c.folder { o.member("folder") { strings(v, into: out) } }
        if let v = c.from { o.member("from") { strings(v, into: out) } }
        if let v = c.kind { o.member("kind") { out.writeString(v.rawValue) } }
        if let v = c.message { o.member("message") { message(v, into: out) } }
        o.member("op") { out.writeString(c.op.rawValue) }
        if let v = c.origin {
            o.member("origin") {
                var p = ObjectWriter(out)
                p.member("archiveID") { out.writeString(v.archiveID) }
                p.member("path") { out.writeString(v.path) }
                p.end()
            }
        }
        if let v = c.sha256 { o.member("sha256") { out.writeString(v) } }
        if let v = c.sieve { try o.member("sieve") { try out.encodeValue(v, parent: nil, key: nil) } }
        if let v = c.size { o.member("size") { out.writeInteger(v) } }
        if let v = c.sourceKey { o.member("sourceKey") { out.writeString(v) } }
        if let v = c.to { o.member("to") { strings(v, into: out) } }
        o.member("user") { out.writeInteger(c.user) }
        o.end()
    }

    /// `MessageInfo`'s own `encode(to:)`, in sorted order: `maildirPassed` only when set, no `sourceKey`.
    static func message(_ m: MessageInfo, into out: CanonicalOutput) {
        var o = ObjectWriter(out)
        o.member("flags") { strings(m.flags.names, into: out) }
        if let v = m.from { o.member("from") { out.writeString(v) } }
        if let v = m.guid { o.member("guid") { out.writeString(v) } }
        o.member("internalDate") {
            let d = m.internalDate
            var p = ObjectWriter(out)
            p.member("epoch") { out.writeInteger(d.epochSeconds) }
            p.member("nanos") { out.writeInteger(d.nanoseconds) }
            if let v = d.utcOffsetMinutes { p.member("offset") { out.writeInteger(v) } }
            p.end()
        }
        o.member("keywords") { strings(m.keywords, into: out) }
        if m.maildirPassed { o.member("maildirPassed") { out.writeLiteral("true") } }
        if let v = m.messageID { o.member("messageID") { out.writeString(v) } }
        if let v = m.subject { o.member("subject") { out.writeString(v) } }
        if let v = m.uid { o.member("uid") { out.writeInteger(v) } }
        o.end()
    }

    static func strings(_ values: [String], into out: CanonicalOutput) {
        out.bytes.append(UInt8(ascii: "["))
        for (n, s) in values.enumerated() {
            if n > 0 { out.bytes.append(UInt8(ascii: ",")) }
            out.writeString(s)
        }
        out.bytes.append(UInt8(ascii: "]"))
    }

    /// `{`, members separated by commas, `}`; the caller gives the members in sorted order.
    struct ObjectWriter {
        let out: CanonicalOutput
        var first = true

        init(_ out: CanonicalOutput) {
            self.out = out
            out.bytes.append(UInt8(ascii: "{"))
        }

        mutating func member(_ name: StaticString, _ value: () throws -> Void) rethrows {
            if !first { out.bytes.append(UInt8(ascii: ",")) }
            first = false
            out.bytes.append(UInt8(ascii: "\""))
            out.writeLiteral(name)
            out.writeLiteral("\":")
            try value()
        }

        func end() { out.bytes.append(UInt8(ascii: "}")) }
    }
}
