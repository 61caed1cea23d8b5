import Foundation
import MailModel
import Testing
import TestSupport

@testable import FerryArchive

/// The canonical fast path for manifest lines (CanonicalManifestLine) against JSONDecoder: on the writer's own
/// lines both give the same values (and the fast path is really taken); on anything else the fast path gives
/// nil or JSONDecoder's value, never a value where JSONDecoder throws.
@Suite struct CanonicalManifestLineTests {
    // MARK: random records

    struct Gen {
        var rng: SplitMix64
        mutating func int(_ r: ClosedRange<Int>) -> Int { Int.random(in: r, using: &rng) }
        mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }

        /// Strings that stress escaping: quotes, backslashes, every control character, slashes, non-ASCII, emoji,
        /// U+2028, DEL, combining marks.
        mutating func string() -> String {
            let pieces: [String] = [
                "a", "Z", "0", " ", "\"", "\\", "/", "\u{0}", "\u{1}", "\u{7}", "\u{8}", "\t", "\n", "\u{B}", "\u{C}",
                "\r", "\u{1B}", "\u{1F}", "\u{7F}", "é", "Ω", "€", "日本", "😀", "👩‍👩‍👧", "\u{2028}", "\u{2029}",
                "\u{FEFF}", "e\u{301}", "\u{10FFFF}", "\u{FFFD}", "<x@y>", "=?utf-8?q?a?=", "u/1/m/2/3.eml", "\\Seen",
            ]
            if chance(10) { return "" }
            var s = ""
            for _ in 0..<int(1...8) { s += pieces[int(0...(pieces.count - 1))] }
            return s
        }
        mutating func strings() -> [String] { (0..<int(0...3)).map { _ in string() } }
        mutating func maybe<T>(_ make: (inout Gen) -> T) -> T? { chance(50) ? make(&self) : nil }
        mutating func int64() -> Int64 {
            switch int(0...4) {
            case 0: [Int64.min, Int64.max, 0, -1, 1][int(0...4)]
            case 1: Int64.random(in: Int64.min...Int64.max, using: &rng)
            default: Int64(int(0...10_000_000))
            }
        }
        mutating func smallInt() -> Int { chance(10) ? [Int.min, Int.max, -1][int(0...2)] : int(0...5000) }

        mutating func message() -> MessageInfo {
            var flags: SystemFlags = []
            for (f, _) in SystemFlags.named where chance(40) { flags.insert(f) }
            let date = InternalDate(
                epochSeconds: int64(), nanoseconds: chance(20) ? [Int32.min, Int32.max, 0][int(0...2)] : Int32(int(0...999_999_999)),
                utcOffsetMinutes: chance(50) ? (chance(10) ? [Int16.min, Int16.max][int(0...1)] : Int16(int(-720...840))) : nil)
            return MessageInfo(
                flags: flags, keywords: strings(), internalDate: date, guid: maybe { $0.string() },
                uid: maybe { g in g.chance(20) ? [UInt32.max, 0][g.int(0...1)] : UInt32(g.int(1...100_000)) },
                subject: maybe { $0.string() }, from: maybe { $0.string() }, messageID: maybe { $0.string() },
                maildirPassed: chance(30))
        }
        mutating func contact() -> ContactInfo {
            ContactInfo(
                resourceName: string(),
                cards: (0..<int(0...3)).map { _ in
                    CardSummary(version: maybe { $0.string() }, uid: maybe { $0.string() }, formattedName: maybe { $0.string() })
                }, etag: maybe { $0.string() })
        }
        mutating func calendarItem() -> CalendarItemInfo {
            CalendarItemInfo(
                resourceName: string(),
                components: (0..<int(0...3)).map { _ in
                    ComponentSummary(
                        kind: ["VEVENT", "VTODO", "VJOURNAL"][int(0...2)] + (chance(20) ? string() : ""),
                        uid: maybe { $0.string() }, summary: maybe { $0.string() }, organizer: maybe { $0.string() })
                }, etag: maybe { $0.string() })
        }
        mutating func sieve() -> SieveScriptInfo { SieveScriptInfo(name: string(), active: chance(50)) }

        mutating func entry() -> EntryRecord {
            let kind = ItemKind.allCases[int(0...3)]
            var e = EntryRecord(
                path: string(), kind: kind, user: smallInt(), container: kind == .sieveScript && chance(80) ? nil : smallInt(),
                size: int64(), sha256: chance(80) ? String(repeating: "0a", count: 32) : string(), offset: int64(),
                frame: smallInt())
            switch kind {
            case .message: if chance(90) { e.message = message() }
            case .contact: if chance(90) { e.contact = contact() }
            case .calendarItem: if chance(90) { e.calendarItem = calendarItem() }
            case .sieveScript: if chance(90) { e.sieve = sieve() }
            }
            // Occasionally a record carrying more than one metadata object: still decodable, must still agree.
            if chance(5) { e.sieve = sieve() }
            e.sourceKey = maybe { $0.string() }
            return e
        }

        mutating func change() -> ChangeRecord {
            let op = [ChangeRecord.Operation.keep, .delete, .renameFolder, .deleteFolder][int(0...3)]
            var c = ChangeRecord(op: op, user: smallInt())
            switch op {
            case .keep, .delete:
                let kind = ItemKind.allCases[int(0...3)]
                c.kind = kind
                c.sourceKey = maybe { $0.string() }
                c.origin = ItemOrigin(archiveID: string(), path: string())
                c.size = int64()
                c.sha256 = String(repeating: "f", count: 64)
                if op == .keep {
                    c.container = kind == .sieveScript ? nil : smallInt()
                    switch kind {
                    case .message: c.message = message()
                    case .contact: c.contact = contact()
                    case .calendarItem: c.calendarItem = calendarItem()
                    case .sieveScript: c.sieve = sieve()
                    }
                    c.changed = maybe { g in ["flags", "keywords", "folder"].filter { _ in g.chance(50) } }
                }
            case .renameFolder:
                c.from = strings()
                c.to = strings()
            case .deleteFolder:
                c.folder = strings()
            }
            // Every optional field now and then, whatever the op, as a hostile writer might.
            if chance(5) { c.kind = ItemKind.allCases[int(0...3)] }
            if chance(5) { c.from = strings() }
            if chance(5) { c.folder = strings() }
            return c
        }
    }

    static func lines(seed: UInt64, count: Int) throws -> [[UInt8]] {
        var g = Gen(rng: SplitMix64(seed: seed))
        let encoder = ManifestCoding.encoder()
        return try (0..<count).map { n in
            let line: ManifestLine = n % 2 == 0 ? .entry(g.entry()) : .change(g.change())
            var bytes = try ManifestCoding.line(line, with: encoder)
            bytes.removeLast()  // the newline
            return bytes
        }
    }

    // MARK: the two paths

    static func slow(_ line: [UInt8]) -> ManifestLine? { try? JSONDecoder().decode(ManifestLine.self, from: Data(line)) }
    static func fast(_ line: [UInt8]) -> ManifestLine? { line.withUnsafeBytes(CanonicalManifestLine.decode) }

    static func same(_ a: ManifestLine, _ b: ManifestLine) -> Bool { ManifestLineFastPathCheck.same(a, b) }

    /// Fast path nil, or equal to JSONDecoder's value; nil whenever JSONDecoder throws (bare records too).
    static func agrees(_ line: [UInt8]) -> Bool { line.withUnsafeBytes(ManifestLineFastPathCheck.agrees) }

    @Test func writersLinesDecodeTheSameOnBothPathsAndTakeTheFastPath() throws {
        for seed in 1...4 as ClosedRange<UInt64> {
            for line in try Self.lines(seed: seed, count: 500) {
                let text = String(decoding: line, as: UTF8.self)
                let s = try #require(Self.slow(line), "JSONDecoder refuses the writer's line \(text)")
                let f = try #require(Self.fast(line), "the fast path falls back on the writer's line \(text)")
                #expect(Self.same(f, s), "\(text)")
                // The same record bare, as the export spools it.
                if case .entry(let e) = s {
                    let bare = Array(try ManifestCoding.encoder().encode(e))
                    #expect(bare.withUnsafeBytes(CanonicalManifestLine.decodeEntryRecord) == e, "\(text)")
                }
            }
        }
    }

    @Test func otherLinesAreLeftToJSONDecoder() throws {
        var g = Gen(rng: SplitMix64(seed: 9))
        let encoder = ManifestCoding.encoder()
        var header = ArchiveHeader(
            format: ArchiveFormat.name, version: 2, archiveID: "x", created: "2024-01-01T00:00:00Z", station: "s",
            sequence: 1, tool: "t", signerKeyID: "k", userCount: 0, entryCount: 0, itemBytes: 0, totals: Counts())
        header.changeCount = 0
        var line = try ManifestCoding.line(ManifestLine.archive(header), with: encoder)
        line.removeLast()
        #expect(Self.fast(line) == nil)
        // A bare record is not a manifest line, but is what decodeEntryRecord reads.
        let e = g.entry()
        let bare = Array(try encoder.encode(e))
        #expect(Self.fast(bare) == nil)
        #expect(bare.withUnsafeBytes(CanonicalManifestLine.decodeEntryRecord) == e)
    }

    // MARK: mutations

    /// Edits of a valid line that a hostile archive could carry.
    static func mutations(of line: [UInt8], _ g: inout Gen) -> [[UInt8]] {
        var out: [[UInt8]] = []
        let text = String(decoding: line, as: UTF8.self)
        func edited(_ f: (inout [UInt8]) -> Void) { var l = line; f(&l); out.append(l) }
        func replacing(_ a: String, _ b: String) {
            if text.contains(a) { out.append(Array(text.replacingOccurrences(of: a, with: b).utf8)) }
        }
        for _ in 0..<6 {
            edited { $0[g.int(0...($0.count - 1))] = UInt8(truncatingIfNeeded: g.int(0...255)) }
            edited { $0[g.int(0...($0.count - 1))] ^= UInt8(1 << g.int(0...7)) }
            edited { $0.removeSubrange(g.int(0...($0.count - 1))...) }
            edited { $0.insert(UInt8(ascii: [" ", "\t", "\r", ",", "\"", "\\", "}", "]"][g.int(0...7)]), at: g.int(0...$0.count)) }
            edited { $0.remove(at: g.int(0...($0.count - 1))) }
        }
        edited { $0.append(UInt8(ascii: " ")) }
        edited { $0.insert(UInt8(ascii: " "), at: 0) }
        edited { $0.insert(contentsOf: [0xEF, 0xBB, 0xBF], at: 0) }
        // Duplicated and reordered keys, unknown keys, null.
        for key in ["path", "user", "kind", "size", "op", "container", "message", "flags", "epoch", "uid", "sourceKey", "origin"] {
            replacing("\"\(key)\":", "\"\(key)\":1,\"\(key)\":")
            replacing("\"\(key)\":", "\"zz\":1,\"\(key)\":")
            replacing("\"\(key)\":", "\"\(key)\" :")
            replacing("\"\(key)\":", "\"\(key)\": ")
            replacing("\"\(key)\":", "\"\\u00\(String(key.utf8.first!, radix: 16))\(key.dropFirst())\":")
        }
        replacing("{\"entry\":{", "{\"entry\":{\"user\":1,")
        replacing("{\"change\":{", "{\"change\":{\"user\":1,")
        replacing("}}", ",\"user\":3}}")
        replacing("}}", "},\"entry\":{}}")
        replacing("\"guid\":", "\"guid\":null,\"guid2\":")
        if let r = reordered(line, &g) { out.append(r) }
        // Numbers: out of range, other forms.
        for key in ["size", "offset", "user", "frame", "container", "epoch", "nanos", "offset", "uid"] {
            guard let range = text.range(of: "\"\(key)\":") else { continue }
            var end = range.upperBound
            while end < text.endIndex, "-0123456789".contains(text[end]) { end = text.index(after: end) }
            for n in [
                "99999999999999999999", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
                "-9223372036854775809", "4294967295", "4294967296", "2147483647", "2147483648", "-2147483649", "32767",
                "32768", "-32769", "-0", "01", "00", "1.0", "1e3", "1E0", "-", "+1", "0x10", "1.5", "\"1\"", "null", "true",
            ] {
                out.append(Array((text[..<range.upperBound] + n + text[end...]).utf8))
            }
        }
        // Escapes in a string value: surrogate pairs, lone surrogates, escaped ASCII, control characters.
        for key in ["path", "subject", "name", "archiveID", "sha256", "resourceName", "kind", "op"] {
            guard let range = text.range(of: "\"\(key)\":\"") else { continue }
            for esc in [
                "\\u0041", "\\ud83d\\ude00", "\\uD83D\\uDE00", "\\ud83d", "\\ude00", "\\ud83dx", "\\udc00\\ud83d", "\\u0000",
                "\\u001f", "\\u001F", "\\u0020", "\\u007f", "\\u00e9", "\\u2028", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t",
                "\\a", "\\x41", "\\u12", "\\u", "\\", "\\uZZZZ", "\u{1}", "\u{7F}", "\u{FF}", "\\\"",
            ] {
                out.append(Array((text[..<range.upperBound] + esc + text[range.upperBound...]).utf8))
            }
            // Invalid UTF-8 inside the string.
            for bad: [UInt8] in [[0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF8, 0x88, 0x80, 0x80, 0x80]] {
                out.append(Array(text[..<range.upperBound].utf8) + bad + Array(text[range.upperBound...].utf8))
            }
        }
        // Flags and kinds JSONDecoder refuses or matches case-insensitively.
        replacing("\"flags\":[", "\"flags\":[\"\\\\seen\",")
        replacing("\"flags\":[", "\"flags\":[\"\\\\Recent\",")
        replacing("\"kind\":\"message\"", "\"kind\":\"Message\"")
        replacing("\"op\":\"keep\"", "\"op\":\"KEEP\"")
        replacing("\"active\":true", "\"active\":1")
        replacing("\"maildirPassed\":true", "\"maildirPassed\":false")
        return out
    }

    /// The line with every object's keys in another order (same content), through JSONSerialization.
    static func reordered(_ line: [UInt8], _ g: inout Gen) -> [UInt8]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line), options: [.fragmentsAllowed]) else { return nil }
        func write(_ v: Any) -> String {
            if let d = v as? [String: Any] {
                let keys = d.keys.sorted().reversed()
                return "{" + keys.map { k in write(k) + ":" + write(d[k]!) }.joined(separator: ",") + "}"
            }
            if let a = v as? [Any] { return "[" + a.map(write).joined(separator: ",") + "]" }
            let data = try! JSONSerialization.data(withJSONObject: v, options: [.fragmentsAllowed, .withoutEscapingSlashes])
            return String(decoding: data, as: UTF8.self)
        }
        return Array(write(object).utf8)
    }

    @Test func mutatedLinesGiveNilOrJSONDecodersValue() throws {
        var g = Gen(rng: SplitMix64(seed: 77))
        var tried = 0, fastTaken = 0, slowRefused = 0
        for line in try Self.lines(seed: 42, count: 100) {
            for m in Self.mutations(of: line, &g) {
                tried += 1
                let f = Self.fast(m)
                if f != nil { fastTaken += 1 }
                if Self.slow(m) == nil { slowRefused += 1 }
                #expect(Self.agrees(m), "\(String(decoding: m, as: UTF8.self))")
            }
        }
        // The mutations reach both sides: some are refused by JSONDecoder, some still decode on the fast path.
        #expect(tried > 10_000)
        #expect(slowRefused > 1000)
        #expect(fastTaken > 100)
    }

    @Test func specificHostileFormsFallBack() throws {
        let good = #"{"entry":{"frame":0,"kind":"sieve","offset":0,"path":"u\/1","sha256":"x","size":1,"user":1}}"#
        #expect(Self.fast(Array(good.utf8)) != nil)  // `\/` is a form JSONEncoder can write (without .withoutEscapingSlashes)
        for bad in [
            #"{"entry":{"frame":0,"kind":"sieve","offset":0,"path":"p","sha256":"x","size":1,"user":1},"entry":{}}"#,
            #"{"entry":{"frame":0,"frame":1,"kind":"sieve","offset":0,"path":"p","sha256":"x","size":1,"user":1}}"#,
            #"{"entry":{"kind":"sieve","frame":0,"offset":0,"path":"p","sha256":"x","size":1,"user":1}}"#,
            #"{"entry":{"frame":0,"kind":"sieve","offset":0,"path":"p","sha256":"x","size":1e0,"user":1}}"#,
            #"{"entry":{"frame":0,"kind":"sieve","offset":0,"path":"\ud800","sha256":"x","size":1,"user":1}}"#,
            #"{"entry":{"frame":0,"kind":"sieve","offset":0,"path":"p","sha256":"x","size":1,"user":1}} "#,
            #"{"entry":{"container":null,"frame":0,"kind":"sieve","offset":0,"path":"p","sha256":"x","size":1,"user":1}}"#,
            #"{"entry":{"frame":0,"kind":"sieve","offset":0,"path":"p","sha256":"x","size":-0,"user":1}}"#,
            #"{"entry":{"frame":0,"kind":"sieve","offset":0,"path":"p","sha256":"x","size":1,"user":1,"zzz":1}}"#,
            #"{"entry":{"frame":0,"kind":"sieve","offset":0,"path":"p","sha256":"x","size":1}}"#,
        ] {
            #expect(Self.fast(Array(bad.utf8)) == nil, "\(bad)")
        }
    }

    // MARK: the seam: the reader really uses the fast path

    @Test func readerDecodesTheWritersLinesOnTheFastPath() throws {
        let lines = try Self.lines(seed: 5, count: 200)
        var bytes: [UInt8] = []
        for l in lines { bytes += l + [UInt8(ascii: "\n")] }
        // One line JSONDecoder alone reads: the fast path does not swallow what it does not know.
        bytes += Array(#"{"entry":{"frame":0,"kind":"sieve","offset":0,"path":"p","sha256":"x","size":1, "user":1}}"#.utf8) + [10]
        var position = 0
        let reader = ManifestLineReader(offset: 0, location: "test") { buffer in
            let n = min(buffer.count, bytes.count - position, 1000)
            bytes.withUnsafeBytes { src in buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[position..<position + n])) }
            position += n
            return n
        }
        var decoded: [ManifestLine] = []
        while let line = try reader.next() { decoded.append(line) }
        #expect(decoded.count == 201)
        #expect(reader.fastPathLines == 200)
        for (l, d) in zip(lines, decoded) { #expect(Self.same(try #require(Self.slow(l)), d)) }
    }

    @Test func verifiedArchivesEntriesAreReadOnTheFastPath() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let path = dir.file("a.mfa")
        let items = try SampleArchive.write(to: path, key: key)
        let reader = try ArchiveReader(path: path)
        try reader.verifySignature(with: key.publicKey)
        let manifest = try reader.loadManifest()
        let entries = manifest.entries()
        var n = 0
        while try entries.next() != nil { n += 1 }
        #expect(n == items.count)
        #expect(entries.lines.fastPathLines == items.count)
    }
}
