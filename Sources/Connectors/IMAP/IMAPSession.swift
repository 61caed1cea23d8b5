import Foundation
import IMAPClient
import MailModel

/// One user's logged-in connection to an IMAP server that comes back after a dropped connection or a server
/// restart: `run` retries an operation on a fresh connection, with growing pauses, as long as the failure is one a
/// reconnect can cure (the connection, not the command). What a retried operation must redo (select the folder
/// again, check UIDVALIDITY) is its own business.
final class IMAPSession {
    /// Attempts per operation, and the pauses between them: 0.5 s doubling up to 8 s, about 45 s in all, which
    /// covers a server restart.
    static let attempts = 8
    static let firstPause: Duration = .milliseconds(500)
    static let longestPause: Duration = .seconds(8)

    let access: IMAPServerAccess
    let user: String
    private var current: IMAPConnection?
    /// Connections opened after the first, for the report.
    private(set) var reconnects = 0
    private var opened = 0
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
        let connection = try IMAPConnection.open(access.endpoint)
        do {
            try connection.authenticate(access.authentication(for: user))
        } catch {
            connection.logout()
            throw error
        }
        opened += 1
        if opened > 1 { reconnects += 1 }
        current = connection
        return connection
    }

    /// Runs `operation` on the connection, again on a new one after a failure a reconnect can cure.
    func run<T>(_ what: String, _ operation: (IMAPConnection) throws -> T) throws -> T {
        var pause = Self.firstPause
        var attempt = 1
        while true {
            do {
                return try operation(try connection())
            } catch let error as IMAPError where error.isCuredByReconnecting && attempt < Self.attempts {
                onRetry?("\(access): \(user): \(what): \(error); connecting again in \(pause)")
                current?.logout()
                current = nil
                Thread.sleep(forTimeInterval: Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18)
                pause = min(pause * 2, Self.longestPause)
                attempt += 1
            }
        }
    }

    /// Selects `name` on `connection` unless it is already the selected mailbox there. A changed UIDVALIDITY since
    /// the first selection means the UIDs this session holds are void (RFC 9051 section 2.3.1.1): an error.
    func select(_ name: String, readOnly: Bool, on connection: IMAPConnection) throws -> IMAPSelectedMailbox {
        if let s = selection, s.connection === connection, s.name == name, s.readOnly == readOnly { return s.mailbox }
        let mailbox = try connection.select(name, readOnly: readOnly)
        if let first = firstUIDValidity[name], let now = mailbox.uidValidity, first != now {
            throw SourceError(
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
