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
    /// The frame being filled.
    private var current = FrameSlot()
    /// Slots whose frame has been written, kept for the next frames: a frame's input, its compressed output and its
    /// compression context are made once per slot (at most `maximumInFlight + 1`), not once per frame. Fresh 4 MiB
    /// buffers for every frame cost page faults, and a fixed mapping threshold (`FreeMemory.tuneAllocator`) would
    /// make them cost a mapping each as well.
    private var spare: [FrameSlot] = []
    private var inFlight: [FrameJob] = []
    private(set) var frames: [SeekTable.Frame] = []
    /// Bytes of tar stream accepted so far.
    private(set) var streamOffset: Int64 = 0
    private(set) var compressedOffset: Int64 = 0

    init(output: any ArchiveOutput) {
        self.output = output
    }

    /// Tar bytes accepted but not yet written as compressed frames (being compressed, or in the open frame), and
    /// how many frames at most they make: what `ArchiveWriter.sizeBound` counts at zstd's worst case.
    var pending: (bytes: Int64, frames: Int) {
        (Int64(current.input.count + inFlight.reduce(0) { $0 + $1.decompressedSize }), inFlight.count + 1)
    }

    /// The index of the frame the next appended byte lands in.
    var currentFrameIndex: Int { frames.count + inFlight.count }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes
        while !rest.isEmpty {
            let room = Self.hardFrameSize - current.input.count
            let take = min(room, rest.count)
            current.input.append(contentsOf: rest.prefix(take))
            streamOffset += Int64(take)
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(take))
            if current.input.count >= Self.hardFrameSize { try cutFrame() }
        }
    }

    /// Called between tar entries: closes the frame here if it is big enough.
    func entryBoundary() throws {
        if current.input.count >= Self.targetFrameSize { try cutFrame() }
    }

    /// Closes the current frame (if it holds anything) so that what follows starts a new one.
    func cutFrame() throws {
        guard !current.input.isEmpty else { return }
        let job = FrameJob(slot: current)
        current = spare.popLast() ?? FrameSlot()
        inFlight.append(job)
        DispatchQueue.global(qos: .userInitiated).async {
            job.run()
        }
        while inFlight.count >= Self.maximumInFlight { try writeOldest() }
    }

    /// Writes every remaining frame; returns the seek table of what was written.
    func finish() throws -> SeekTable {
        try cutFrame()
        while !inFlight.isEmpty { try writeOldest() }
        spare = []
        return SeekTable(frames: frames)
    }

    private func writeOldest() throws {
        let job = inFlight.removeFirst()
        let slot = try job.wait()
        let compressedSize = slot.compressedSize
        try output.write(UnsafeRawBufferPointer(rebasing: slot.output.prefix(compressedSize)))
        compressedOffset += Int64(compressedSize)
        frames.append(.init(compressedSize: UInt32(compressedSize), decompressedSize: UInt32(job.decompressedSize)))
        slot.input.removeAll(keepingCapacity: true)
        spare.append(slot)
    }
}

/// A frame's buffers and compression context. Owned by the pipeline's thread while it is filled and after its job
/// is done, by the job's thread in between (the job's semaphore orders the hand-overs), never by two at once.
private final class FrameSlot: @unchecked Sendable {
    var input: [UInt8] = []
    /// Room for the largest frame's worst case, from malloc and not cleared: only the pages zstd writes are touched.
    let output = UnsafeMutableRawBufferPointer.allocate(
        byteCount: ZstdFrameCompressor.bound(FramePipeline.hardFrameSize), alignment: 16)
    var compressedSize = 0
    let compressor = ZstdFrameCompressor()

    init() { input.reserveCapacity(FramePipeline.hardFrameSize) }
    deinit { output.deallocate() }
}

/// One frame being compressed on another thread.
private final class FrameJob: Sendable {
    let decompressedSize: Int
    private let slot: FrameSlot
    private let done = DispatchSemaphore(value: 0)
    private let failure = Mutex<ArchiveError?>(nil)

    init(slot: FrameSlot) {
        self.slot = slot
        decompressedSize = slot.input.count
    }

    func run() {
        do {
            slot.compressedSize = try slot.input.withUnsafeBytes { try slot.compressor.compress($0, into: slot.output) }
        } catch let error as ArchiveError {
            failure.withLock { $0 = error }
        } catch {
            failure.withLock { $0 = ArchiveError(.io, "", "\(error)") }
        }
        done.signal()
    }

    /// The slot, its frame compressed into `output[..<compressedSize]`.
    func wait() throws -> FrameSlot {
        done.wait()
        if let error = failure.withLock({ $0 }) { throw error }
        return slot
    }
}
