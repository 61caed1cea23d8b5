/// How the connection is protected.
public enum IMAPSecurity: Sendable, Hashable {
    /// TLS from the first byte (imaps, RFC 8314).
    case implicitTLS
    /// Plain TCP, upgraded with STARTTLS when the server offers it (RFC 9051 section 6.2.1). When it does not,
    /// the connection stays in the clear and passwords are refused unless `allowPlaintextPassword`.
    case startTLS
}
