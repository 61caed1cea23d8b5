/// age v1's payload: a 16-byte nonce, then the plaintext in chunks of 64 KiB, each sealed on its own with
/// ChaCha20-Poly1305 under a key derived from the file key and that nonce. A chunk's nonce is its number (11 bytes,
/// big-endian) and a last-chunk flag, so a chunk authenticates only in its own place and the end only as the end:
/// a reader can open any chunk alone, which is what lets `inspect` read an encrypted archive's seek table and
/// manifest without decrypting the rest.
enum AgePayload {
    static let chunkSize = 64 * 1024
    static let sealedChunkSize = chunkSize + ChaChaPoly.tagSize
    static let nonceSize = 16

    static func key(fileKey: [UInt8], nonce: [UInt8]) -> [UInt8] {
        AgeCrypto.hkdf(key: fileKey, salt: nonce, info: "payload", count: 32)
    }

    static func chunkNonce(_ index: Int64, last: Bool) -> [UInt8] {
        var nonce = [UInt8](repeating: 0, count: 12)
        for i in 0..<8 { nonce[10 - i] = UInt8(truncatingIfNeeded: UInt64(index) >> (8 * UInt64(i))) }
        nonce[11] = last ? 1 : 0
        return nonce
    }
}

/// The plaintext of an age file encrypted to one of the given identities, read at any offset: the archive reader
/// reads an encrypted archive through it exactly as it reads a plain one. Each chunk is authenticated before any
/// of its bytes is handed out, and the last chunk is checked at open (so a file cut at a chunk boundary is refused
/// before anything is read). A failure names the chunk and what went wrong with it: damaged, moved, dropped, cut.
final class AgeDecryptingFile: ArchiveBytes {
    private let file: OwnedFile
    var path: String { file.path }
    /// Where chunk 0 starts in the file.
    private let payloadStart: Int64
    private let chunkCount: Int64
    private let fileSize: Int64
    let size: Int64
    private let cipher: ChaChaPoly

    /// Sealed chunks read from the file in one go, to keep system calls few on a sequential read.
    private static let windowChunks = 16
    private var window: [UInt8]
    private var windowFirst: Int64 = -1
    private var windowCount = 0
    /// The chunk last opened, by number.
    private var opened: [UInt8]
    private var openedIndex: Int64 = -1
    private var openedCount = 0
    /// Chunks decrypted so far (a chunk read again after another counts again): what `inspect`'s few reads cost.
    private(set) var chunksOpened = 0

    /// Does the file begin as an age file does?
    static func isAge(_ file: OwnedFile) throws -> Bool {
        let size = try file.size
        let count = Int(min(size, Int64(AgeHeader.versionLine.count)))
        return try count == AgeHeader.versionLine.count && file.read(count: count, at: 0) == AgeHeader.versionLine
    }

    init(file: OwnedFile, identities: [AgeIdentity]) throws {
        self.file = file
        let path = file.path
        fileSize = try file.size
        let head = try file.read(count: Int(min(fileSize, Int64(AgeHeader.maximumSize))), at: 0)
        let header = try AgeHeader.parse(head, location: path)
        let fileKey = try header.fileKey(with: identities, location: path)
        let nonceAt = Int64(header.length)
        guard fileSize >= nonceAt + Int64(AgePayload.nonceSize) + Int64(ChaChaPoly.tagSize) else {
            throw ArchiveError(.verification, path, "truncated: the encrypted file ends after its header, before any chunk of the payload")
        }
        let nonce = try file.read(count: AgePayload.nonceSize, at: nonceAt)
        cipher = ChaChaPoly(key: AgePayload.key(fileKey: fileKey, nonce: nonce))
        payloadStart = nonceAt + Int64(AgePayload.nonceSize)
        let sealed = fileSize - payloadStart
        let chunk = Int64(AgePayload.sealedChunkSize)
        chunkCount = (sealed + chunk - 1) / chunk
        let lastSealed = sealed - (chunkCount - 1) * chunk
        size = sealed - chunkCount * Int64(ChaChaPoly.tagSize)
        window = [UInt8](repeating: 0, count: Self.windowChunks * AgePayload.sealedChunkSize)
        opened = [UInt8](repeating: 0, count: AgePayload.chunkSize)
        guard lastSealed >= Int64(ChaChaPoly.tagSize) else {
            throw ArchiveError(.verification, path, "truncated: the file ends \(lastSealed) bytes into chunk \(chunkCount - 1), too short to be one")
        }
        try openChunk(chunkCount - 1)
        if chunkCount > 1 && openedCount == 0 {
            throw ArchiveError(.verification, path, "the encrypted payload ends with an empty chunk after full ones, which age forbids")
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
        var done = 0
        while done < buffer.count, offset + Int64(done) < size {
            let position = offset + Int64(done)
            let index = position / Int64(AgePayload.chunkSize)
            try openChunk(index)
            let within = Int(position - index * Int64(AgePayload.chunkSize))
            let n = min(openedCount - within, buffer.count - done)
            opened.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(rebasing: buffer[done..<(done + n)]).copyMemory(from: UnsafeRawBufferPointer(rebasing: source[within..<(within + n)]))
            }
            done += n
        }
        return done
    }

    /// Opens every chunk in order, so damage anywhere is found before an import writes anything.
    func authenticateAll() throws {
        for index in 0..<chunkCount { try openChunk(index) }
    }

    private func sealedRange(_ index: Int64) -> Range<Int64> {
        let start = payloadStart + index * Int64(AgePayload.sealedChunkSize)
        return start..<min(start + Int64(AgePayload.sealedChunkSize), fileSize)
    }

    /// Opens chunk `index` into `opened`, reading a window of sealed chunks from the file when it is not in hand.
    private func openChunk(_ index: Int64) throws {
        guard index != openedIndex else { return }
        if index < windowFirst || index >= windowFirst + Int64(windowCount) {
            let count = Int(min(Int64(Self.windowChunks), chunkCount - index))
            let start = sealedRange(index).lowerBound
            let end = sealedRange(index + Int64(count) - 1).upperBound
            let want = Int(end - start)
            let got = try window.withUnsafeMutableBytes { try file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0.prefix(want)), at: start) }
            guard got == want else { throw ArchiveError(.io, path, "the file shrank while it was read (\(got) of \(want) bytes at \(start))") }
            windowFirst = index
            windowCount = count
        }
        let range = sealedRange(index)
        let from = Int(range.lowerBound - sealedRange(windowFirst).lowerBound)
        let last = index == chunkCount - 1
        let count = window.withUnsafeBytes { sealed in
            opened.withUnsafeMutableBytes { out in
                cipher.open(nonce: AgePayload.chunkNonce(index, last: last), UnsafeRawBufferPointer(rebasing: sealed[from..<(from + range.count)]), into: out)
            }
        }
        guard let count else {
            openedIndex = -1
            throw diagnose(index, sealed: Array(window[from..<(from + range.count)]))
        }
        openedIndex = index
        openedCount = count
        chunksOpened += 1
    }

    /// Chunks around a failed one that are tried in its place to tell a moved chunk from a damaged one.
    private static let searched: Int64 = 16

    /// Why chunk `index` does not open: it opens as another chunk (swapped, repeated or dropped), as a chunk that is
    /// not the last (the file was cut), as the last where more follow (spliced), or as nothing (damaged).
    private func diagnose(_ index: Int64, sealed: [UInt8]) -> ArchiveError {
        let range = sealedRange(index)
        let isLast = index == chunkCount - 1
        let place = "chunk \(index) of \(chunkCount) (file bytes \(range.lowerBound)..<\(range.upperBound))"
        if isLast, cipher.open(nonce: AgePayload.chunkNonce(index, last: false), sealed) != nil {
            return ArchiveError(.verification, path, "truncated: the file ends after \(place), which is not the last chunk of the payload")
        }
        if !isLast, cipher.open(nonce: AgePayload.chunkNonce(index, last: true), sealed) != nil {
            return ArchiveError(.verification, path, "\(place) is the last chunk of the payload, yet the file goes on after it: bytes were appended")
        }
        for other in max(0, index - Self.searched)...(index + Self.searched) where other != index {
            for last in [false, true] where cipher.open(nonce: AgePayload.chunkNonce(other, last: last), sealed) != nil {
                // Swapped when chunk `other`'s place holds this one's data; otherwise shifted by a drop or a repeat.
                let there = other < chunkCount ? try? file.read(count: sealedRange(other).count, at: sealedRange(other).lowerBound) : nil
                if let there, cipher.open(nonce: AgePayload.chunkNonce(index, last: isLast), there) != nil {
                    return ArchiveError(.verification, path, "\(place) holds chunk \(other)'s data and chunk \(other) this one's: chunks \(min(index, other)) and \(max(index, other)) were swapped")
                }
                if other > index {
                    return ArchiveError(.verification, path, "\(place) holds chunk \(other)'s data: \(other - index) chunk\(other - index == 1 ? " was" : "s were") dropped before it")
                }
                return ArchiveError(.verification, path, "\(place) holds chunk \(other)'s data: chunks were repeated or moved")
            }
        }
        if isLast {
            return ArchiveError(.verification, path, "the end of the file does not authenticate: it is truncated inside \(place), or that chunk is damaged")
        }
        return ArchiveError(.verification, path, "\(place) is damaged: it does not authenticate (a changed byte)")
    }
}

/// Writes an age v1 file as the bytes stream in: the header for the recipients, the nonce, then each 64 KiB chunk
/// sealed as soon as a byte after it arrives (the last chunk, flagged as the last, only at `finish`). No plaintext
/// byte reaches the file.
final class AgeEncryptingOutput: ArchiveOutput {
    private let file: OwnedFile
    var path: String { file.path }
    private let cipher: ChaChaPoly
    /// The chunk being filled, `plainCount` bytes of it so far.
    private var plain: [UInt8]
    private var plainCount = 0
    /// Sealed chunks gathered before a write to the file, `sealedCount` bytes of them.
    private var sealed: [UInt8]
    private var sealedCount = 0
    private var index: Int64 = 0
    private var finished = false
    private static let batch = 16

    init(file: OwnedFile, recipients: [AgeRecipient]) throws {
        self.file = file
        let (header, fileKey) = try AgeHeader.make(for: recipients)
        let nonce = try AgeCrypto.random(AgePayload.nonceSize)
        cipher = ChaChaPoly(key: AgePayload.key(fileKey: fileKey, nonce: nonce))
        plain = [UInt8](repeating: 0, count: AgePayload.chunkSize)
        sealed = [UInt8](repeating: 0, count: Self.batch * AgePayload.sealedChunkSize)
        try file.write(header + nonce)
    }

    var size: Int64 { get throws { try file.size } }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(!finished)
        var done = 0
        while done < bytes.count {
            if plainCount == AgePayload.chunkSize { try seal(last: false) }
            let n = min(AgePayload.chunkSize - plainCount, bytes.count - done)
            plain.withUnsafeMutableBytes { target in
                UnsafeMutableRawBufferPointer(rebasing: target[plainCount..<(plainCount + n)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[done..<(done + n)]))
            }
            plainCount += n
            done += n
        }
    }

    private func seal(last: Bool) throws {
        let start = sealedCount
        let count = plainCount + ChaChaPoly.tagSize
        plain.withUnsafeBytes { p in
            sealed.withUnsafeMutableBytes { out in
                cipher.seal(
                    nonce: AgePayload.chunkNonce(index, last: last), UnsafeRawBufferPointer(rebasing: p[..<plainCount]),
                    into: UnsafeMutableRawBufferPointer(rebasing: out[start..<(start + count)]))
            }
        }
        sealedCount += count
        index += 1
        plainCount = 0
        if sealedCount + AgePayload.sealedChunkSize > sealed.count || last {
            try sealed.withUnsafeBytes { try file.write(UnsafeRawBufferPointer(rebasing: $0[..<sealedCount])) }
            sealedCount = 0
        }
    }

    /// Seals what is left as the last chunk. Nothing may be written after.
    func finish() throws {
        guard !finished else { return }
        try seal(last: true)
        finished = true
    }

    func sync() throws {
        precondition(finished, "an encrypted archive is synced only once its last chunk is written")
        try file.sync()
    }
}
