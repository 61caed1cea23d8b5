import Connectors
import MailModel

/// A release target as the command line names it: `dir:PATH`, `maildir:PATH`, `imap://HOST[:PORT]`,
/// `imaps://HOST[:PORT]` (through FerryKit's connectors), or `lmtp://HOST[:PORT]` / `lmtp:/path/to/socket`.
public enum DeliveryTargetURL: Sendable, Equatable, CustomStringConvertible {
    case mailbox(ConnectorURL)
    case lmtp(LMTPClient.Endpoint)

    /// The LMTP port when none is given (RFC 2033 assigns none; 24 is the usual one).
    public static let defaultLMTPPort = 24

    public init(parsing text: String) throws {
        let lower = text.lowercased()
        if lower.hasPrefix("lmtp://") {
            let rest = text.dropFirst("lmtp://".count).split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let address: ServerAddress
            do {
                address = try ServerAddress(parsing: rest, defaultPort: Self.defaultLMTPPort)
            } catch {
                throw FerryError(.usage, "\(text): \(error); use lmtp://HOST:PORT")
            }
            self = .lmtp(.tcp(host: address.host, port: address.port))
        } else if lower.hasPrefix("lmtp:") {
            let path = String(text.dropFirst("lmtp:".count))
            guard path.hasPrefix("/") else {
                throw FerryError(.usage, "\(text): use lmtp://HOST:PORT or lmtp:/absolute/path/to/socket")
            }
            self = .lmtp(.unix(path: path))
        } else {
            let url = try ConnectorURL(parsing: text)
            if case .mbox = url { throw FerryError(.usage, "mbox: is a source only; release to dir:, maildir:, imap://, imaps:// or lmtp://") }
            self = .mailbox(url)
        }
    }

    public var description: String {
        switch self {
        case .mailbox(let url): return url.description
        case .lmtp(let endpoint): return endpoint.description
        }
    }
}
