import IMAPClient
import MailModel

/// Everything needed to reach one IMAP server as any of its users: the address, how to secure the connection, and
/// the passwords. Parsed from `imap://HOST[:PORT]` or `imaps://HOST[:PORT]` plus the command line's options.
public struct IMAPServerAccess: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// `imaps:` (TLS from the first byte) rather than `imap:` (STARTTLS when offered).
    public var implicitTLS: Bool
    /// A PEM file of CA certificates to trust instead of the system's.
    public var caFile: String?
    /// Lets a password go over a connection without TLS (a server that offers no STARTTLS).
    public var allowPlaintext: Bool
    public var credentials: IMAPCredentials
    /// How long any one wait for the server may last.
    public var timeout: Duration
    /// Where the settings came from, so refusals name the option or the configuration key to change.
    public var settingsOrigin: IMAPSettingsOrigin

    /// `--timeout`'s default.
    public static let defaultTimeout: Duration = .seconds(60)

    public init(
        host: String, port: Int, implicitTLS: Bool, caFile: String? = nil, allowPlaintext: Bool = false,
        credentials: IMAPCredentials, timeout: Duration = IMAPServerAccess.defaultTimeout,
        settingsOrigin: IMAPSettingsOrigin = .commandLine
    ) {
        self.settingsOrigin = settingsOrigin
        self.host = host
        self.port = port
        self.implicitTLS = implicitTLS
        self.caFile = caFile
        self.allowPlaintext = allowPlaintext
        self.credentials = credentials
        self.timeout = timeout
    }

    /// `imap://HOST:PORT` as the user wrote it, never with a password.
    public var description: String {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        return "\(implicitTLS ? "imaps" : "imap")://\(bracketed):\(port)"
    }

    /// `HOST:PORT`, as it names the server in journals.
    var serverName: String { "\(host):\(port)" }

    var endpoint: IMAPEndpoint {
        IMAPEndpoint(
            host: host, port: port, security: implicitTLS ? .implicitTLS : .startTLS, caFile: caFile,
            allowPlaintextPassword: allowPlaintext, timeout: timeout, settingNames: settingsOrigin.names)
    }

    func authentication(for user: String) throws -> IMAPAuthentication {
        switch try credentials.login(for: user) {
        case .user(let name, let password), .master(let name, let password):
            return .login(user: name, password: password)
        case .sasl(let authorizationID, let authenticationID, let password):
            return .plain(authorizationID: authorizationID, authenticationID: authenticationID, password: password)
        }
    }
}

/// Where an IMAP connection's settings (the CA file, plaintext passwords) were given.
public enum IMAPSettingsOrigin: Sendable, Hashable {
    /// `--ca-file`, `--allow-plaintext`.
    case commandLine
    /// The buffer's TOML file, `[imap]` section: `ca_file`, `allow_plaintext`.
    case bufferConfiguration(path: String?)

    var names: IMAPSettingNames {
        switch self {
        case .commandLine: return .commandLine
        case .bufferConfiguration(let path): return .bufferConfiguration(path)
        }
    }
}
