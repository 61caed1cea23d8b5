#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A JSON Lines file that is only ever appended: the one discipline every journal and ledger follows.
///
/// - Opening replays every complete line in order. The bytes after the last newline are the torn end of an
///   append a crash cut short (each line is one `write`, newline included), and so is a last line that does not
///   decode: both are cut off the file, which is not an error. A line that does not decode with more lines after
///   it is damage, not a crash, and is refused as a `DamagedLine` naming the file and the line number.
/// - Appending writes whole lines (short writes continued) and, when asked durably, fsyncs the file before
///   returning; the directory is fsynced once when the file was created, so the file's name survives a crash too.
/// - `skippingDamagedLines` is for stores whose earlier writers appended after a torn end without cutting it,
///   which glued the torn bytes to the next line: those lines are passed over instead of refused.
/// - It can keep a `FileLock` for as long as it is open, for stores one process at a time may write.
///
/// Errors: `SystemError` from the file system, `DamagedLine` from a replay, the codec's errors from encoding.
public final class JSONLinesFile {
    /// A line in the middle of the file that is not one of the file's records.
    public struct DamagedLine: Error, CustomStringConvertible {
        public var path: String
        /// 1-based, counting every line of the file.
        public var line: Int
        /// What the decoder said.
        public var reason: String
        public var description: String { "\(path) line \(line): \(reason)" }
    }

    public let path: String
    private let file: FileDescriptor
    private let lock: FileLock?
    /// Lines appended since the last fsync.
    public private(set) var unsyncedLines = 0

    /// Opens `path` for appending, creating it (with `mode`) when missing, and replays its records.
    /// `lock`, if given, is held until this file is released.
    public static func open<Record: Decodable>(
        _ path: String, mode: mode_t = 0o600, holding lock: FileLock? = nil, replaying _: Record.Type,
        decoder: JSONDecoder = JSONDecoder(), skippingDamagedLines: Bool = false
    ) throws -> (file: JSONLinesFile, records: [Record]) {
        var created = false
        let raw: Int32
        switch try SystemCall.retrying("open", path, allowing: [EEXIST], {
            Glibc.open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        }) {
        case .success(let fd):
            raw = fd
            created = true
        case .failure:
            raw = try SystemCall.open(path, O_RDWR | O_APPEND)
        }
        let file = FileDescriptor(raw, path: path)
        if created {
            // open's mode is filtered by the umask; the store's mode is what it asked for.
            try SystemCall.retrying("fchmod", path) { fchmod(raw, mode) }
            try SystemCall.syncDirectory(SystemCall.parentDirectory(of: path))
        }
        let bytes = try readAll(file)
        let replay = try decode(bytes, as: Record.self, path: path, decoder: decoder, skipping: skippingDamagedLines)
        if replay.keep < bytes.count {
            try SystemCall.retrying("ftruncate", path) { ftruncate(raw, off_t(replay.keep)) }
            try file.sync()
        }
        return (JSONLinesFile(path: path, file: file, lock: lock), replay.records)
    }

    /// The records of the file at `path` without opening it for writing (a torn end is skipped, not cut);
    /// nil when there is no file.
    public static func read<Record: Decodable>(
        _ path: String, as _: Record.Type, decoder: JSONDecoder = JSONDecoder(), skippingDamagedLines: Bool = false
    ) throws -> [Record]? {
        let file: FileDescriptor
        switch try SystemCall.retrying("open", path, allowing: [ENOENT], { Glibc.open(path, O_RDONLY | O_CLOEXEC) }) {
        case .success(let fd): file = FileDescriptor(fd, path: path)
        case .failure: return nil
        }
        return try decode(try readAll(file), as: Record.self, path: path, decoder: decoder, skipping: skippingDamagedLines).records
    }

    /// Like `read`, but reads the file a piece at a time and hands each record to `body` as it is decoded, so that
    /// an index built from a large file holds only what it keeps (neither the file's bytes nor every record at
    /// once); false when there is no file. The same records as `read`: a torn end, and a last line that does not
    /// decode, are passed over; a damaged line with lines after it is refused unless `skippingDamagedLines`.
    @discardableResult
    public static func forEachRecord<Record: Decodable>(
        in path: String, as _: Record.Type, decoder: JSONDecoder = JSONDecoder(), skippingDamagedLines: Bool = false,
        _ body: (Record) throws -> Void
    ) throws -> Bool {
        let file: FileDescriptor
        switch try SystemCall.retrying("open", path, allowing: [ENOENT], { Glibc.open(path, O_RDONLY | O_CLOEXEC) }) {
        case .success(let fd): file = FileDescriptor(fd, path: path)
        case .failure: return false
        }
        var buffer: [UInt8] = []
        var start = 0
        var atEnd = false
        var piece = [UInt8](repeating: 0, count: 1 << 16)
        /// Appends the next piece of the file; false at its end.
        func readMore() throws -> Bool {
            let count = try file.readSome(into: &piece)
            if count == 0 { atEnd = true }
            buffer += piece[..<count]
            return count > 0
        }
        var lineNumber = 0
        while true {
            guard let end = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) else {
                // No newline: the end of the file (a torn last append is passed over), or read on.
                if atEnd { return true }
                buffer.removeSubrange(0..<start)
                start = 0
                _ = try readMore()
                continue
            }
            lineNumber += 1
            if end > start {
                let record: Record
                do {
                    record = try decodeLine(buffer[start..<end], as: Record.self, decoder: decoder)
                } catch {
                    // The last line may be the garbage a crash left in the file's unwritten tail.
                    var last = end + 1 == buffer.count
                    if last && !atEnd { last = try !readMore() }
                    if last { return true }
                    if !skippingDamagedLines { throw DamagedLine(path: path, line: lineNumber, reason: "\(error)") }
                    start = end + 1
                    continue
                }
                try body(record)
            }
            start = end + 1
        }
    }

    private init(path: String, file: FileDescriptor, lock: FileLock?) {
        self.path = path
        self.file = file
        self.lock = lock
    }

    deinit { lock?.release() }

    /// Appends `records`, one line each, in one write; with `durably`, fsyncs before returning.
    public func append<Record: Encodable>(contentsOf records: [Record], encoder: JSONEncoder, durably: Bool = true) throws {
        var bytes: [UInt8] = []
        for record in records {
            let line = try encoder.encode(record)
            // A newline inside a record would split it on replay (a pretty-printing encoder).
            precondition(!line.contains(UInt8(ascii: "\n")), "a JSON Lines record spans lines")
            bytes += line
            bytes.append(UInt8(ascii: "\n"))
        }
        try bytes.withUnsafeBytes { raw in try file.writeAll(raw) }
        unsyncedLines += records.count
        if durably { try sync() }
    }

    /// Appends one record as a line; with `durably`, fsyncs before returning.
    public func append<Record: Encodable>(_ record: Record, encoder: JSONEncoder, durably: Bool = true) throws {
        try append(contentsOf: [record], encoder: encoder, durably: durably)
    }

    /// Makes every line appended so far durable.
    public func sync() throws(SystemError) {
        try file.sync()
        unsyncedLines = 0
    }

    // MARK: Replay

    private static func readAll(_ file: FileDescriptor) throws(SystemError) -> [UInt8] {
        var bytes: [UInt8] = []
        var piece = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try file.readSome(into: &piece)
            if count == 0 { return bytes }
            bytes += piece[..<count]
        }
    }

    /// The records and how many leading bytes of the file hold them (what a writer keeps).
    /// One line's record: read by the type itself where it can (`JSONLineFastDecodable`) and understands the
    /// whole line, by JSONDecoder otherwise.
    static func decodeLine<Record: Decodable>(_ line: ArraySlice<UInt8>, as _: Record.Type, decoder: JSONDecoder) throws -> Record {
        if let fast = Record.self as? any JSONLineFastDecodable.Type {
            let record = line.withUnsafeBytes { raw -> Record? in
                var scanner = JSONLineScanner(raw)
                guard let value = fast.decodeLine(&scanner), scanner.atEnd() else { return nil }
                return value as? Record
            }
            if let record { return record }
        }
        return try decoder.decode(Record.self, from: Data(line))
    }

    private static func decode<Record: Decodable>(
        _ bytes: [UInt8], as _: Record.Type, path: String, decoder: JSONDecoder, skipping: Bool
    ) throws -> (records: [Record], keep: Int) {
        var records: [Record] = []
        var start = 0
        var lineNumber = 0
        while start < bytes.count {
            lineNumber += 1
            // No newline: an append a crash cut short.
            guard let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) else { return (records, start) }
            if end > start {
                do {
                    records.append(try decodeLine(bytes[start..<end], as: Record.self, decoder: decoder))
                } catch {
                    // The last line may be the garbage a crash left in the file's unwritten tail.
                    if end + 1 == bytes.count { return (records, start) }
                    if !skipping { throw DamagedLine(path: path, line: lineNumber, reason: "\(error)") }
                }
            }
            start = end + 1
        }
        return (records, start)
    }
}
