import SystemLayer

/// A Maildir folder's `dovecot-uidlist`: the identity Dovecot gives the folder and each message in it.
///
/// Version 3 (Dovecot 1.1 and later) is a header line `3 V<UIDVALIDITY> N<NEXTUID> G<MAILBOX GUID> …` and one
/// line per message, `UID [KEYVALUE …] :NAME`, in ascending UID order, where NAME is the unique part of the
/// message's file name (before `:2,`) and the key `G` holds the message's GUID. A message without `G` has its
/// file name's unique part as its GUID: that is what Dovecot shows as X-GUID. Version 1 (`1 UIDVALIDITY NEXTUID`,
/// then `UID NAME`) is read too. Fields this type does not use are skipped when read and kept when a line is
/// copied; it writes version 3 only.
public struct DovecotUIDList: Sendable, Equatable {
    public static let fileName = "dovecot-uidlist"
    /// Dovecot's lock for the file: whoever creates it (O_EXCL) may replace the list, by writing the new list into
    /// the lock file and renaming it over the list.
    public static let lockFileName = "dovecot-uidlist.lock"

    public struct Header: Sendable, Equatable {
        public var version: Int
        public var uidValidity: UInt32
        /// The UID the next new message gets, as the header says (the list's last UID + 1 may be larger).
        public var nextUID: UInt32
        /// The folder's GUID (128 bits in hex), when the header has one.
        public var guid: String?
        public init(version: Int = 3, uidValidity: UInt32, nextUID: UInt32, guid: String?) {
            self.version = version
            self.uidValidity = uidValidity
            self.nextUID = nextUID
            self.guid = guid
        }
    }

    public struct Record: Sendable, Equatable {
        public var uid: UInt32
        /// The unique part of the file name.
        public var baseName: String
        /// The `G` field, when present.
        public var storedGUID: String?
        /// The message's GUID as Dovecot reports it (X-GUID): the `G` field, else the file name's unique part.
        public var guid: String { storedGUID ?? baseName }
        public init(uid: UInt32, baseName: String, storedGUID: String? = nil) {
            self.uid = uid
            self.baseName = baseName
            self.storedGUID = storedGUID
        }
    }

    public var header: Header
    /// Every message the list names, by the unique part of its file name; empty when the list was read without
    /// them (`keepsRecords` false: only the UIDs' order and the largest are checked, for a writer that only appends).
    public private(set) var records = UIDListRecords()
    public let keepsRecords: Bool
    /// The largest UID in the list (0 for none).
    public private(set) var lastUID: UInt32 = 0

    public init(header: Header, keepsRecords: Bool = true) {
        self.header = header
        self.keepsRecords = keepsRecords
    }

    /// The UID a new message must get: after the header's next UID and after every UID listed; nil when the list has
    /// given the largest UID there is (Dovecot then starts the folder over under a new UIDVALIDITY).
    public var nextUID: UInt32? { lastUID == .max ? nil : max(header.nextUID, lastUID + 1) }

    /// Parses a whole file. A file whose header this type cannot read is nil (with the reason); record lines it
    /// cannot read, and UIDs not above the one before (Dovecot calls that a broken list), are skipped and named
    /// in `problems` as `line N: …`.
    public static func parse(_ bytes: [UInt8], keepingRecords: Bool = true) -> (list: DovecotUIDList?, problems: [String]) {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).makeIterator()
        guard let first = lines.next(), let header = parseHeader(String(decoding: first, as: UTF8.self)) else {
            return (nil, ["line 1: not a dovecot-uidlist header of version 1 or 3"])
        }
        var list = DovecotUIDList(header: header, keepsRecords: keepingRecords)
        var problems: [String] = []
        var number = 1
        while let line = lines.next() {
            number += 1
            if line.isEmpty { continue }
            guard let record = parseRecord(String(decoding: line, as: UTF8.self), version: header.version) else {
                problems.append("line \(number): not a message line")
                continue
            }
            guard record.uid > list.lastUID else {
                problems.append("line \(number): UID \(record.uid) is not above the UID before it; skipped")
                continue
            }
            guard list.records[record.baseName] == nil else {
                problems.append("line \(number): \(record.baseName) is listed twice; the first UID is kept")
                continue
            }
            list.add(record)
        }
        return (list, problems)
    }

    /// Adds a record after every UID listed; the caller keeps UIDs ascending.
    public mutating func add(_ record: Record) {
        precondition(record.uid > lastUID, "dovecot-uidlist UIDs ascend")
        if keepsRecords { records.insert(record) }
        lastUID = record.uid
    }

    public static func parseHeader(_ line: String) -> Header? {
        let fields = line.split(separator: " ")
        guard let version = fields.first.flatMap({ Int($0) }) else { return nil }
        switch version {
        case 1:
            guard fields.count >= 3, let validity = UInt32(fields[1]), let next = UInt32(fields[2]) else { return nil }
            return Header(version: 1, uidValidity: validity, nextUID: next, guid: nil)
        case 3:
            var validity: UInt32?
            var next: UInt32 = 1
            var guid: String?
            for field in fields.dropFirst() {
                let value = field.dropFirst()
                switch field.first {
                case "V": validity = UInt32(value)
                case "N": next = UInt32(value) ?? next
                case "G": guid = value.isEmpty ? nil : String(value)
                default: continue
                }
            }
            guard let validity else { return nil }
            return Header(version: 3, uidValidity: validity, nextUID: next, guid: guid)
        default:
            return nil
        }
    }

    public static func parseRecord(_ line: String, version: Int) -> Record? {
        guard let space = line.firstIndex(of: " "), let uid = UInt32(line[..<space]), uid > 0 else { return nil }
        var rest = line[line.index(after: space)...]
        var storedGUID: String?
        if version >= 3 {
            // Extension fields until the one that starts with `:`, which runs to the end of the line.
            while !rest.hasPrefix(":") {
                guard let next = rest.firstIndex(of: " ") else { return nil }
                let field = rest[..<next]
                if field.first == "G", field.count > 1 { storedGUID = String(field.dropFirst()) }
                rest = rest[rest.index(after: next)...]
            }
            rest = rest.dropFirst()
        }
        let baseName = MaildirFlags.parse(fileName: String(rest)).baseName
        guard !baseName.isEmpty else { return nil }
        return Record(uid: uid, baseName: baseName, storedGUID: storedGUID)
    }

    /// The header line, without its line feed.
    public static func headerLine(_ header: Header) -> String {
        "3 V\(header.uidValidity) N\(header.nextUID)" + (header.guid.map { " G\($0)" } ?? "")
    }

    /// A message line, without its line feed. `guid` is written as the `G` field when it is one Dovecot can store
    /// and differs from the file name's unique part (which Dovecot reports anyway).
    public static func recordLine(uid: UInt32, baseName: String, guid: String?) -> String {
        if let field = fieldGUID(guid, baseName: baseName) { return "\(uid) G\(field) :\(baseName)" }
        return "\(uid) :\(baseName)"
    }

    /// What a message line's `G` field holds for `guid`: nil when there is none to write, or Dovecot could not
    /// store it, or it is the file name's unique part anyway.
    public static func fieldGUID(_ guid: String?, baseName: String) -> String? {
        guard let guid, guid != baseName, isStorableGUID(guid) else { return nil }
        return guid
    }

    /// A GUID fits in a `G` field when it has no space, colon or control and is not too long for Dovecot's
    /// index (it keeps GUIDs as strings; 255 bytes is far beyond any real one).
    public static func isStorableGUID(_ guid: String) -> Bool {
        !guid.isEmpty && guid.utf8.count <= 255
            && guid.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7f && $0 != ":" }
    }

    /// A folder GUID fits in the header when it is 128 bits in hex, as Dovecot writes and expects it.
    public static func isFolderGUID(_ guid: String) -> Bool {
        guid.utf8.count == 32 && guid.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}

/// A list's message lines by the unique part of their file names, kept compactly: names and G fields in a
/// `TextArena`, found through a table of the names' hashes (a folder of 143,000 messages held 32 MB as a dictionary
/// of strings, about half of that so).
public struct UIDListRecords: Sendable, Equatable {
    private struct Stored: Sendable {
        var uid: UInt32
        var name: TextArena.Text
        var guid: TextArena.Text?
        /// The next record whose name has the same hash, or -1.
        var next: Int32
    }

    private var texts = TextArena()
    private var stored: [Stored] = []
    private var heads: [Int: Int32] = [:]

    public init() {}

    public var count: Int { stored.count }

    private func index(of baseName: String) -> Int32? {
        var at = heads[baseName.hashValue] ?? -1
        while at >= 0 {
            if texts.equals(stored[Int(at)].name, baseName) { return at }
            at = stored[Int(at)].next
        }
        return nil
    }

    private func record(at index: Int32, baseName: String? = nil) -> DovecotUIDList.Record {
        let s = stored[Int(index)]
        return DovecotUIDList.Record(
            uid: s.uid, baseName: baseName ?? texts.string(s.name), storedGUID: s.guid.map { texts.string($0) })
    }

    public subscript(baseName: String) -> DovecotUIDList.Record? {
        index(of: baseName).map { record(at: $0, baseName: baseName) }
    }

    /// Adds the record, or replaces the one with its name.
    public mutating func insert(_ record: DovecotUIDList.Record) {
        let guid = record.storedGUID.map { texts.add($0.utf8) }
        if let at = index(of: record.baseName) {
            stored[Int(at)].uid = record.uid
            stored[Int(at)].guid = guid
            return
        }
        let hash = record.baseName.hashValue
        stored.append(Stored(uid: record.uid, name: texts.add(record.baseName.utf8), guid: guid, next: heads[hash] ?? -1))
        heads[hash] = Int32(stored.count - 1)
    }

    /// Every record, in the order added.
    public var values: [DovecotUIDList.Record] { stored.indices.map { record(at: Int32($0)) } }

    public static func == (a: UIDListRecords, b: UIDListRecords) -> Bool {
        a.count == b.count && a.values.allSatisfy { b[$0.baseName] == $0 }
    }
}
