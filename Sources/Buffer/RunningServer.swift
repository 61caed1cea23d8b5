import BufferSpool
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A started buffer service. `run()` waits until it has stopped; `shutdown()` stops it gracefully:
/// 1. tell every session `shutdownRequested`: a transaction under way finishes (its 250 is still durable),
///    anything else gets 421 4.3.2 and the connection closes,
/// 2. stop accepting (listeners and the control socket close; connections arriving meanwhile get 421),
/// 3. wait for the sessions up to the shutdown timeout, then close the rest (an unfinished DATA is discarded,
///    never stored in part),
/// 4. wait for every spool worker (commits under way complete), stop the event loops, close the spool.
public final class RunningServer: Sendable {
    /// Waiters are the callers of `run()`, resumed once stopped.
    private enum State {
        case running(waiters: [CheckedContinuation<Void, Never>])
        case stopping(waiters: [CheckedContinuation<Void, Never>])
        case stopped
    }

    public let configuration: BufferConfiguration
    public let spool: any SpoolStore
    /// The bound SMTP address (the real port when the configuration said 0); nil without `[smtp]`.
    public let smtpAddress: SocketAddress?
    /// The bound LMTP address; nil without `[lmtp]`.
    public let lmtpAddress: SocketAddress?
    /// The bound Prometheus endpoint (`GET /metrics`); nil without `[metrics]`.
    public let metricsAddress: SocketAddress?
    /// The control socket `buffer status` and `buffer hold` talk to; nil with a shared spool (the commands use
    /// the database).
    public let controlSocketPath: String?
    public let shutdownTimeout: Duration

    private let group: MultiThreadedEventLoopGroup
    private let listeners: [any Channel]
    private let registry: ConnectionRegistry
    private let linger: LingerDispatcher
    private let lingerCloser: LingerCloser?
    private let state = Mutex(State.running(waiters: []))

    init(
        configuration: BufferConfiguration, spool: any SpoolStore, group: MultiThreadedEventLoopGroup,
        listeners: [any Channel], registry: ConnectionRegistry, linger: LingerDispatcher, lingerCloser: LingerCloser?,
        smtpAddress: SocketAddress?,
        lmtpAddress: SocketAddress?, metricsAddress: SocketAddress?, controlSocketPath: String?, shutdownTimeout: Duration
    ) {
        self.metricsAddress = metricsAddress
        self.configuration = configuration
        self.spool = spool
        self.group = group
        self.listeners = listeners
        self.registry = registry
        self.linger = linger
        self.lingerCloser = lingerCloser
        self.smtpAddress = smtpAddress
        self.lmtpAddress = lmtpAddress
        self.controlSocketPath = controlSocketPath
        self.shutdownTimeout = shutdownTimeout
    }

    public var smtpPort: Int? { smtpAddress?.port }
    public var lmtpPort: Int? { lmtpAddress?.port }

    /// Returns once the server has stopped (after `shutdown()`, from any task or a signal handler).
    public func run() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let stopped: Bool = state.withLock { state in
                switch state {
                case .running(let waiters):
                    state = .running(waiters: waiters + [continuation])
                case .stopping(let waiters):
                    state = .stopping(waiters: waiters + [continuation])
                case .stopped:
                    return true
                }
                return false
            }
            if stopped { continuation.resume() }
        }
    }

    /// Stops the server gracefully; returns when it has stopped. Calling it again waits for the same stop.
    public func shutdown() async {
        let first: Bool = state.withLock { state in
            guard case .running(let waiters) = state else { return false }
            state = .stopping(waiters: waiters)
            return true
        }
        guard first else {
            await run()
            return
        }
        let channels = registry.beginShutdown()
        // Tell the open connections first, then close the listeners: once a client can see that the listener is
        // gone, every open connection already has the event queued ahead of anything it reads later.
        for channel in channels { channel.pipeline.fireUserInboundEventTriggered(BufferShutdownEvent()) }
        for listener in listeners { try? await listener.close() }
        // After the listeners: a linger pass under way (on a shared spool it may wait for the database) must not
        // keep the server taking new connections once it was told to stop.
        await lingerCloser?.stop()
        let timeout = shutdownTimeout
        let registry = self.registry
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for channel in channels { try? await channel.closeFuture.get() }
                return true
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let drained = await group.next() ?? true
            if !drained {
                for channel in registry.openChannels { channel.close(promise: nil) }
            }
            group.cancelAll()
        }
        for worker in registry.runningWorkers { await worker.value }
        await linger.drain()
        try? await group.shutdownGracefully()
        try? spool.close()
        if let controlSocketPath { unlink(controlSocketPath) }
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { state in
            defer { state = .stopped }
            if case .stopping(let waiters) = state { return waiters }
            return []
        }
        for waiter in waiters { waiter.resume() }
    }
}
