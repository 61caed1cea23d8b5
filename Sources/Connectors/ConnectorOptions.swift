import Foundation
import MailModel
import Synchronization

/// What a server source or target needs besides its URL: where the passwords are, which CAs to trust, whether a
/// password may go in the clear, where the import journal lives, how many refused items to tolerate.
public struct ConnectorOptions: Sendable {
    /// `--credentials FILE`; nil reads `$MAILFERRY_CREDENTIALS`.
    public var credentialsPath: String?
    public var caFile: String?
    public var allowPlaintext: Bool
    public var journalDirectory: String
    public var maxBadItems: Int
    /// Where the IMAP settings came from (the command line, or the buffer's configuration file).
    public var settingsOrigin: IMAPSettingsOrigin = .commandLine
    /// `--allow-readable-credentials` (`allow_readable_credentials` in the buffer's `[imap]`): use a credentials
    /// file that group or others may read, with a warning, instead of refusing it.
    public var allowReadableCredentials = false
    /// `--timeout SECONDS`: how long a server may keep a command waiting, and the window in which a response in
    /// progress must bring at least `IMAPEndpoint.minimumProgressBytes` (IMAP; LMTP has its own).
    public var timeout: Duration = IMAPServerAccess.defaultTimeout
    /// `import --reimport`: an IMAP target checks on the server that what its journal placed is still there.
    public var checksPlacements = false
    /// Whether file targets keep every item's `ItemPlacement` for the report and identity map (memory grows with
    /// the mailbox); an import that writes no report turns it off. An IMAP target keeps them anyway (its journal).
    public var recordsPlacements = true
    /// Called with the mailbox and UID of each message body an IMAP source fetches (an export, a reconcile reading
    /// the target back): how tests see which bodies were read.
    public var onBodyRead: (@Sendable (String, UInt32) -> Void)?
    /// Lines for people: reconnects, refused items, renamed folders.
    public var onNotice: (@Sendable (String) -> Void)?

    public init(
        credentialsPath: String? = nil, caFile: String? = nil, allowPlaintext: Bool = false,
        journalDirectory: String? = nil, maxBadItems: Int = 0, onNotice: (@Sendable (String) -> Void)? = nil
    ) {
        self.credentialsPath = credentialsPath
        self.caFile = caFile
        self.allowPlaintext = allowPlaintext
        self.journalDirectory = journalDirectory ?? Self.defaultJournalDirectory()
        self.maxBadItems = maxBadItems
        self.onNotice = onNotice
    }

    /// `$XDG_STATE_HOME/mailferry/journal`, or `~/.local/state/mailferry/journal`.
    public static func defaultJournalDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") { return state + "/mailferry/journal" }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return home + "/.local/state/mailferry/journal"
    }

    func access(for url: ConnectorURL) throws -> IMAPServerAccess {
        let host: String, port: Int, implicitTLS: Bool
        switch url {
        case .imap(let h, let p, let tls): (host, port, implicitTLS) = (h, p, tls)
        case .sieve(let h, let p): (host, port, implicitTLS) = (h, p, false)
        case .dav(let h, let p, _, let tls): (host, port, implicitTLS) = (h, p, tls)
        case .directory, .maildir, .mbox: preconditionFailure("access(for:) is for server URLs")
        }
        let credentials: IMAPCredentials
        let allowing: String
        switch settingsOrigin {
        case .commandLine: allowing = "--allow-readable-credentials"
        case .bufferConfiguration(let path):
            allowing = "allow_readable_credentials = true in the [imap] section of \(path ?? "the buffer's configuration")"
        }
        do {
            credentials = try IMAPCredentials.load(
                path: credentialsPath, allowReadable: allowReadableCredentials, allowing: allowing,
                onReadable: Self.warnOnce)
        } catch {
            throw FerryError(.usage, "\(error)")
        }
        return IMAPServerAccess(
            host: host, port: port, implicitTLS: implicitTLS, caFile: caFile, allowPlaintext: allowPlaintext,
            credentials: credentials, timeout: timeout, settingsOrigin: settingsOrigin)
    }
}

extension ConnectorOptions {
    private static let warned = Mutex<Set<String>>([])

    /// A warning on standard error, also with `--quiet` (it is about a secret), once a process however often the
    /// credentials are loaded (each job of a parallel run loads them).
    static func warnOnce(_ line: String) {
        guard warned.withLock({ $0.insert(line).inserted }) else { return }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
