import Foundation
import TestSupport
import MailModel
@testable import FerryArchive
import SystemLayer

// A test-only forger: it takes an archive apart into its pieces (tar members, manifest, statement,
// signature) and puts pieces back together the way ArchiveWriter lays them out, so that a test can
// change exactly one thing. Tar headers are written here by hand (plain ustar), frames are
// compressed with the module's ZstdFrameCompressor and the seek table is built with SeekTable.

/// One raw tar member. `declaredSize` is what the header claims; `data` is what follows it.
struct TarMember: Equatable {
    enum TypeFlag: UInt8 {
        case regular = 0x30      // '0'
        case hardLink = 0x31     // '1'
        case symlink = 0x32      // '2'
        case charDevice = 0x33   // '3'
        case directory = 0x35    // '5'
        case contiguous = 0x37   // '7', which libarchive reads as a regular file
        case globalPax = 0x67    // 'g'
        case gnuSparse = 0x53    // 'S'
        case unknownLetter = 0x51  // 'Q', no tar type
    }

    var name: String
    var type: TypeFlag = .regular
    var data: [UInt8] = []
    var linkName: String = ""
    /// The size the header declares; nil means `data.count`.
    var declaredSize: Int64? = nil
    var mode: UInt32 = 0o644
    var mtime: Int64 = 1_700_000_000
    /// For `.gnuSparse`: the size the file claims, of which `data` is the first bytes and the rest a hole.
    var sparseRealSize: Int64? = nil
    /// When set, these bytes are written instead of a header and data (for end blocks and junk).
    var raw: [UInt8]? = nil

    static func regular(_ name: String, _ data: [UInt8]) -> TarMember { TarMember(name: name, data: data) }
    /// Bytes placed in the tar stream as they are, between members.
    static func rawBytes(_ bytes: [UInt8]) -> TarMember { TarMember(name: "", raw: bytes) }

    var headerSize: Int64 { declaredSize ?? Int64(data.count) }

    /// Header block, data, and zero padding of the data to a whole block.
    func encoded() -> [UInt8] {
        if let raw { return raw }
        var out = UstarHeader.make(self)
        out += data
        out += [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
        return out
    }
}

enum UstarHeader {
    static func make(_ m: TarMember) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            let bytes = Array(text.utf8)
            precondition(bytes.count <= width, "\(text) does not fit a \(width)-byte tar field")
            for (i, b) in bytes.enumerated() { h[offset + i] = b }
        }
        func octal(_ value: Int64, at offset: Int, width: Int) {
            let digits = String(value, radix: 8)
            precondition(digits.count <= width - 1, "\(value) does not fit a \(width)-byte octal field")
            put(String(repeating: "0", count: width - 1 - digits.count) + digits, at: offset, width: width - 1)
        }
        put(m.name, at: 0, width: 100)
        octal(Int64(m.mode), at: 100, width: 8)
        octal(0, at: 108, width: 8)   // uid
        octal(0, at: 116, width: 8)   // gid
        octal(m.headerSize, at: 124, width: 12)
        octal(m.mtime, at: 136, width: 12)
        h[156] = m.type.rawValue
        put(m.linkName, at: 157, width: 100)
        put("ustar", at: 257, width: 6)  // "ustar\0"
        put("00", at: 263, width: 2)
        put("root", at: 265, width: 32)
        put("root", at: 297, width: 32)
        if m.type == .charDevice {
            octal(1, at: 329, width: 8)  // /dev/null is 1,3
            octal(3, at: 337, width: 8)
        }
        if let realSize = m.sparseRealSize {
            // Old GNU sparse: GNU magic, one map entry (offset 0, the data's length), the real size.
            put("ustar  ", at: 257, width: 8)
            octal(0, at: 386, width: 12)
            octal(Int64(m.data.count), at: 398, width: 12)
            octal(realSize, at: 483, width: 12)
        }
        // The checksum is the byte sum with the checksum field read as spaces.
        for i in 148..<156 { h[i] = 0x20 }
        let sum = h.reduce(0) { $0 + Int64($1) }
        let digits = String(sum, radix: 8)
        put(String(repeating: "0", count: 6 - digits.count) + digits, at: 148, width: 6)
        h[154] = 0
        h[155] = 0x20
        return h
    }
}

/// A minimal tar parser for archives the writer made (ustar headers, possibly with pax 'x' headers).
enum PlainTarParser {
    struct Parsed {
        var member: TarMember
        /// Offset of the member's first header block (pax header included) in the stream.
        var position: Int
    }

    static func parse(_ stream: [UInt8]) throws -> [Parsed] {
        var out: [Parsed] = []
        var at = 0
        var pax: [String: String] = [:]
        var memberStart: Int?
        while at + 512 <= stream.count {
            let block = Array(stream[at..<at + 512])
            if block.allSatisfy({ $0 == 0 }) { break }
            if memberStart == nil { memberStart = at }
            let size = Int(pax["size"].flatMap { Int64($0) } ?? octalValue(block[124..<136]))
            let type = block[156]
            let dataStart = at + 512
            guard dataStart + size <= stream.count else { throw ForgeError("tar member at \(at) runs past the stream") }
            let data = Array(stream[dataStart..<dataStart + size])
            at = dataStart + (size + 511) / 512 * 512
            switch type {
            case UInt8(ascii: "x"):
                pax = parsePax(data)
                continue
            case UInt8(ascii: "g"):
                continue
            default:
                var name = pax["path"] ?? cString(block[0..<100])
                let prefix = cString(block[345..<500])
                if pax["path"] == nil, !prefix.isEmpty { name = prefix + "/" + name }
                guard let flag = TarMember.TypeFlag(rawValue: type == 0 ? 0x30 : type) else {
                    throw ForgeError("unexpected tar type \(type) for \(name)")
                }
                let member = TarMember(name: name, type: flag, data: data, linkName: pax["linkpath"] ?? cString(block[157..<257]),
                                       mode: UInt32(octalValue(block[100..<108])), mtime: octalValue(block[136..<148]))
                out.append(Parsed(member: member, position: memberStart!))
                pax = [:]
                memberStart = nil
            }
        }
        return out
    }

    private static func cString(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    private static func octalValue(_ bytes: ArraySlice<UInt8>) -> Int64 {
        var v: Int64 = 0
        for b in bytes where b >= 0x30 && b <= 0x37 { v = v * 8 + Int64(b - 0x30) }
        return v
    }

    private static func parsePax(_ data: [UInt8]) -> [String: String] {
        var records: [String: String] = [:]
        var at = 0
        while at < data.count {
            guard let space = data[at...].firstIndex(of: 0x20), let length = Int(String(decoding: data[at..<space], as: UTF8.self)), length > 0 else { break }
            let record = data[(space + 1)..<(at + length - 1)]  // without the trailing newline
            if let eq = record.firstIndex(of: UInt8(ascii: "=")) {
                records[String(decoding: record[..<eq], as: UTF8.self)] = String(decoding: record[(eq + 1)...], as: UTF8.self)
            }
            at += length
        }
        return records
    }
}

struct ForgeError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The bytes of an archive file as frames plus a seek table, for surgery on the compressed level.
struct ForgedFile {
    struct Frame {
        var compressed: [UInt8]
        /// What the seek table declares this frame decompresses to.
        var declaredSize: UInt32
    }

    var frames: [Frame]

    var seekTable: SeekTable {
        SeekTable(frames: frames.map { SeekTable.Frame(compressedSize: UInt32($0.compressed.count), decompressedSize: $0.declaredSize) })
    }

    /// The frames followed by a seek table describing them.
    var bytes: [UInt8] { frames.flatMap(\.compressed) + seekTable.encoded() }

    /// File offset where each frame starts.
    var frameOffsets: [Int] {
        var offsets = [0]
        for f in frames { offsets.append(offsets.last! + f.compressed.count) }
        return offsets
    }

    static func compress(_ plain: [UInt8]) throws -> Frame {
        Frame(compressed: try ZstdFrameCompressor().compress(plain), declaredSize: UInt32(plain.count))
    }

    /// Splits an existing archive file into its frames using its seek table (parsed here, not by the reader).
    static func read(_ path: String) throws -> ForgedFile {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        guard bytes.count >= 17, bytes.readLE(at: bytes.count - 4) == SeekTable.seekableMagic else {
            throw ForgeError("\(path) has no seek table")
        }
        let count = Int(bytes.readLE(at: bytes.count - 9))
        let tableStart = bytes.count - 9 - 8 * count - 8
        var frames: [Frame] = []
        var at = 0
        for i in 0..<count {
            let c = Int(bytes.readLE(at: tableStart + 8 + 8 * i))
            let d = bytes.readLE(at: tableStart + 12 + 8 * i)
            frames.append(Frame(compressed: Array(bytes[at..<at + c]), declaredSize: d))
            at += c
        }
        guard at == tableStart else { throw ForgeError("\(path): frames do not fill the file") }
        return ForgedFile(frames: frames)
    }

    /// Decompresses one frame (bounded by its declared size plus one byte).
    func plain(_ index: Int) throws -> [UInt8] {
        let frame = frames[index]
        let decoder = ZstdStreamDecoder()
        var output = [UInt8](repeating: 0, count: Int(frame.declaredSize) + 1)
        var inPos = 0
        var outPos = 0
        var ended = false
        try frame.compressed.withUnsafeBytes { input in
            try output.withUnsafeMutableBytes { out in
                while !ended {
                    let before = (inPos, outPos)
                    ended = try decoder.decode(input, &inPos, out, &outPos, location: "frame \(index)")
                    if !ended && before == (inPos, outPos) { throw ForgeError("frame \(index) does not end") }
                }
            }
        }
        guard outPos == Int(frame.declaredSize) else { throw ForgeError("frame \(index) is \(outPos) bytes, declared \(frame.declaredSize)") }
        return Array(output.prefix(outPos))
    }

    func write(to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}

/// Where the forger put things in the decompressed stream.
struct ForgedLayout {
    var plainFrames: [[UInt8]]
    /// Header offset and frame of each item member, in order.
    var positions: [(offset: Int64, frame: Int)]
    var manifestOffset: Int64
    var manifestFrame: Int
}

/// An archive taken apart: item members in order, then the three control entries.
struct ArchiveParts {
    var members: [TarMember]
    var manifest: [UInt8]
    var statement: [UInt8]
    var signature: [UInt8]
    /// Frames are closed at the first member boundary after `targetFrameSize` and cut inside a
    /// member at `hardFrameSize`, as FramePipeline does; tests may change these to make odd frames.
    var targetFrameSize = FramePipeline.targetFrameSize
    var hardFrameSize = FramePipeline.hardFrameSize

    // MARK: Taking apart

    /// Decodes an archive file (made by ArchiveWriter or by the forger) into its parts.
    static func decode(_ path: String) throws -> ArchiveParts {
        let file = try ForgedFile.read(path)
        var stream: [UInt8] = []
        for i in file.frames.indices { stream += try file.plain(i) }
        var members = try PlainTarParser.parse(stream).map(\.member)
        func take(_ name: String) throws -> [UInt8] {
            guard let i = members.firstIndex(where: { $0.name == name }) else { throw ForgeError("\(path) has no \(name)") }
            return members.remove(at: i).data
        }
        let manifest = try take(EntryPath.manifest)
        let statement = try take(EntryPath.statement)
        let signature = try take(EntryPath.signature)
        return ArchiveParts(members: members, manifest: manifest, statement: statement, signature: signature)
    }

    /// A fresh SampleArchive written by ArchiveWriter, taken apart and sealed in the forger's layout
    /// (so the parts alone rebuild an archive that verifies under `key`).
    static func sample(key: SigningKey, in dir: TemporaryDirectory, name: String = "sample.mfa", bigMessage: Int = 0) throws -> ArchiveParts {
        let path = dir.file(name)
        try SampleArchive.write(to: path, key: key, bigMessage: bigMessage)
        var parts = try decode(path)
        try FileManager.default.removeItem(atPath: path)
        // Contacts and Sieve scripts carry the export time as mtime; fix it so that every run
        // compresses to the same frames.
        for i in parts.members.indices { parts.members[i].mtime = 1_700_000_000 }
        try parts.seal(with: key)
        return parts
    }

    func index(of name: String) -> Int {
        guard let i = members.firstIndex(where: { $0.name == name }) else { fatalError("no member \(name)") }
        return i
    }

    // MARK: Layout and building

    func layout() -> ForgedLayout {
        var frames: [[UInt8]] = []
        var current: [UInt8] = []
        var offset: Int64 = 0
        func cut() {
            if !current.isEmpty { frames.append(current); current = [] }
        }
        func append(_ bytes: [UInt8]) {
            var rest = bytes[...]
            while !rest.isEmpty {
                let take = min(hardFrameSize - current.count, rest.count)
                current += rest.prefix(take)
                rest = rest.dropFirst(take)
                offset += Int64(take)
                if current.count >= hardFrameSize { cut() }
            }
        }
        var positions: [(Int64, Int)] = []
        for m in members {
            positions.append((offset, frames.count))
            append(m.encoded())
            if current.count >= targetFrameSize { cut() }
        }
        cut()
        let manifestOffset = offset
        let manifestFrame = frames.count
        append(TarMember.regular(EntryPath.manifest, manifest).encoded())
        cut()
        append(TarMember.regular(EntryPath.statement, statement).encoded())
        append(TarMember.regular(EntryPath.signature, signature).encoded())
        append([UInt8](repeating: 0, count: 1024))  // end of archive
        cut()
        return ForgedLayout(plainFrames: frames, positions: positions, manifestOffset: manifestOffset, manifestFrame: manifestFrame)
    }

    func file() throws -> ForgedFile {
        ForgedFile(frames: try layout().plainFrames.map(ForgedFile.compress))
    }

    @discardableResult
    func write(to path: String) throws -> ForgedFile {
        let f = try file()
        try f.write(to: path)
        return f
    }

    // MARK: Manifest

    var manifestLines: [ManifestLine] {
        get throws {
            try manifest.split(separator: UInt8(ascii: "\n")).map { try JSONDecoder().decode(ManifestLine.self, from: Data($0)) }
        }
    }

    mutating func setManifest(_ lines: [ManifestLine]) throws {
        let encoder = ManifestCoding.encoder()
        manifest = try lines.flatMap { try ManifestCoding.line($0, with: encoder) }
    }

    /// Edits every entry record (the header's entry count follows the number of entries).
    mutating func editEntries(_ edit: (inout [EntryRecord]) throws -> Void) throws {
        let lines = try manifestLines
        var entries = lines.compactMap { if case .entry(let e) = $0 { e } else { nil } }
        try edit(&entries)
        var head = lines.filter { if case .entry = $0 { false } else { true } }
        if case .archive(var header) = head[0] {
            header.entryCount = entries.count
            head[0] = .archive(header)
        }
        try setManifest(head + entries.map(ManifestLine.entry))
    }

    /// Points each manifest entry at the member of the same name (in order), as a writer would.
    mutating func fixManifestPositions() throws {
        let positions = layout().positions
        var used = Set<Int>()
        try setManifest(manifestLines.map { line in
            guard case .entry(var e) = line else { return line }
            if let i = members.indices.first(where: { !used.contains($0) && members[$0].name == e.path }) {
                used.insert(i)
                e.offset = positions[i].offset
                e.frame = positions[i].frame
            }
            return .entry(e)
        })
    }

    // MARK: Statement and signature

    /// A statement for the current manifest and layout, edited, then signed by `key`.
    mutating func restate(with key: SigningKey, edit: (inout Statement) -> Void = { _ in }) throws {
        guard case .archive(let header)? = try manifestLines.first else { throw ForgeError("manifest has no archive line") }
        let layout = layout()
        var statement = Statement(
            format: ArchiveFormat.statementName, version: ArchiveFormat.statementVersion, archiveFormat: ArchiveFormat.name,
            archiveVersion: ArchiveFormat.version, archiveID: header.archiveID, created: header.created,
            signerKeyID: try key.publicKey.keyID,
            manifest: .init(path: EntryPath.manifest, size: Int64(manifest.count), sha256: SHA256.hex(manifest),
                            offset: layout.manifestOffset, frame: layout.manifestFrame))
        edit(&statement)
        self.statement = try ManifestCoding.line(statement, with: ManifestCoding.encoder())
        try resign(with: key)
    }

    /// Parses the current statement, edits it and signs the result.
    mutating func editStatement(with key: SigningKey, _ edit: (inout Statement) -> Void) throws {
        var s = try JSONDecoder().decode(Statement.self, from: Data(statement))
        edit(&s)
        statement = try ManifestCoding.line(s, with: ManifestCoding.encoder())
        try resign(with: key)
    }

    mutating func resign(with key: SigningKey) throws {
        signature = try key.sign(statement)
    }

    /// What a (compromised or buggy) signer does: manifest positions, statement and signature all
    /// made to agree with the current members and manifest.
    mutating func seal(with key: SigningKey, edit: (inout Statement) -> Void = { _ in }) throws {
        try fixManifestPositions()
        try restate(with: key, edit: edit)
    }
}

extension EntryRecord {
    /// Points the record at different bytes (size and hash), as a signer listing them would.
    mutating func describe(_ bytes: [UInt8]) {
        size = Int64(bytes.count)
        sha256 = SHA256.hex(bytes)
    }
}
