import BufferSpool
import Connectors
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import SMTPCore
import Telemetry

/// Starts the buffer service: the spool, the SMTP and LMTP listeners from the configuration, and the control
/// socket. `start` returns once every listener is bound; `RunningServer` tells the bound ports (a configured
/// port 0 gets a real one) and shuts the service down.
public enum BufferServer {
    /// Event loop threads: the service is I/O-bound and the spool's fsyncs run off the loops.
    public static let eventLoopThreads = 2

    /// Opens the spool (taking its lock and recovering from a crash), puts the configuration's `hold` users that
    /// the spool does not know yet in the migration set, and binds the listeners.
    /// `lingerCheckInterval`: how often users whose linger time (`[buffer] linger`) is over are looked for.
    /// `logSink`: where the log lines (`[log] format`) go.
    public static func start(
        _ configuration: BufferConfiguration, shutdownTimeout: Duration = BufferDefaults.shutdownTimeout,
        lingerCheckInterval: Duration = BufferDefaults.lingerCheckInterval, logSink: LogSink = .standardError
    ) async throws -> RunningServer {
        try await start(
            configuration, shutdownTimeout: shutdownTimeout, lingerCheckInterval: lingerCheckInterval,
            incomingFiles: .spoolDirectory, logSink: logSink)
    }

    /// `incomingFiles` other than `.spoolDirectory` is for fault tests only (see `IncomingFiles`).
    package static func start(
        _ configuration: BufferConfiguration, shutdownTimeout: Duration = BufferDefaults.shutdownTimeout,
        lingerCheckInterval: Duration = BufferDefaults.lingerCheckInterval, incomingFiles: IncomingFiles,
        logSink: LogSink = .standardError
    ) async throws -> RunningServer {
        let logger = ServiceLogger.make(label: "mailferry.buffer", format: configuration.logFormat, sink: logSink)
        let spool = try await SpoolStores.openWaitingForTheDatabase(
            configuration.spoolDirectory, passwordFile: configuration.spoolPasswordFile, incomingFiles: incomingFiles,
            log: { logger.warning("\($0)") })
        let group = MultiThreadedEventLoopGroup(numberOfThreads: eventLoopThreads)
        var bound: [any Channel] = []
        do {
            // Each server its own registry: no process-wide metrics bootstrap, so tests may run several.
            let prometheus = configuration.metrics.map { _ in
                PrometheusMetrics(durationBuckets: [BufferMetrics.commitLatencyLabel: BufferMetrics.commitLatencyBuckets])
            }
            let metrics = prometheus.map { BufferMetrics(factory: $0.factory) } ?? .disabled
            let telemetry = BufferTelemetry(logger: logger, metrics: metrics)
            // Held in lower case, as `buffer hold` does; RCPT TO matches as given, then in lower case. Only users
            // new to the spool: one the spool knows keeps its state across restarts (closed stays closed, a user
            // taken out with `buffer hold --remove` stays out), as the operator left it.
            for user in configuration.hold.map({ $0.lowercased() }) where try spool.status(user: user) == nil {
                try spool.hold(user: user)
            }
            let registry = ConnectionRegistry(
                limit: configuration.limits.connections, limitPerAddress: configuration.limits.connectionsPerIP)
            // Linger passes log through the same logger as the transactions, in the same format.
            let log: @Sendable (String) -> Void = { line in logger.notice("\(line)") }
            // Releases and linger passes read the [imap] section of the configuration file again each time.
            let delivery: @Sendable () throws -> ConnectorOptions = { try configuration.currentDeliveryOptions() }
            let linger = LingerDispatcher(spool: spool, delivery: delivery, log: log)
            // Users whose linger time ran out while the server was down are closed before mail is accepted.
            let closer = configuration.linger.map {
                LingerCloser(spool: spool, linger: $0, interval: lingerCheckInterval, log: log)
            }
            closer?.closeExpired()
            var smtp: SocketAddress?
            var lmtp: SocketAddress?
            if let listener = configuration.smtp {
                let channel = try await bind(listener, mode: .smtp, configuration, spool, registry, linger, telemetry, group)
                bound.append(channel)
                smtp = channel.localAddress
            }
            if let listener = configuration.lmtp {
                let channel = try await bind(listener, mode: .lmtp, configuration, spool, registry, linger, telemetry, group)
                bound.append(channel)
                lmtp = channel.localAddress
            }
            // A shared spool has no directory and needs no control socket: the commands on any host act on the
            // database themselves.
            let socketPath = spool.localDirectory.map { BufferControl.socketPath(spoolDirectory: $0) }
            if let socketPath {
                // A socket file left by a killed server is stale: we hold the spool lock, so nobody else serves it.
                let control = try await ServerBootstrap(group: group)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                ControlHandler(spool: spool, delivery: delivery, telemetry: telemetry))
                        }
                    }
                    .bind(unixDomainSocketPath: socketPath, cleanupExistingSocketFile: true).get()
                bound.append(control)
                chmod(socketPath, 0o600)
            }
            var metricsAddress: SocketAddress?
            if let listener = configuration.metrics, let prometheus {
                let channel: any Channel
                do {
                    channel = try await MetricsEndpoint.bind(
                        host: listener.host, port: listener.port, metrics: prometheus, group: group
                    ) {
                        // The spool's gauges, read off the event loop by the endpoint: SQLite may wait for a commit.
                        metrics.refresh(from: spool)
                    }
                } catch {
                    throw ServerError(message: "cannot listen for metrics on \(listener.host):\(listener.port): \(error)")
                }
                bound.append(channel)
                metricsAddress = channel.localAddress
            }
            closer?.start()
            return RunningServer(
                configuration: configuration, spool: spool, group: group, listeners: bound, registry: registry, linger: linger,
                lingerCloser: closer, smtpAddress: smtp, lmtpAddress: lmtp, metricsAddress: metricsAddress,
                controlSocketPath: socketPath,
                shutdownTimeout: shutdownTimeout)
        } catch {
            for channel in bound { try? await channel.close() }
            try? await group.shutdownGracefully()
            try? spool.close()
            throw error
        }
    }

    static func sessionConfiguration(
        _ configuration: BufferConfiguration, mode: SMTPSession.Mode, listener: BufferConfiguration.Listener? = nil
    ) -> SMTPSession.Configuration {
        SMTPSession.Configuration(
            mode: mode, hostname: configuration.hostname, maximumMessageSize: configuration.limits.messageSize,
            // The spool stores at most this many recipients per message; more get 452 and are retried.
            maximumRecipients: min(configuration.limits.recipients, SpoolLimits.recipientsPerMessage),
            offersStartTLS: listener?.tls != nil, requiresTLS: listener?.requireTLS ?? false,
            framing: SMTPFramer.Options(textLineLimit: configuration.limits.lineLength))
    }

    private static func bind(
        _ listener: BufferConfiguration.Listener, mode: SMTPSession.Mode, _ configuration: BufferConfiguration,
        _ spool: any SpoolStore, _ registry: ConnectionRegistry, _ linger: LingerDispatcher, _ telemetry: BufferTelemetry,
        _ group: MultiThreadedEventLoopGroup
    ) async throws -> any Channel {
        let session = sessionConfiguration(configuration, mode: mode, listener: listener)
        // One server context per listener, built (and its files checked) before the listener binds.
        let tls = try listener.tls.map { try BufferTLS.makeContext($0, table: mode == .lmtp ? "lmtp" : "smtp", path: "configuration") }
        do {
            return try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.autoRead, value: false)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try setUp(channel, mode: mode, configuration, session, tls, spool, registry, linger, telemetry)
                    }
                }
                .bind(host: listener.host, port: listener.port).get()
        } catch {
            throw ServerError(
                message: "cannot listen for \(mode == .lmtp ? "LMTP" : "SMTP") on \(listener.host):\(listener.port): \(error)")
        }
    }

    /// Runs on the new channel's event loop.
    private static func setUp(
        _ channel: any Channel, mode: SMTPSession.Mode, _ configuration: BufferConfiguration,
        _ session: SMTPSession.Configuration, _ tls: NIOSSLContext?, _ spool: any SpoolStore, _ registry: ConnectionRegistry,
        _ linger: LingerDispatcher, _ telemetry: BufferTelemetry
    ) throws {
        switch registry.admit(channel, listener: mode) {
        case .overLimit:
            try channel.pipeline.syncOperations.addHandler(
                RefusingHandler(reply: .tooManyConnections(hostname: configuration.hostname)))
            return
        case .overLimitForAddress:
            try channel.pipeline.syncOperations.addHandler(
                RefusingHandler(reply: .tooManyConnectionsFromAddress(hostname: configuration.hostname)))
            return
        case .shuttingDown:
            try channel.pipeline.syncOperations.addHandler(
                RefusingHandler(reply: .shuttingDown(hostname: configuration.hostname)))
            return
        case .admitted:
            // A shared spool whose database does not answer: 421 at once rather than take mail it cannot commit.
            if !spool.isAvailable {
                registry.remove(channel)
                try channel.pipeline.syncOperations.addHandler(
                    RefusingHandler(reply: .spoolUnavailable(hostname: configuration.hostname)))
                return
            }
        }
        channel.closeFuture.whenComplete { _ in registry.remove(channel) }
        let handler = BufferConnectionHandler(
            configuration: configuration, sessionConfiguration: session, tlsContext: tls, spool: spool,
            telemetry: telemetry)
        let (commands, continuation) = AsyncStream.makeStream(of: SpoolWorker.Command.self)
        handler.attach(commands: continuation)
        let loop = channel.eventLoop
        let boundHandler = NIOLoopBound(handler, eventLoop: loop)
        let id = ObjectIdentifier(channel)
        // Writes and fsyncs block: the worker runs on the spool executor, not the cooperative pool.
        let worker = Task(executorPreference: SpoolExecutor.shared) {
            await SpoolWorker.run(
                spool: spool, commands: commands, metrics: telemetry.metrics, committed: { linger.committed($0) }
            ) { report in
                loop.execute { boundHandler.value.workerReported(report) }
            }
            registry.workerEnded(for: id)
        }
        registry.attach(worker: worker, to: channel)
        do {
            try channel.pipeline.syncOperations.addHandler(handler)
        } catch {
            continuation.finish()
            throw error
        }
    }
}

/// The service could not start.
public struct ServerError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
