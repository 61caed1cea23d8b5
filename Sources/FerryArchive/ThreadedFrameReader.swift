import Dispatch
import Foundation

/// The item frames of an archive decompressed on a thread of their own: a `FrameReader` there fills recycled buffers
/// and hands them over in order through a bounded queue, while the thread reading from this source parses the tar
/// stream and hashes each entry, so `verify` uses both cores the way `zstd -dc | openssl dgst -sha256` does.
///
/// The tar reader sees exactly what a `FrameReader` read on its own thread gives: the same chunks in the same order,
/// then the same end, or the same error at the same place in the stream (every check of the frames is the
/// `FrameReader`'s, made on the other thread). Memory in flight is bounded by the buffers (`chunkCount` x
/// `chunkSize`). The other thread opens its own reader of the verified archive (`VerifiedArchive.openReader`: the
/// same signed statement, byte for byte), so no file or decryption state is shared between the threads.
final class ThreadedFrameReader: TarByteSource {
    /// What the decompressing thread hands over, in order: a filled buffer (by index, with its byte count), the end
    /// of the frames, or the error that stopped it.
    enum Chunk: Sendable {
        case bytes(Int, Int)
        case end
        case failure(any Error)
    }

    private let queue: HandOffQueue<Chunk>
    private let pool: ChunkPool
    /// Signalled when the other thread has ended.
    private let finished: DispatchSemaphore
    /// The end or the error, once taken: every later read gives it again, as a `FrameReader` would.
    private var outcome: Result<Void, any Error>?
    /// The chunk being read (a caller's buffer smaller than a chunk takes it in parts) or lent: its index, the next
    /// byte to give and its end.
    private var pending: (index: Int, start: Int, end: Int)?

    /// Buffers in flight: 8 MiB, enough to keep the decompressing thread busy while an entry is hashed.
    static let chunkCount = 8
    /// As large as the tar reader's own buffer, so that each read hands over one whole chunk.
    static let chunkSize = TarReader.bufferSize

    /// Starts the thread, which calls `open` for the frames to read (on that thread) and reads them to the end.
    init(open: @escaping @Sendable () throws -> FrameReader) {
        let queue = HandOffQueue<Chunk>(capacity: Self.chunkCount + 1)
        let pool = ChunkPool(count: Self.chunkCount, size: Self.chunkSize)
        self.queue = queue
        self.pool = pool
        let finished = DispatchSemaphore(value: 0)
        self.finished = finished
        let thread = Thread {
            Self.produce(open, into: queue, pool: pool)
            finished.signal()
        }
        thread.start()
    }

    /// Wakes the other thread and waits for it to end, so that it never runs on while the process exits (OpenSSL's
    /// exit handler frees what a signature check or a hash there may be using).
    deinit {
        queue.cancel()
        pool.cancel()
        finished.wait()
    }

    private static func produce(_ open: () throws -> FrameReader, into queue: HandOffQueue<Chunk>, pool: ChunkPool) {
        let frames: FrameReader
        do {
            frames = try open()
        } catch {
            _ = queue.put(.failure(error))
            return
        }
        while let index = pool.acquire() {
            let count: Int
            do {
                count = try frames.read(into: pool.buffer(index))
            } catch {
                pool.release(index)
                _ = queue.put(.failure(error))
                return
            }
            guard count > 0 else {
                pool.release(index)
                _ = queue.put(.end)
                return
            }
            guard queue.put(.bytes(index, count)) else {
                pool.release(index)
                return
            }
        }
    }

    /// The next chunk as it is, without a copy; the chunk lent before goes back to the decompressing thread.
    func lendNext() throws -> UnsafeRawBufferPointer? {
        if let (index, start, end) = pending {
            if start < end {
                // What a smaller `read(into:)` left of the chunk.
                pending = (index, end, end)
                return UnsafeRawBufferPointer(rebasing: pool.buffer(index)[start..<end])
            }
            pending = nil
            pool.release(index)
        }
        guard try takeChunk() else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let (index, start, end) = pending!
        // Stays pending (lent) until the next call.
        pending = (index, end, end)
        return UnsafeRawBufferPointer(rebasing: pool.buffer(index)[start..<end])
    }

    /// Makes the next chunk pending; false at the end (an error is thrown, the same one on every later call).
    private func takeChunk() throws -> Bool {
        if let outcome {
            try outcome.get()
            return false
        }
        switch queue.take() {
        case .bytes(let index, let count):
            pending = (index, 0, count)
            return true
        case .end:
            outcome = .success(())
            return false
        case .failure(let error):
            outcome = .failure(error)
            throw error
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if let (index, start, end) = pending, start == end {
            // A lent chunk, all given.
            pending = nil
            pool.release(index)
        }
        if pending == nil {
            guard try takeChunk() else { return 0 }
        }
        let (index, start, end) = pending!
        let count = min(buffer.count, end - start)
        buffer.baseAddress!.copyMemory(from: pool.buffer(index).baseAddress! + start, byteCount: count)
        if start + count == end {
            pending = nil
            pool.release(index)
        } else {
            pending = (index, start + count, end)
        }
        return count
    }
}
