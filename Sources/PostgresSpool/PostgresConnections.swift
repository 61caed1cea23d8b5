import BufferSpool
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// The spool's connections to PostgreSQL: a few kept open, one checked out per operation, a broken one dropped
/// and replaced by a new connection at the next checkout (so the spool reconnects by itself once the database is
/// back). Every wait is bounded: connecting by `connectTimeout`, each statement by `statementTimeout`, after which
/// the connection is closed and the operation fails with `SpoolError.database`.
///
/// The API blocks its caller (the spool's callers are threads that may block: the spool executor, the group
/// committer, the commands), never an event loop: a call from an event loop thread is refused, not a crash.
/// The connections run on their own event loop group.
///
/// `package`: the plan's store on PostgreSQL (MigrationPlan) connects through the same code.
package final class PostgresConnections: Sendable {
    package let url: PostgresSpoolURL
    private let configuration: PostgresConnection.Configuration
    private let group: MultiThreadedEventLoopGroup
    let logger: Logger
    private let idle = Mutex<[PostgresConnection]>([])
    private let nextID = Atomic<Int>(0)
    private let closed = Atomic<Bool>(false)
    private let healthy = Atomic<Bool>(true)
    package let statementTimeout: TimeAmount
    /// Connections kept open between operations.
    static let keptOpen = 8

    package init(url: PostgresSpoolURL, password: String?, connectTimeout: TimeAmount, statementTimeout: TimeAmount) throws {
        self.url = url
        self.statementTimeout = statementTimeout
        let tls: PostgresConnection.Configuration.TLS
        switch url.sslMode {
        case .disable:
            tls = .disable
        case .require, .verifyFull:
            var client = TLSConfiguration.makeClientConfiguration()
            if url.sslMode == .require {
                client.certificateVerification = .none
            } else if let root = url.rootCertificatePath {
                client.trustRoots = .file(root)
            }
            do {
                tls = .require(try NIOSSLContext(configuration: client))
            } catch {
                throw PostgresSpoolError.invalidURL(reason: "TLS set-up failed: \(error)")
            }
        }
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: password, database: url.database, tls: tls)
        configuration.options.connectTimeout = connectTimeout
        if url.sslMode == .verifyFull { configuration.options.tlsServerName = url.host }
        self.configuration = configuration
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var logger = Logger(label: "mailferry.spool.postgres")
        logger.logLevel = .critical
        self.logger = logger
    }

    /// False after an operation failed for want of the database (not for a refused statement), true again after
    /// one succeeded.
    package var isHealthy: Bool { healthy.load(ordering: .relaxed) }

    package func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let connections = idle.withLock { list in
            defer { list.removeAll() }
            return list
        }
        for connection in connections {
            let done: EventLoopFuture<Void> = connection.close()
            _ = try? wait(done, timeout: .seconds(2))
        }
        try? group.syncShutdownGracefully()
    }

    /// Runs `body` on one connection. A connection whose operation threw is closed, not reused.
    package func withSession<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        guard !closed.load(ordering: .acquiring) else { throw SpoolError.closed }
        let connection = try checkout()
        let session = PostgresSession(connection: connection, pool: self)
        do {
            let result = try body(session)
            checkin(connection)
            healthy.store(true, ordering: .relaxed)
            return result
        } catch {
            Self.closeQuietly(connection)
            throw mapped(error)
        }
    }

    /// `body` in one transaction (READ COMMITTED; row locks where a decision depends on a row).
    package func transaction<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        try withSession { session in
            try session.execute("BEGIN")
            do {
                let result = try body(session)
                try session.execute("COMMIT")
                return result
            } catch {
                // At once, not when the server notices the closed connection: a refused state change must not
                // keep the user's row lock (the next operation on that user would wait for it).
                try? session.execute("ROLLBACK")
                throw error
            }
        }
    }

    private func checkout() throws -> PostgresConnection {
        while let connection = idle.withLock({ $0.popLast() }) {
            if !connection.isClosed { return connection }
            Self.closeQuietly(connection)
        }
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        let connecting = PostgresConnection.connect(
            on: group.next(), configuration: configuration, id: id, logger: logger)
        let connection: PostgresConnection
        do {
            connection = try wait(connecting, timeout: configuration.options.connectTimeout + .seconds(1))
        } catch {
            // A connection that completes after the wait gave up is closed, never dropped open.
            connecting.whenSuccess { Self.closeQuietly($0) }
            throw mapped(error, connecting: true)
        }
        do {
            // The 250 promise needs a durable commit; an operator's synchronous_commit = off would break it.
            _ = try run(
                """
                SELECT set_config('synchronous_commit', 'on', false) WHERE current_setting('synchronous_commit') = 'off'
                """, on: connection)
            return connection
        } catch {
            Self.closeQuietly(connection)
            throw mapped(error)
        }
    }

    private func checkin(_ connection: PostgresConnection) {
        let kept = idle.withLock { list in
            guard !closed.load(ordering: .acquiring), list.count < Self.keptOpen, !connection.isClosed else {
                return false
            }
            list.append(connection)
            return true
        }
        if !kept { Self.closeQuietly(connection) }
    }

    /// Runs one statement on `connection`, bounded by the statement timeout. The statement is handed to the
    /// connection on its event loop, where the connection cannot close between the check and the write: a
    /// statement written to a connection that has already closed is dropped by postgres-nio without an answer,
    /// so it (and the ROLLBACK after any statement that failed with the connection) would wait out the whole
    /// statement timeout, and a transaction cut off between two statements took two of them.
    func run(_ query: PostgresQuery, on connection: PostgresConnection) throws -> PostgresQueryResult {
        try refuseEventLoopThread()
        let logger = self.logger
        let result = connection.eventLoop.flatSubmit {
            connection.isClosed
                ? connection.eventLoop.makeFailedFuture(PostgresConnectionLost())
                : connection.query(query, logger: logger)
        }
        return try wait(result, timeout: statementTimeout, closing: connection)
    }

    /// Waits for `future` at most `timeout`; after that closes `closing` (so the statement cannot complete
    /// later on a connection someone else uses) and throws.
    func wait<T: Sendable>(_ future: EventLoopFuture<T>, timeout: TimeAmount, closing: PostgresConnection? = nil) throws
        -> T
    {
        try refuseEventLoopThread()
        let promise = future.eventLoop.makePromise(of: T.self)
        future.cascade(to: promise)
        let timer = future.eventLoop.scheduleTask(in: timeout) {
            promise.fail(PostgresTimeout(seconds: timeout.nanoseconds / 1_000_000_000))
            if let closing { Self.closeQuietly(closing) }
        }
        future.whenComplete { _ in timer.cancel() }
        return try promise.futureResult.wait()
    }

    /// The API blocks; blocking an event loop thread (possibly the connections' own) is refused.
    private func refuseEventLoopThread() throws {
        if MultiThreadedEventLoopGroup.currentEventLoop != nil {
            throw SpoolError.database(
                path: url.description, reason: "internal error: the shared spool was called on an event loop thread")
        }
    }

    /// Every failure of the database as a `SpoolError` naming it; a lost or unreachable database marks the
    /// store unhealthy. Errors of the caller's own work (a refused release inside `exclusively`) pass unchanged.
    func mapped(_ error: any Error, connecting: Bool = false) -> any Error {
        if error is SpoolError || error is PostgresSpoolError { return error }
        if !connecting && !(error is PSQLError) && !(error is PostgresTimeout) && !(error is PostgresConnectionLost) {
            return error
        }
        if error is PostgresConnectionLost {
            healthy.store(false, ordering: .relaxed)
            return SpoolError.database(path: url.description, reason: "connection lost")
        }
        if let timeout = error as? PostgresTimeout {
            healthy.store(false, ordering: .relaxed)
            return SpoolError.database(path: url.description, reason: "no answer within \(timeout.seconds) s")
        }
        if let psql = error as? PSQLError {
            if let message = psql.serverInfo?[.message] {
                let state = psql.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                // 57P01..57P03: the server is shutting down or starting; 08xxx: connection exceptions.
                if let code = psql.serverInfo?[.sqlState], code.hasPrefix("57P") || code.hasPrefix("08") {
                    healthy.store(false, ordering: .relaxed)
                }
                return SpoolError.database(path: url.description, reason: message + state)
            }
            healthy.store(false, ordering: .relaxed)
            var reason = "\(psql.code)"
            if let underlying = psql.underlying { reason += ": \(underlying)" }
            return SpoolError.database(path: url.description, reason: "connection failed or lost (\(reason))")
        }
        healthy.store(false, ordering: .relaxed)
        return SpoolError.database(path: url.description, reason: "connection failed or lost (\(error))")
    }
}

extension PostgresConnections {
    /// Closes without waiting. The connection is kept until its channel has closed: postgres-nio asserts that
    /// a connection is closed before it is released.
    static func closeQuietly(_ connection: PostgresConnection) {
        let done: EventLoopFuture<Void> = connection.close()
        done.whenComplete { _ in withExtendedLifetime(connection) {} }
    }
}

struct PostgresTimeout: Error {
    var seconds: Int64
}

/// A statement was not sent: its connection had closed (the server ended it, or the connection was lost).
struct PostgresConnectionLost: Error {}

/// One checked-out connection: statements run one after another, each bounded by the pool's statement timeout.
package struct PostgresSession {
    let connection: PostgresConnection
    let pool: PostgresConnections

    @discardableResult
    package func query(_ query: PostgresQuery) throws -> [PostgresRow] {
        try pool.run(query, on: connection).rows
    }

    package func execute(_ query: PostgresQuery) throws {
        try self.query(query)
    }
}
