/// How the connection is protected.
public enum IMAPSecurity: Sendable, Hashable {
    /// TLS from the first byte (imaps, RFC 8314).
    case implicitTLS
    /// Plain TCP, upgraded with STARTTLS when the server offers it (RFC 9051 section 6.2.1). When it does not,
    /// the connection stays in the clear and passwords are refused unless `allowPlaintextPassword`.
    case startTLS
}

/// Where and how to connect.
public struct IMAPEndpoint: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var security: IMAPSecurity
    /// PEM file of trusted CA certificates; nil trusts the system's roots.
    public var caFile: String?
    /// Allow sending a password over a connection without TLS.
    public var allowPlaintextPassword: Bool
    /// Longest any single wait (connect, a read, a write) may take.
    public var timeout: Duration

    public init(
        host: String, port: Int, security: IMAPSecurity, caFile: String? = nil, allowPlaintextPassword: Bool = false,
        timeout: Duration = .seconds(120)
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.caFile = caFile
        self.allowPlaintextPassword = allowPlaintextPassword
        self.timeout = timeout
    }

    var timeoutSeconds: Double {
        let parts = timeout.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}

/// The credentials to log in with. Never printed.
public enum IMAPAuthentication: Sendable {
    /// AUTHENTICATE PLAIN when the server offers AUTH=PLAIN, otherwise LOGIN. A Dovecot master login is
    /// user `alice*admin` with the master password.
    case login(user: String, password: String)
    /// SASL PLAIN (RFC 4616) with an authorization identity: an administrator (`authenticationID`) acting as
    /// the user `authorizationID`.
    case plain(authorizationID: String?, authenticationID: String, password: String)
}
