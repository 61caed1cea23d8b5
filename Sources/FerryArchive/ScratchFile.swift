#if canImport(Glibc)
import Glibc
#endif

/// A temporary file that lives only as long as its descriptor (`UnlinkedTemporaryFile`), next to the archive being
/// written (on the same file system), so that neither a failure nor a kill -9 leaves it behind: a read-ahead run's
/// bytes and records, the manifest's entry and change lines until `finish` writes them. Writes are buffered;
/// `flush` makes everything written readable through `read`. A `sealed` file (for an encrypted export) holds its
/// bytes under a ChaCha20 key stream whose random key never leaves the process, so no plaintext byte of the archive
/// reaches the disk even here.
final class ScratchFile: TarByteSink {
    /// The file as stored (sealed or not); internal for the tests that look at it.
    let file: OwnedFile
    private let cipher: ScratchCipher?
    private var buffer: [UInt8] = []
    private var flushed: Int64 = 0
    /// Bytes written so far, flushed or not.
    private(set) var size: Int64 = 0

    static let bufferSize = 1 << 20

    /// In `directory`; `prefix` names the file only for the moment it exists.
    init(in directory: String, prefix: String, sealed: Bool = false) throws {
        file = try OwnedFile.temporary(in: directory, prefix: prefix)
        cipher = sealed ? try ScratchCipher() : nil
        buffer.reserveCapacity(Self.bufferSize)
    }

    var path: String { file.path }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        size += Int64(bytes.count)
        if buffer.count + bytes.count > Self.bufferSize { try flush() }
        if bytes.count >= Self.bufferSize && cipher == nil {
            try file.write(bytes)
            flushed += Int64(bytes.count)
        } else if bytes.count >= Self.bufferSize {
            var rest = bytes[...]
            while !rest.isEmpty {
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest.prefix(Self.bufferSize)))
                rest = rest.dropFirst(Self.bufferSize)
                try flush()
            }
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    func append(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try append($0) } }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        if let cipher { buffer.withUnsafeMutableBytes { cipher.apply($0, at: flushed) } }
        try file.write(buffer)
        flushed += Int64(buffer.count)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Hands `[from, to)` to `consume` in pieces of at most `bufferSize` bytes, each with its offset.
    func read(from: Int64, to: Int64, _ consume: (UnsafeRawBufferPointer, Int64) throws -> Void) throws {
        precondition(to <= flushed, "read past what was flushed")
        var piece = [UInt8](repeating: 0, count: Self.bufferSize)
        var offset = from
        while offset < to {
            let want = Int(min(Int64(piece.count), to - offset))
            let got = try piece.withUnsafeMutableBytes { try file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0.prefix(want)), at: offset) }
            guard got == want else { throw ArchiveError(.io, file.path, "the temporary file ended at \(offset + Int64(got)) where \(to) bytes were written") }
            if let cipher { piece.withUnsafeMutableBytes { cipher.apply(UnsafeMutableRawBufferPointer(rebasing: $0.prefix(got)), at: offset) } }
            try piece.withUnsafeBytes { try consume(UnsafeRawBufferPointer(rebasing: $0.prefix(got)), offset) }
            offset += Int64(got)
        }
    }

    /// Each line (without its newline) in order.
    func forEachLine(_ body: ([UInt8]) throws -> Void) throws {
        try flush()
        var line: [UInt8] = []
        try read(from: 0, to: size) { piece, _ in
            var start = piece.startIndex
            while let newline = piece[start...].firstIndex(of: UInt8(ascii: "\n")) {
                line.append(contentsOf: piece[start..<newline])
                try body(line)
                line.removeAll(keepingCapacity: true)
                start = newline + 1
            }
            line.append(contentsOf: piece[start...])
        }
        guard line.isEmpty else { throw ArchiveError(.io, file.path, "the temporary file's last line has no end") }
    }
}
