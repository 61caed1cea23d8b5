import NIOCore
import SMTPCore
import Synchronization

/// The server's live connections, shared by its event loops: admission under the per-listener connection limits
/// (in all, and per client address), and what a graceful shutdown has to tell and wait for (open channels, and
/// spool workers still committing).
final class ConnectionRegistry: Sendable {
    enum Admission {
        case admitted
        case overLimit
        case overLimitForAddress
        case shuttingDown
    }

    private struct State {
        var channels: [ObjectIdentifier: (channel: any Channel, listener: SMTPSession.Mode, address: String?)] = [:]
        /// Spool workers by connection; a worker outlives its channel while it finishes a commit.
        var workers: [ObjectIdentifier: Task<Void, Never>] = [:]
        var isShuttingDown = false
    }

    private let state = Mutex(State())
    /// Connections served at once per listener, in all and from one client address.
    let limit: Int
    let limitPerAddress: Int

    init(limit: Int, limitPerAddress: Int) {
        self.limit = limit
        self.limitPerAddress = limitPerAddress
    }

    /// Registers a new connection unless its listener is full, or holds as many from its address as one may
    /// have, or the server is shutting down.
    func admit(_ channel: any Channel, listener: SMTPSession.Mode) -> Admission {
        let address = channel.remoteAddress?.ipAddress
        return state.withLock { state in
            if state.isShuttingDown { return .shuttingDown }
            let open = state.channels.values.filter { $0.listener == listener }
            guard open.count < limit else { return .overLimit }
            if let address, open.count(where: { $0.address == address }) >= limitPerAddress { return .overLimitForAddress }
            state.channels[ObjectIdentifier(channel)] = (channel, listener, address)
            return .admitted
        }
    }

    func attach(worker: Task<Void, Never>, to channel: any Channel) {
        state.withLock { $0.workers[ObjectIdentifier(channel)] = worker }
    }

    func workerEnded(for id: ObjectIdentifier) {
        _ = state.withLock { $0.workers.removeValue(forKey: id) }
    }

    func remove(_ channel: any Channel) {
        _ = state.withLock { $0.channels.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Refuses new connections from now on; returns the open ones.
    func beginShutdown() -> [any Channel] {
        state.withLock { state in
            state.isShuttingDown = true
            return state.channels.values.map(\.channel)
        }
    }

    var openChannels: [any Channel] { state.withLock { $0.channels.values.map(\.channel) } }

    /// The spool workers still running.
    var runningWorkers: [Task<Void, Never>] { state.withLock { Array($0.workers.values) } }
}
