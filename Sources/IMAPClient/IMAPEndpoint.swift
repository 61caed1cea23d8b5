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
    /// How the settings above are named where they were set, for refusals that say what to change.
    public var settingNames: IMAPSettingNames

    public init(
        host: String, port: Int, security: IMAPSecurity, caFile: String? = nil, allowPlaintextPassword: Bool = false,
        timeout: Duration = .seconds(60), settingNames: IMAPSettingNames = .commandLine
    ) {
        self.settingNames = settingNames
        self.host = host
        self.port = port
        self.security = security
        self.caFile = caFile
        self.allowPlaintextPassword = allowPlaintextPassword
        self.timeout = timeout
    }

    /// While a response is in progress, at least this many bytes must come in every `timeout` spent waiting.
    public static let minimumProgressBytes = 1024

    /// Why a response that began stopped short of the minimum progress (`bytes` in the last window).
    func stalled(after bytes: Int) -> String {
        "the server stalled part way through a response: \(bytes) bytes in \(timeout) "
            + "(at least \(Self.minimumProgressBytes) bytes are needed in every \(timeout))"
    }

    var timeoutSeconds: Double {
        let parts = timeout.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
