import Foundation
import NIOCore

/// The hand-off between the event loop, which receives the server's bytes, and the one thread using the
/// blocking `IMAPConnection`. Memory stays bounded: above `highWater` buffered bytes the channel stops
/// reading (TCP flow control holds the server back) until the consumer has taken the buffer below `lowWater`.
///
/// `@unchecked Sendable`: every stored property is read and written only while `condition` is locked.
final class InboundQueue: @unchecked Sendable {
    static let highWater = 2 << 20
    static let lowWater = 512 << 10

    private let condition = NSCondition()
    private var chunks: [ByteBuffer] = []
    private var head = 0
    private var buffered = 0
    private var finished: (any Error)?
    private var isFinished = false
    /// The channel asked to read while the buffer was full; the consumer must ask again.
    private var readHeld = false
    /// The most bytes ever buffered, for tests of the bound.
    private var peak = 0
    var peakBuffered: Int {
        condition.lock()
        defer { condition.unlock() }
        return peak
    }

    /// Event loop: bytes arrived.
    func push(_ buffer: ByteBuffer) {
        condition.lock()
        defer { condition.unlock() }
        guard !isFinished else { return }
        buffered += buffer.readableBytes
        peak = max(peak, buffered)
        chunks.append(buffer)
        condition.broadcast()
    }

    /// Event loop: whether to pass the channel's read request on; if not, it is held until the consumer drains.
    func mayRead() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if buffered > Self.highWater {
            readHeld = true
            return false
        }
        return true
    }

    /// Event loop: the connection is gone (`error` nil for an orderly close).
    func finish(_ error: (any Error)?) {
        condition.lock()
        defer { condition.unlock() }
        if !isFinished {
            isFinished = true
            finished = error
        } else if finished == nil, let error {
            finished = error  // the close was reported before its cause; the cause explains it better
        }
        condition.broadcast()
    }

    /// Drops everything buffered (STARTTLS); runs on the event loop together with adding the TLS handler.
    @discardableResult
    func discardAll() -> Int {
        condition.lock()
        defer { condition.unlock() }
        let dropped = buffered
        chunks.removeAll()
        head = 0
        buffered = 0
        return dropped
    }

    enum Taken {
        case bytes(ByteBuffer, resumeReading: Bool)
        case closed((any Error)?)
        case timedOut
    }

    /// Consumer: the next buffer if one is there, without waiting.
    func takeIfAvailable() -> Taken? {
        condition.lock()
        let available = head < chunks.count
        condition.unlock()
        return available ? take(until: Date()) : nil
    }

    /// Consumer: the next buffer, waiting until `deadline`.
    func take(until deadline: Date) -> Taken {
        condition.lock()
        defer { condition.unlock() }
        while head >= chunks.count {
            if isFinished { return .closed(finished) }
            if !condition.wait(until: deadline) && head >= chunks.count {
                return isFinished ? .closed(finished) : .timedOut
            }
        }
        let buffer = chunks[head]
        head += 1
        if head > 64 && head * 2 > chunks.count {
            chunks.removeFirst(head)
            head = 0
        }
        buffered -= buffer.readableBytes
        var resume = false
        if readHeld && buffered < Self.lowWater {
            readHeld = false
            resume = true
        }
        return .bytes(buffer, resumeReading: resume)
    }
}
