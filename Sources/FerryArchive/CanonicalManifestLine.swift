import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MailModel
import SystemLayer

/// A hand-written decoder for `entry` and `change` manifest lines in exactly the form MailFerry's writer emits
/// (`ManifestCoding`: JSONEncoder with sorted keys, no whitespace, no escaped slashes). JSONDecoder spent about
/// 40% of `verify`'s and a delta import's CPU on these lines; this reads them straight from the line's bytes.
///
/// Safety rule: it returns a value only for a line it fully understands, and then that value is the one
/// JSONDecoder gives. For anything else (another key order, a duplicate or unknown key, whitespace, `null`,
/// an escape the writer does not emit, a number form other than a plain integer in range, invalid UTF-8, a
/// missing field) it returns nil, and the caller decodes the line with JSONDecoder as before, with the same
/// values, errors and messages. It never throws and never decides that a line is bad.
enum CanonicalManifestLine {
    /// The line (without its newline) as a `ManifestLine`, or nil when the slow path must decide.
    static func decode(_ line: UnsafeRawBufferPointer) -> ManifestLine? {
        var c = CanonicalCursor(line)
        guard c.take(UInt8(ascii: "{")) else { return nil }
        let result: ManifestLine
        if c.takeLiteral(Keys.entryPrefix) {
            guard let e = entry(&c) else { return nil }
            result = .entry(e)
        } else if c.takeLiteral(Keys.changePrefix) {
            guard let ch = change(&c) else { return nil }
            result = .change(ch)
        } else {
            return nil
        }
        // Exactly one key, and nothing after the object (JSONDecoder would allow trailing whitespace: slow path).
        guard c.take(UInt8(ascii: "}")), c.atEnd else { return nil }
        return result
    }

    /// A bare `EntryRecord` object (no `{"entry":...}` wrapper), as the export spools its records.
    static func decodeEntryRecord(_ line: UnsafeRawBufferPointer) -> EntryRecord? {
        var c = CanonicalCursor(line)
        guard let e = entry(&c), c.atEnd else { return nil }
        return e
    }

    // Key tables in the order JSONEncoder's `.sortedKeys` writes them; a key must come later in its table than
    // the one before it, which also refuses duplicates and unknown keys.
    enum Keys {
        static let entryPrefix: [UInt8] = Array("\"entry\":".utf8)
        static let changePrefix: [UInt8] = Array("\"change\":".utf8)
        static let entry = table(
            "calendarItem", "contact", "container", "frame", "kind", "message", "offset", "path", "sha256", "sieve",
            "size", "sourceKey", "user")
        static let change = table(
            "calendarItem", "changed", "contact", "container", "folder", "from", "kind", "message", "op", "origin",
            "sha256", "sieve", "size", "sourceKey", "to", "user")
        static let message = table(
            "flags", "from", "guid", "internalDate", "keywords", "maildirPassed", "messageID", "subject", "uid")
        static let date = table("epoch", "nanos", "offset")
        static let contact = table("cards", "etag", "resourceName")
        static let card = table("formattedName", "uid", "version")
        static let calendarItem = table("components", "etag", "resourceName")
        static let component = table("kind", "organizer", "summary", "uid")
        static let sieve = table("active", "name")
        static let origin = table("archiveID", "path")

        static func table(_ names: String...) -> [[UInt8]] { names.map { Array($0.utf8) } }
    }

    /// Reads `{"k":v,...}` whose keys come in `keys`' order (each at most once), handing each value to `value`
    /// with the key's index; false when the object is not of that form or `value` refuses.
    static func members(_ c: inout CanonicalCursor, _ keys: [[UInt8]], _ value: (inout CanonicalCursor, Int) -> Bool) -> Bool {
        guard c.take(UInt8(ascii: "{")) else { return false }
        if c.take(UInt8(ascii: "}")) { return true }
        var next = 0
        while true {
            guard let k = c.key(keys, from: next), c.take(UInt8(ascii: ":")), value(&c, k) else { return false }
            next = k + 1
            if c.take(UInt8(ascii: ",")) { continue }
            return c.take(UInt8(ascii: "}"))
        }
    }

    static func entry(_ c: inout CanonicalCursor) -> EntryRecord? {
        var path: String?, kind: ItemKind?, user: Int?, container: Int?, size: Int64?, sha256: String?
        var offset: Int64?, frame: Int?, message: MessageInfo?, contact: ContactInfo?, calendarItem: CalendarItemInfo?
        var sieve: SieveScriptInfo?, sourceKey: String?
        let ok = members(&c, Keys.entry) { c, k in
            switch k {
            case 0: calendarItem = Self.calendarItem(&c); return calendarItem != nil
            case 1: contact = Self.contact(&c); return contact != nil
            case 2: container = c.int(); return container != nil
            case 3: frame = c.int(); return frame != nil
            case 4: kind = c.string().flatMap(ItemKind.init(rawValue:)); return kind != nil
            case 5: message = Self.message(&c); return message != nil
            case 6: offset = c.int64(); return offset != nil
            case 7: path = c.string(); return path != nil
            case 8: sha256 = c.string(); return sha256 != nil
            case 9: sieve = Self.sieve(&c); return sieve != nil
            case 10: size = c.int64(); return size != nil
            case 11: sourceKey = c.string(); return sourceKey != nil
            default: user = c.int(); return user != nil
            }
        }
        guard ok, let path, let kind, let user, let size, let sha256, let offset, let frame else { return nil }
        var e = EntryRecord(
            path: path, kind: kind, user: user, container: container, size: size, sha256: sha256, offset: offset,
            frame: frame)
        e.message = message
        e.contact = contact
        e.calendarItem = calendarItem
        e.sieve = sieve
        e.sourceKey = sourceKey
        return e
    }

    static func change(_ c: inout CanonicalCursor) -> ChangeRecord? {
        var op: ChangeRecord.Operation?, user: Int?
        var r = ChangeRecord(op: .keep, user: 0)
        let ok = members(&c, Keys.change) { c, k in
            switch k {
            case 0: r.calendarItem = Self.calendarItem(&c); return r.calendarItem != nil
            case 1: r.changed = c.strings(); return r.changed != nil
            case 2: r.contact = Self.contact(&c); return r.contact != nil
            case 3: r.container = c.int(); return r.container != nil
            case 4: r.folder = c.strings(); return r.folder != nil
            case 5: r.from = c.strings(); return r.from != nil
            case 6: r.kind = c.string().flatMap(ItemKind.init(rawValue:)); return r.kind != nil
            case 7: r.message = Self.message(&c); return r.message != nil
            case 8: op = c.string().flatMap(ChangeRecord.Operation.init(rawValue:)); return op != nil
            case 9: r.origin = Self.origin(&c); return r.origin != nil
            case 10: r.sha256 = c.string(); return r.sha256 != nil
            case 11: r.sieve = Self.sieve(&c); return r.sieve != nil
            case 12: r.size = c.int64(); return r.size != nil
            case 13: r.sourceKey = c.string(); return r.sourceKey != nil
            case 14: r.to = c.strings(); return r.to != nil
            default: user = c.int(); return user != nil
            }
        }
        guard ok, let op, let user else { return nil }
        r.op = op
        r.user = user
        return r
    }

    static func message(_ c: inout CanonicalCursor) -> MessageInfo? {
        var flags: SystemFlags?, keywords: [String]?, date: InternalDate?, guid: String?, uid: UInt32?
        var subject: String?, from: String?, messageID: String?, passed: Bool?
        let ok = members(&c, Keys.message) { c, k in
            switch k {
            case 0:
                // As SystemFlags' Decodable: names matched the same way; an unknown one is JSONDecoder's error.
                guard let names = c.strings() else { return false }
                var unknown: [String] = []
                flags = SystemFlags(names: names, unknown: &unknown)
                return unknown.isEmpty
            case 1: from = c.string(); return from != nil
            case 2: guid = c.string(); return guid != nil
            case 3: date = Self.date(&c); return date != nil
            case 4: keywords = c.strings(); return keywords != nil
            case 5: passed = c.bool(); return passed != nil
            case 6: messageID = c.string(); return messageID != nil
            case 7: subject = c.string(); return subject != nil
            default: uid = c.int64().flatMap(UInt32.init(exactly:)); return uid != nil
            }
        }
        guard ok, let flags, let keywords, let date else { return nil }
        return MessageInfo(
            flags: flags, keywords: keywords, internalDate: date, guid: guid, uid: uid, subject: subject, from: from,
            messageID: messageID, sourceKey: nil, maildirPassed: passed ?? false)
    }

    static func date(_ c: inout CanonicalCursor) -> InternalDate? {
        var epoch: Int64?, nanos: Int32?, offset: Int16?
        let ok = members(&c, Keys.date) { c, k in
            switch k {
            case 0: epoch = c.int64(); return epoch != nil
            case 1: nanos = c.int64().flatMap(Int32.init(exactly:)); return nanos != nil
            default: offset = c.int64().flatMap(Int16.init(exactly:)); return offset != nil
            }
        }
        guard ok, let epoch, let nanos else { return nil }
        return InternalDate(epochSeconds: epoch, nanoseconds: nanos, utcOffsetMinutes: offset)
    }

    static func contact(_ c: inout CanonicalCursor) -> ContactInfo? {
        var cards: [CardSummary]?, etag: String?, name: String?
        let ok = members(&c, Keys.contact) { c, k in
            switch k {
            case 0: cards = c.array { c in Self.card(&c) }; return cards != nil
            case 1: etag = c.string(); return etag != nil
            default: name = c.string(); return name != nil
            }
        }
        guard ok, let cards, let name else { return nil }
        return ContactInfo(resourceName: name, cards: cards, etag: etag)
    }

    static func card(_ c: inout CanonicalCursor) -> CardSummary? {
        var formattedName: String?, uid: String?, version: String?
        let ok = members(&c, Keys.card) { c, k in
            switch k {
            case 0: formattedName = c.string(); return formattedName != nil
            case 1: uid = c.string(); return uid != nil
            default: version = c.string(); return version != nil
            }
        }
        return ok ? CardSummary(version: version, uid: uid, formattedName: formattedName) : nil
    }

    static func calendarItem(_ c: inout CanonicalCursor) -> CalendarItemInfo? {
        var components: [ComponentSummary]?, etag: String?, name: String?
        let ok = members(&c, Keys.calendarItem) { c, k in
            switch k {
            case 0: components = c.array { c in Self.component(&c) }; return components != nil
            case 1: etag = c.string(); return etag != nil
            default: name = c.string(); return name != nil
            }
        }
        guard ok, let components, let name else { return nil }
        return CalendarItemInfo(resourceName: name, components: components, etag: etag)
    }

    static func component(_ c: inout CanonicalCursor) -> ComponentSummary? {
        var kind: String?, organizer: String?, summary: String?, uid: String?
        let ok = members(&c, Keys.component) { c, k in
            switch k {
            case 0: kind = c.string(); return kind != nil
            case 1: organizer = c.string(); return organizer != nil
            case 2: summary = c.string(); return summary != nil
            default: uid = c.string(); return uid != nil
            }
        }
        guard ok, let kind else { return nil }
        return ComponentSummary(kind: kind, uid: uid, summary: summary, organizer: organizer)
    }

    static func sieve(_ c: inout CanonicalCursor) -> SieveScriptInfo? {
        var active: Bool?, name: String?
        let ok = members(&c, Keys.sieve) { c, k in
            switch k {
            case 0: active = c.bool(); return active != nil
            default: name = c.string(); return name != nil
            }
        }
        guard ok, let active, let name else { return nil }
        return SieveScriptInfo(name: name, active: active)
    }

    static func origin(_ c: inout CanonicalCursor) -> ItemOrigin? {
        var archiveID: String?, path: String?
        let ok = members(&c, Keys.origin) { c, k in
            switch k {
            case 0: archiveID = c.string(); return archiveID != nil
            default: path = c.string(); return path != nil
            }
        }
        guard ok, let archiveID, let path else { return nil }
        return ItemOrigin(archiveID: archiveID, path: path)
    }
}

/// A position in one line's bytes. Every reader returns nil (or false) rather than guess.
struct CanonicalCursor {
    let bytes: UnsafeRawBufferPointer
    var i = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var atEnd: Bool { i == bytes.count }

    mutating func take(_ b: UInt8) -> Bool {
        guard i < bytes.count, bytes[i] == b else { return false }
        i += 1
        return true
    }

    mutating func takeLiteral(_ lit: [UInt8]) -> Bool {
        guard bytes.count - i >= lit.count, Self.equal(lit, bytes.baseAddress! + i, lit.count) else { return false }
        i += lit.count
        return true
    }

    private static func equal(_ a: [UInt8], _ b: UnsafeRawPointer, _ count: Int) -> Bool {
        a.withUnsafeBytes { memcmp($0.baseAddress!, b, count) == 0 }
    }

    /// A quoted key equal to one of `keys[from...]`, byte for byte (keys are plain ASCII, so an escape in a key
    /// means a form the writer does not make): its index.
    mutating func key(_ keys: [[UInt8]], from: Int) -> Int? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = i
        while i < bytes.count, bytes[i] != UInt8(ascii: "\""), bytes[i] != UInt8(ascii: "\\") { i += 1 }
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
        let count = i - start
        i += 1
        var k = from
        while k < keys.count {
            if keys[k].count == count, Self.equal(keys[k], bytes.baseAddress! + start, count) { return k }
            k += 1
        }
        return nil
    }

    mutating func bool() -> Bool? {
        if takeLiteral(Self.trueBytes) { return true }
        if takeLiteral(Self.falseBytes) { return false }
        return nil
    }
    static let trueBytes: [UInt8] = Array("true".utf8)
    static let falseBytes: [UInt8] = Array("false".utf8)

    mutating func int() -> Int? { int64().flatMap(Int.init(exactly:)) }

    /// `-?(0|[1-9][0-9]*)` within Int64: the only number form JSONEncoder writes for integers. A fraction or
    /// exponent after it is not consumed, so the structure check that follows refuses the line.
    mutating func int64() -> Int64? {
        let negative = take(UInt8(ascii: "-"))
        let start = i
        var magnitude: UInt64 = 0
        while i < bytes.count, bytes[i] &- UInt8(ascii: "0") < 10 {
            let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (m2, o2) = m1.addingReportingOverflow(UInt64(bytes[i] &- UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            magnitude = m2
            i += 1
        }
        let digits = i - start
        guard digits > 0, digits == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
        if negative {
            guard magnitude != 0, magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        return Int64(exactly: magnitude)
    }

    /// `[v,...]` with `element` reading each value.
    mutating func array<T>(_ element: (inout CanonicalCursor) -> T?) -> [T]? {
        guard take(UInt8(ascii: "[")) else { return nil }
        var out: [T] = []
        if take(UInt8(ascii: "]")) { return out }
        while true {
            guard let v = element(&self) else { return nil }
            out.append(v)
            if take(UInt8(ascii: ",")) { continue }
            return take(UInt8(ascii: "]")) ? out : nil
        }
    }

    mutating func strings() -> [String]? { array { $0.string() } }

    /// A JSON string as JSONEncoder writes one: raw UTF-8 (validated) except `"` and `\`, which are escaped, and
    /// control characters, written `\b \f \n \r \t` or `\u00XX`. Any other escape (`\uXXXX` of anything but a
    /// control character, surrogates included) goes to the slow path (`JSONStringReader`, `.writerForm`).
    mutating func string() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        return JSONStringReader.read(bytes, at: &i, escapes: .writerForm)
    }
}

/// The fast path's rule as a check, for the `manifestline` fuzz target and the tests: true when the fast path
/// gives nil for `line`, or a value equal to JSONDecoder's; false (a bug) when it gives a value JSONDecoder
/// refuses or decodes differently.
public enum ManifestLineFastPathCheck {
    public static func agrees(_ line: UnsafeRawBufferPointer) -> Bool {
        let slow = try? JSONDecoder().decode(ManifestLine.self, from: Data(line))
        if let fast = CanonicalManifestLine.decode(line) {
            guard let slow, same(fast, slow) else { return false }
        }
        if let fast = CanonicalManifestLine.decodeEntryRecord(line) {
            guard let slow = try? JSONDecoder().decode(EntryRecord.self, from: Data(line)), same(.entry(fast), .entry(slow))
            else { return false }
        }
        return true
    }

    static func same(_ a: ManifestLine, _ b: ManifestLine) -> Bool {
        switch (a, b) {
        // MessageInfo's == leaves out sourceKey (the entry carries it); neither path sets it, checked all the same.
        case (.entry(let x), .entry(let y)): x == y && x.message?.sourceKey == y.message?.sourceKey
        case (.change(let x), .change(let y)): x == y && x.message?.sourceKey == y.message?.sourceKey
        default: false
        }
    }
}
