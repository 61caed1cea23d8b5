#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SystemLayer

/// Where an import put each item (`ItemPlacement`), kept in an unlinked scratch file rather than in memory: held
/// as values, 200,000 placements took about 60 MB through the whole reconcile. Appended while a target writes, read
/// back in order as often as needed (the reconcile's pairing, the identity maps, a server's ids added), and found by
/// entry through an index of hashes to offsets (`index()`).
///
/// The file is created on the first placement, in `TMPDIR` (else `/tmp`), and has no name: nothing is left behind
/// however the process ends. Records are length-prefixed binary; nobody else reads them.
public final class PlacementLog: @unchecked Sendable {
    private var scratch: UnlinkedTemporaryFile?
    /// Bytes appended but not yet written to the file.
    private var pending: [UInt8] = []
    /// Bytes in the file.
    private var flushed: Int64 = 0
    public private(set) var count = 0

    public init() {}

    /// A log holding `placements`, in their order (tests, small targets).
    public convenience init(_ placements: [ItemPlacement]) throws {
        self.init()
        for p in placements { try append(p) }
    }

    public var isEmpty: Bool { count == 0 }

    public func append(_ placement: ItemPlacement) throws {
        Self.encode(placement, into: &pending)
        count += 1
        if pending.count >= 1 << 16 { try flush() }
    }

    public func append(contentsOf other: PlacementLog) throws {
        guard other !== self else { return }
        try other.forEach { try append($0) }
    }

    /// The placements of several logs in their order: the one log that holds any as it is (a large import's log is
    /// not copied), else a new log with them all.
    public static func joined(_ logs: [PlacementLog]) throws -> PlacementLog {
        let filled = logs.filter { !$0.isEmpty }
        if filled.count == 1 { return filled[0] }
        let joined = PlacementLog()
        for log in filled { try joined.append(contentsOf: log) }
        return joined
    }

    /// Every placement, in the order appended.
    public func forEach(_ body: (ItemPlacement) throws -> Void) throws {
        try forEachWithOffset { p, _ in try body(p) }
    }

    /// Every placement as values: for tests and for targets that place a handful.
    public func all() throws -> [ItemPlacement] {
        var out: [ItemPlacement] = []
        try forEach { out.append($0) }
        return out
    }

    /// Finds placements by entry without holding them: a table from a hash of each entry to where its record is
    /// (16 bytes a placement). A later placement of the same entry wins.
    public func index() throws -> Index {
        var index = Index(log: self)
        try forEachWithOffset { p, offset in try index.add(p.entry, at: offset) }
        return index
    }

    public struct Index {
        fileprivate let log: PlacementLog
        private var offsets: [Int: Int64] = [:]
        /// Entries whose hashes met another entry's, by name.
        private var collided: [String: Int64] = [:]

        fileprivate init(log: PlacementLog) { self.log = log }

        fileprivate mutating func add(_ entry: String, at offset: Int64) throws {
            if collided[entry] != nil {
                collided[entry] = offset
                return
            }
            let hash = entry.hashValue
            guard let other = offsets[hash] else {
                offsets[hash] = offset
                return
            }
            let otherEntry = try log.record(at: other).entry
            if otherEntry == entry {
                offsets[hash] = offset
            } else {
                collided[otherEntry] = other
                collided[entry] = offset
                offsets[hash] = nil
            }
        }

        public func placement(of entry: String) throws -> ItemPlacement? {
            if let offset = collided[entry] { return try log.record(at: offset) }
            guard let offset = offsets[entry.hashValue] else { return nil }
            let found = try log.record(at: offset)
            return found.entry == entry ? found : nil
        }
    }

    // MARK: The file

    private func flush() throws {
        guard !pending.isEmpty else { return }
        if scratch == nil {
            let directory = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
            scratch = try FerryError.io {
                try UnlinkedTemporaryFile(in: directory, prefix: ".mailferry-placements-")
            }
        }
        let file = scratch!.file
        try FerryError.io { try pending.withUnsafeBytes { try file.writeAll($0) } }
        flushed += Int64(pending.count)
        pending.removeAll(keepingCapacity: true)
    }

    private func forEachWithOffset(_ body: (ItemPlacement, Int64) throws -> Void) throws {
        try flush()
        guard let file = scratch?.file else { return }
        var buffer: [UInt8] = []
        var start = 0
        var offset: Int64 = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            // Whole records in the buffer are decoded; a record cut by the chunk's end waits for the next read.
            while buffer.count - start >= 4 {
                let length = Int(Self.readU32(buffer, start))
                guard buffer.count - start >= 4 + length else { break }
                var at = start + 4
                let p = try Self.decode(buffer, &at, end: start + 4 + length)
                try body(p, offset - Int64(buffer.count - start))
                start += 4 + length
            }
            guard offset < flushed else { break }
            let want = Int(min(Int64(chunk.count), flushed - offset))
            let got = try FerryError.io {
                try chunk.withUnsafeMutableBytes { try file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[..<want]), at: offset) }
            }
            guard got > 0 else { throw ConnectorError(location: file.path, message: "the placements file ended early") }
            buffer.removeFirst(start)
            start = 0
            buffer += chunk[..<got]
            offset += Int64(got)
        }
    }

    fileprivate func record(at offset: Int64) throws -> ItemPlacement {
        try flush()
        guard let file = scratch?.file else { throw ConnectorError(location: "placements", message: "no record at \(offset)") }
        func read(_ count: Int, at position: Int64) throws -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: count)
            let got = try FerryError.io {
                try bytes.withUnsafeMutableBytes { try file.read(into: $0, at: position) }
            }
            guard got == count else { throw ConnectorError(location: file.path, message: "the placements file ended early") }
            return bytes
        }
        let length = Int(Self.readU32(try read(4, at: offset), 0))
        let bytes = try read(length, at: offset + 4)
        var at = 0
        return try Self.decode(bytes, &at, end: length)
    }

    // MARK: Records: a length, then each field (strings length-prefixed; optionals after a 0/1 byte)

    private static func encode(_ p: ItemPlacement, into out: inout [UInt8]) {
        let start = out.count
        out += [0, 0, 0, 0]
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        func string(_ s: String) {
            u32(UInt32(s.utf8.count))
            out += s.utf8
        }
        func optional<T>(_ v: T?, _ put: (T) -> Void) {
            if let v {
                out.append(1)
                put(v)
            } else {
                out.append(0)
            }
        }
        string(p.entry)
        optional(p.guid, string)
        string(p.folder)
        optional(p.uidValidity, u32)
        optional(p.uid, u32)
        optional(p.file, string)
        optional(p.targetGUID, string)
        let length = UInt32(out.count - start - 4).littleEndian
        withUnsafeBytes(of: length) { raw in
            for i in 0..<4 { out[start + i] = raw[i] }
        }
    }

    private static func readU32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }

    private static func decode(_ bytes: [UInt8], _ at: inout Int, end: Int) throws -> ItemPlacement {
        func need(_ n: Int) throws {
            guard end - at >= n else { throw ConnectorError(location: "placements", message: "a damaged record") }
        }
        func u32() throws -> UInt32 {
            try need(4)
            defer { at += 4 }
            return readU32(bytes, at)
        }
        func string() throws -> String {
            let n = Int(try u32())
            try need(n)
            defer { at += n }
            return String(decoding: bytes[at..<at + n], as: UTF8.self)
        }
        func optional<T>(_ get: () throws -> T) throws -> T? {
            try need(1)
            at += 1
            return bytes[at - 1] == 1 ? try get() : nil
        }
        let entry = try string()
        let guid = try optional(string)
        let folder = try string()
        let uidValidity = try optional(u32)
        let uid = try optional(u32)
        let file = try optional(string)
        let targetGUID = try optional(string)
        return ItemPlacement(
            entry: entry, guid: guid, folder: folder, uidValidity: uidValidity, uid: uid, file: file, targetGUID: targetGUID)
    }
}
