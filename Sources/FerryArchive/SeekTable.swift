/// The zstd seekable format's seek table (zstd `contrib/seekable_format`): a skippable frame listing
/// every frame's compressed and decompressed size, with a 9-byte footer at the very end of the file.
/// Plain zstd decoders skip it; MailFerry reads it from the end to reach the manifest without
/// decompressing the archive. It is a hint from an untrusted file: every use is checked.
///
///     Skippable_Magic (4, 0x184D2A5E) | Frame_Size (4) | entries | Footer
///     entry  = Compressed_Size (4) | Decompressed_Size (4)          (no checksum field: descriptor bit 7 = 0)
///     Footer = Number_Of_Frames (4) | Descriptor (1) | Seekable_Magic (4, 0x8F92EAB1)
///
/// All integers little-endian.
public struct SeekTable: Hashable, Sendable {
    public struct Frame: Hashable, Sendable {
        public var compressedSize: UInt32
        public var decompressedSize: UInt32
    }

    public var frames: [Frame]

    static let seekableMagic: UInt32 = 0x8F92_EAB1
    static let footerSize = 9
    static let entrySize = 8
    /// A frame holds at most one hard frame limit of data, so files of this reader's reach
    /// (16 TiB) need fewer frames than this; a footer claiming more is refused before allocating.
    static let maximumFrames: UInt32 = 1 << 24

    public init(frames: [Frame]) { self.frames = frames }

    /// Bytes the table takes at the end of the file.
    public var encodedSize: Int { 8 + frames.count * Self.entrySize + Self.footerSize }

    public func encoded() -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(encodedSize)
        out.appendLE(ZstdFormat.seekTableSkippableMagic)
        out.appendLE(UInt32(frames.count * Self.entrySize + Self.footerSize))
        for frame in frames {
            out.appendLE(frame.compressedSize)
            out.appendLE(frame.decompressedSize)
        }
        out.appendLE(UInt32(frames.count))
        out.append(0)
        out.appendLE(Self.seekableMagic)
        return out
    }

    /// Reads the table from the end of `file`, checking that it is well formed and that the frames
    /// it lists exactly fill the file before it.
    static func read(from file: any ArchiveBytes) throws -> SeekTable {
        let size = try file.size
        guard size >= Int64(8 + footerSize) else {
            throw ArchiveError(.format, file.path, "too short (\(size) bytes) to be a MailFerry archive")
        }
        let footer = try file.read(count: footerSize, at: size - Int64(footerSize))
        guard footer.readLE(at: 5) == seekableMagic else {
            throw ArchiveError(.format, file.path, "no zstd seek table at the end of the file (truncated, or bytes appended after it)")
        }
        guard footer[4] == 0 else {
            throw ArchiveError(.format, file.path, "seek table descriptor \(footer[4]) is not the one MailFerry writes")
        }
        let count = footer.readLE(at: 0)
        guard count > 0, count <= maximumFrames else {
            throw ArchiveError(.format, file.path, "seek table claims \(count) frames")
        }
        let tableSize = 8 + Int64(count) * Int64(entrySize) + Int64(footerSize)
        guard tableSize <= size else { throw ArchiveError(.format, file.path, "seek table is larger than the file") }
        let table = try file.read(count: Int(tableSize) - footerSize, at: size - tableSize)
        guard table.readLE(at: 0) == ZstdFormat.seekTableSkippableMagic,
              Int64(table.readLE(at: 4)) == tableSize - 8
        else { throw ArchiveError(.format, file.path, "seek table frame header is damaged") }
        var frames: [Frame] = []
        frames.reserveCapacity(Int(count))
        var total: Int64 = 0
        for i in 0..<Int(count) {
            let c = table.readLE(at: 8 + i * entrySize)
            let d = table.readLE(at: 12 + i * entrySize)
            frames.append(Frame(compressedSize: c, decompressedSize: d))
            total += Int64(c)
        }
        guard total == size - tableSize else {
            throw ArchiveError(.format, file.path, "seek table frames cover \(total) bytes but the data before it is \(size - tableSize) bytes (bytes added, removed or truncated)")
        }
        return SeekTable(frames: frames)
    }

    /// File offset where each frame starts, plus the end of the last one.
    public var compressedOffsets: [Int64] {
        var offsets: [Int64] = [0]
        offsets.reserveCapacity(frames.count + 1)
        for f in frames { offsets.append(offsets.last! + Int64(f.compressedSize)) }
        return offsets
    }

    /// Offset in the decompressed tar stream where each frame starts, plus the total.
    public var decompressedOffsets: [Int64] {
        var offsets: [Int64] = [0]
        offsets.reserveCapacity(frames.count + 1)
        for f in frames { offsets.append(offsets.last! + Int64(f.decompressedSize)) }
        return offsets
    }
}

extension Array where Element == UInt8 {
    mutating func appendLE(_ value: UInt32) {
        append(UInt8(value & 0xFF))
        append(UInt8(value >> 8 & 0xFF))
        append(UInt8(value >> 16 & 0xFF))
        append(UInt8(value >> 24))
    }

    func readLE(at offset: Int) -> UInt32 {
        UInt32(self[offset]) | UInt32(self[offset + 1]) << 8 | UInt32(self[offset + 2]) << 16 | UInt32(self[offset + 3]) << 24
    }
}
