import Dispatch
import Synchronization

/// Turns the tar byte stream into independent zstd frames, compressing up to `maximumInFlight`
/// frames in parallel on other threads while the caller keeps reading and hashing, and writes the
/// frames to the file in order. Memory stays bounded: at most `maximumInFlight` frames of at most
/// `hardFrameSize` bytes are held, whatever the size of the items.
final class FramePipeline: TarByteSink {
    /// A frame is closed at the first entry boundary after this many bytes: small enough that
    /// `inspect --show` decodes little more than the item it wants.
    static let targetFrameSize = 2 << 20
    /// A frame is cut even inside an entry at this size, so a 200 MB message never sits in memory.
    static let hardFrameSize = 4 << 20
    /// Two cores: two frames compressing while the caller fills the next one.
    static let maximumInFlight = 3

    private let output: any ArchiveOutput
    private var current: [UInt8] = []
    private var inFlight: [FrameJob] = []
    private(set) var frames: [SeekTable.Frame] = []
    /// Bytes of tar stream accepted so far.
    private(set) var streamOffset: Int64 = 0
    private(set) var compressedOffset: Int64 = 0

    init(output: any ArchiveOutput) {
        self.output = output
        current.reserveCapacity(Self.hardFrameSize)
    }

    /// Tar bytes accepted but not yet written as compressed frames (being compressed, or in the open frame), and
    /// how many frames at most they make: what `ArchiveWriter.sizeBound` counts at zstd's worst case.
    var pending: (bytes: Int64, frames: Int) {
        (Int64(current.count + inFlight.reduce(0) { $0 + $1.decompressedSize }), inFlight.count + 1)
    }

    /// The index of the frame the next appended byte lands in.
    var currentFrameIndex: Int { frames.count + inFlight.count }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes
        while !rest.isEmpty {
            let room = Self.hardFrameSize - current.count
            let take = min(room, rest.count)
            current.append(contentsOf: rest.prefix(take))
            streamOffset += Int64(take)
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(take))
            if current.count >= Self.hardFrameSize { try cutFrame() }
        }
    }

    /// Called between tar entries: closes the frame here if it is big enough.
    func entryBoundary() throws {
        if current.count >= Self.targetFrameSize { try cutFrame() }
    }

    /// Closes the current frame (if it holds anything) so that what follows starts a new one.
    func cutFrame() throws {
        guard !current.isEmpty else { return }
        let input = current
        current = []
        current.reserveCapacity(Self.hardFrameSize)
        let job = FrameJob(decompressedSize: input.count)
        inFlight.append(job)
        DispatchQueue.global(qos: .userInitiated).async {
            job.run(input)
        }
        while inFlight.count >= Self.maximumInFlight { try writeOldest() }
    }

    /// Writes every remaining frame; returns the seek table of what was written.
    func finish() throws -> SeekTable {
        try cutFrame()
        while !inFlight.isEmpty { try writeOldest() }
        return SeekTable(frames: frames)
    }

    private func writeOldest() throws {
        let job = inFlight.removeFirst()
        let compressed = try job.wait()
        try output.write(compressed)
        compressedOffset += Int64(compressed.count)
        frames.append(.init(compressedSize: UInt32(compressed.count), decompressedSize: UInt32(job.decompressedSize)))
    }
}

/// One frame being compressed on another thread.
private final class FrameJob: Sendable {
    let decompressedSize: Int
    private let done = DispatchSemaphore(value: 0)
    private let result = Mutex<Result<[UInt8], ArchiveError>?>(nil)

    init(decompressedSize: Int) { self.decompressedSize = decompressedSize }

    func run(_ input: [UInt8]) {
        let outcome: Result<[UInt8], ArchiveError>
        do {
            outcome = .success(try ZstdFrameCompressor().compress(input))
        } catch let error as ArchiveError {
            outcome = .failure(error)
        } catch {
            outcome = .failure(ArchiveError(.io, "", "\(error)"))
        }
        result.withLock { $0 = outcome }
        done.signal()
    }

    func wait() throws -> [UInt8] {
        done.wait()
        return try result.withLock { $0! }.get()
    }
}
