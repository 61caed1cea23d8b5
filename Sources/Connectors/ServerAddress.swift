/// A server as a URL names it after its scheme (RFC 3986 section 3.2.2): `HOST`, `HOST:PORT`, `IPv4:PORT` or
/// `[IPv6]:PORT`. The one parser for `imap://`, `imaps://` and `lmtp://` addresses.
public struct ServerAddress: Equatable, Sendable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `text` (no scheme, no path); `defaultPort` when it names none. The error says what is wrong, for the
    /// caller to put after the URL it was given.
    public init(parsing text: Substring, defaultPort: Int) throws(AddressError) {
        var host = text
        var port = defaultPort
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw AddressError("unclosed [ in the host") }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw AddressError("expected :PORT after the host") }
                port = try Self.port(after.dropFirst())
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            port = try Self.port(text[text.index(after: colon)...])
        }
        guard !host.isEmpty else { throw AddressError("names no host") }
        self.init(host: String(host), port: port)
    }

    private static func port(_ text: Substring) throws(AddressError) -> Int {
        guard let p = Int(text), (1...65535).contains(p) else { throw AddressError("bad port (a number from 1 to 65535)") }
        return p
    }

    /// `host:port`, with an IPv6 host in brackets.
    public var description: String { "\(host.contains(":") ? "[\(host)]" : host):\(port)" }

    public struct AddressError: Error, Equatable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
