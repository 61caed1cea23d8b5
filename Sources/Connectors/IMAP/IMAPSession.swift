import Foundation
import IMAPClient
import MailModel

/// One user's logged-in connection to an IMAP server that comes back after a dropped connection or a server
/// restart: `run` retries an operation on a fresh connection, with growing pauses, as long as the failure is one a
/// reconnect can cure (the connection, not the command). What a retried operation must redo (select the folder
/// again, check UIDVALIDITY) is its own business.
///
/// The retries are bounded so that a stalled or hostile server ends the export in a known time (README, "IMAP
/// servers"): after a dropped or refused connection at most `dropRetries` more tries in a row (pauses 0.5, 1, 2,
/// 4, 8, 8 s: 23.5 s, which covers a server restart); after a timeout, which costs a whole `timeout` each, one
/// more try only; and at most `maxReconnects` new connections for the whole session. A successful operation ends
/// a row.
final class IMAPSession {
    static let dropRetries = 6
    static let timeoutRetries = 1
    static let maxReconnects = 16
    static let firstPause: Duration = .milliseconds(500)
    static let longestPause: Duration = .seconds(8)

    let access: IMAPServerAccess
    let user: String
    private var current: IMAPConnection?
    /// Connections opened after the first, for the report.
    private(set) var reconnects = 0
    private var opened = 0
    /// Failures since the last operation that succeeded, and how many of them were timeouts.
    private var failuresInARow = 0
    private var timeoutsInARow = 0
    /// Called before each retry with the failure, to tell the user.
    var onRetry: ((String) -> Void)?

    init(access: IMAPServerAccess, user: String) {
        self.access = access
        self.user = user
    }

    /// The logged-in connection, opened on first use or after the last one broke.
    func connection() throws -> IMAPConnection {
        if let current, current.isUsable { return current }
        current?.logout()
        current = nil
        guard opened <= Self.maxReconnects else {
            throw ConnectorError(
                location: "\(access) \(user)",
                message: "gave up after \(Self.maxReconnects) new connections to the server in this session")
        }
        // Counted before the attempt, so that connections that fail to open use up the budget too.
        opened += 1
        if opened > 1 { reconnects += 1 }
        let connection = try IMAPConnection.open(access.endpoint)
        do {
            try connection.authenticate(access.authentication(for: user))
        } catch {
            connection.logout()
            throw error
        }
        current = connection
        return connection
    }

    /// Runs `operation` on the connection, again on a new one after a failure a reconnect can cure, within the
    /// session's retry budget.
    func run<T>(_ what: String, _ operation: (IMAPConnection) throws -> T) throws -> T {
        while true {
            do {
                let result = try operation(try connection())
                failuresInARow = 0
                timeoutsInARow = 0
                return result
            } catch let error as IMAPError where error.isCuredByReconnecting {
                try retry(after: error, what)
            }
        }
    }

    /// Counts a failure a reconnect may cure against the budget: rethrows it (saying why no further try is made)
    /// when the budget is spent, otherwise drops the connection, tells the user and pauses.
    func retry(after error: IMAPError, _ what: String) throws {
        failuresInARow += 1
        if error.kind == .timeout { timeoutsInARow += 1 }
        let retries = error.kind == .timeout ? Self.timeoutRetries : Self.dropRetries
        current?.logout()
        current = nil
        if error.kind == .timeout && timeoutsInARow > retries {
            throw IMAPGiveUp(error: error, what: what, why: "timed out \(timeoutsInARow) times in a row")
        }
        if failuresInARow > Self.dropRetries {
            throw IMAPGiveUp(error: error, what: what, why: "failed \(failuresInARow) times in a row")
        }
        if opened > Self.maxReconnects {
            throw IMAPGiveUp(error: error, what: what, why: "\(Self.maxReconnects) new connections used up in this session")
        }
        var pause = Self.firstPause
        for _ in 1..<failuresInARow { pause = min(pause * 2, Self.longestPause) }
        onRetry?("\(access): \(user): \(what): \(error); connecting again in \(pause)")
        Thread.sleep(forTimeInterval: Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18)
    }

    /// Selects `name` on `connection` unless it is already the selected mailbox there. A changed UIDVALIDITY since
    /// the first selection means the UIDs this session holds are void (RFC 9051 section 2.3.1.1): an error.
    /// Selects `name` even when it is the selected mailbox already, for a fresh message count and UIDNEXT.
    func reselect(_ name: String, readOnly: Bool, on connection: IMAPConnection) throws -> IMAPSelectedMailbox {
        selection = nil
        return try select(name, readOnly: readOnly, on: connection)
    }

    func select(_ name: String, readOnly: Bool, on connection: IMAPConnection) throws -> IMAPSelectedMailbox {
        if let s = selection, s.connection === connection, s.name == name, s.readOnly == readOnly { return s.mailbox }
        let mailbox = try connection.select(name, readOnly: readOnly)
        if let first = firstUIDValidity[name], let now = mailbox.uidValidity, first != now {
            throw ConnectorError(
                location: "\(access) \(user) \(name)",
                message: "UIDVALIDITY changed from \(first) to \(now) while working on it; start again")
        }
        if let now = mailbox.uidValidity { firstUIDValidity[name] = now }
        selection = (connection, name, readOnly, mailbox)
        return mailbox
    }

    private var selection: (connection: IMAPConnection, name: String, readOnly: Bool, mailbox: IMAPSelectedMailbox)?

    /// Whether `name` is the mailbox selected on `connection` (in either mode).
    func isSelected(_ name: String, on connection: IMAPConnection) -> Bool {
        guard let s = selection else { return false }
        return s.connection === connection && s.name == name
    }
    private var firstUIDValidity: [String: UInt32] = [:]

    func close() {
        current?.logout()
        current = nil
    }

    deinit { current?.logout() }
}

/// The last of the failures a session retried, when it tries no more: the server's problem, then why it stops.
/// It keeps the failure's exit status (3) and is not retried again by an outer operation.
struct IMAPGiveUp: ExitStatusError {
    let error: IMAPError
    let what: String
    let why: String
    var exitStatus: ExitStatus { .ioError }
    var description: String { "\(error) (\(what): \(why); giving up)" }
}
