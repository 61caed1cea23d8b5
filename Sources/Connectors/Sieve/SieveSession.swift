import IMAPClient
import MailModel

/// One user's logged-in ManageSieve connection to a `sieve://` server: opened (STARTTLS unless the server offers
/// none and `--allow-plaintext` allows it) and authenticated as the IMAP connector logs in, from the same
/// credentials file: the user's own password, a Dovecot master login or SASL PLAIN with an authorization identity
/// (`IMAPServerAccess.authentication(for:)`).
enum SieveSession {
    static func open(_ access: IMAPServerAccess, user: String) throws -> ManageSieveConnection {
        var endpoint = access.endpoint
        endpoint.security = .startTLS
        let connection = try ManageSieveConnection.open(endpoint)
        do {
            try connection.authenticate(try access.authentication(for: user))
        } catch {
            connection.logout()
            throw error
        }
        return connection
    }

    /// `sieve://HOST:PORT`, for messages.
    static func name(_ access: IMAPServerAccess) -> String {
        "sieve://\(access.host.contains(":") ? "[\(access.host)]" : access.host):\(access.port)"
    }
}
