/// Decompresses a run of frames of an archive file, checking each against the seek table as it
/// goes: it must start with the zstd frame magic, end exactly where the table says (compressed),
/// and produce exactly the size the table says (decompressed, never a byte more: a frame that
/// inflates past its declared size is refused at once, which bounds decompression bombs).
final class FrameReader {
    private let file: any ArchiveBytes
    private let table: SeekTable
    private let compressedOffsets: [Int64]
    private let decoder = ZstdStreamDecoder()
    private let endFrame: Int
    private(set) var frame: Int
    private let inputBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: FrameReader.inputChunkSize, alignment: 16)
    private var inputStart = 0
    private var inputEnd = 0
    /// Next file offset to read compressed bytes from, within the current frame.
    private var fileOffset: Int64 = 0
    private var producedInFrame: Int64 = 0
    private var frameStarted = false
    private var skip: Int64

    static let inputChunkSize = 1 << 20

    /// Reads frames `startFrame ..< endFrame`, discarding the first `skip` decompressed bytes.
    init(file: any ArchiveBytes, table: SeekTable, startFrame: Int, endFrame: Int? = nil, skip: Int64 = 0) throws {
        self.file = file
        self.table = table
        self.compressedOffsets = table.compressedOffsets
        self.frame = startFrame
        self.endFrame = endFrame ?? table.frames.count
        self.skip = skip
        guard startFrame >= 0, startFrame <= self.endFrame, self.endFrame <= table.frames.count else {
            throw ArchiveError(.format, file.path, "frame \(startFrame) is not in the seek table")
        }
    }

    deinit { inputBuffer.deallocate() }

    /// Fills `output` with decompressed bytes; returns 0 only after the last frame.
    func read(into output: UnsafeMutableRawBufferPointer) throws -> Int {
        var produced = 0
        while produced == 0 {
            if frame >= endFrame { return 0 }
            if !frameStarted { try startFrame() }
            if inputStart == inputEnd { try refill() }
            let declared = Int64(table.frames[frame].decompressedSize)
            // Never let a frame produce more than it declared: give the decoder at most that much room.
            let room = min(output.count, Int(declared - producedInFrame) + 1)
            var outPos = 0
            let input = UnsafeRawBufferPointer(rebasing: inputBuffer.prefix(inputEnd))
            let ended = try decoder.decode(input, &inputStart, UnsafeMutableRawBufferPointer(rebasing: output.prefix(room)), &outPos, location: "\(file.path): frame \(frame)")
            producedInFrame += Int64(outPos)
            if producedInFrame > declared {
                throw ArchiveError(.verification, "\(file.path): frame \(frame)", "decompresses to more than the \(declared) bytes the seek table declares")
            }
            if ended {
                guard inputStart == inputEnd, fileOffset == compressedOffsets[frame + 1] else {
                    throw ArchiveError(.verification, "\(file.path): frame \(frame)", "the zstd frame ends before its declared compressed size")
                }
                guard producedInFrame == declared else {
                    throw ArchiveError(.verification, "\(file.path): frame \(frame)", "decompressed to \(producedInFrame) bytes, the seek table declares \(declared)")
                }
                frame += 1
                frameStarted = false
            } else if outPos == 0 && inputStart == inputEnd && fileOffset == compressedOffsets[frame + 1] {
                throw ArchiveError(.verification, "\(file.path): frame \(frame)", "the zstd frame is truncated")
            }
            // Drop bytes the caller asked to skip.
            if skip > 0 && outPos > 0 {
                let drop = Int(min(skip, Int64(outPos)))
                skip -= Int64(drop)
                if drop < outPos {
                    let base = output.baseAddress!
                    (base).copyMemory(from: base + drop, byteCount: outPos - drop)
                }
                produced += outPos - drop
            } else {
                produced += outPos
            }
        }
        return produced
    }

    private func startFrame() throws {
        let size = table.frames[frame].compressedSize
        let declared = table.frames[frame].decompressedSize
        guard size >= 4 else { throw ArchiveError(.verification, "\(file.path): frame \(frame)", "too short to be a zstd frame") }
        guard declared > 0, declared <= UInt32(FramePipeline.hardFrameSize) else {
            throw ArchiveError(.verification, "\(file.path): frame \(frame)", "declares \(declared) decompressed bytes; MailFerry frames hold 1 to \(FramePipeline.hardFrameSize)")
        }
        fileOffset = compressedOffsets[frame]
        let head = try file.read(count: min(5, Int(size)), at: fileOffset)
        guard head.readLE(at: 0) == ZstdFormat.frameMagic else {
            throw ArchiveError(.verification, "\(file.path): frame \(frame)", "does not start with the zstd frame magic")
        }
        // Frame_Header_Descriptor (RFC 8878 3.1.1.1.1): MailFerry frames carry their content size
        // (FCS flag or single segment) and a content checksum, so every frame checks itself.
        guard head.count == 5, head[4] & 0x04 != 0, head[4] & 0xC0 != 0 || head[4] & 0x20 != 0 else {
            throw ArchiveError(.verification, "\(file.path): frame \(frame)", "lacks the content checksum or content size every MailFerry frame has")
        }
        decoder.reset()
        producedInFrame = 0
        inputStart = 0
        inputEnd = 0
        frameStarted = true
    }

    /// Reads the next compressed chunk of the current frame (never past its end).
    private func refill() throws {
        let end = compressedOffsets[frame + 1]
        let want = Int(min(Int64(Self.inputChunkSize), end - fileOffset))
        guard want > 0 else {
            throw ArchiveError(.verification, "\(file.path): frame \(frame)", "the zstd frame is truncated")
        }
        let got = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: inputBuffer.prefix(want)), at: fileOffset)
        guard got == want else { throw ArchiveError(.format, file.path, "truncated at offset \(fileOffset + Int64(got))") }
        fileOffset += Int64(got)
        inputStart = 0
        inputEnd = got
    }
}
