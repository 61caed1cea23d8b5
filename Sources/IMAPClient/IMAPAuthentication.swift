/// The credentials to log in with. Never printed.
public enum IMAPAuthentication: Sendable {
    /// AUTHENTICATE PLAIN when the server offers AUTH=PLAIN, otherwise LOGIN. A Dovecot master login is
    /// user `alice*admin` with the master password.
    case login(user: String, password: String)
    /// SASL PLAIN (RFC 4616) with an authorization identity: an administrator (`authenticationID`) acting as
    /// the user `authorizationID`.
    case plain(authorizationID: String?, authenticationID: String, password: String)
}
