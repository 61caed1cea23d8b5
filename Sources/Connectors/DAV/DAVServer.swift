import Foundation
import IMAPClient
import MailModel

/// A CalDAV/CardDAV server as `davs://HOST[:PORT][/PATH]` or `dav://HOST[:PORT][/PATH]` names it, with the
/// command line's TLS, credentials and timeout settings (`IMAPServerAccess`, shared with `imap://` and `sieve://`).
/// PATH, `/` when absent, is where discovery starts before the well-known URIs.
public struct DAVServer: Sendable {
    public var access: IMAPServerAccess
    public var path: String

    public init(access: IMAPServerAccess, path: String) {
        self.access = access
        self.path = path.isEmpty ? "/" : path
    }

    var endpoint: IMAPEndpoint {
        IMAPEndpoint(
            host: access.host, port: access.port, security: access.implicitTLS ? .implicitTLS : .startTLS,
            caFile: access.caFile, allowPlaintextPassword: access.allowPlaintext, timeout: access.timeout,
            settingNames: access.settingsOrigin.names)
    }

    /// `davs://HOST:PORT`, for messages.
    var name: String {
        "\(access.implicitTLS ? "davs" : "dav")://\(access.host.contains(":") ? "[\(access.host)]" : access.host):\(access.port)"
    }

    /// The path (as sent on the wire) that `reference` names when it is on this server: an absolute URL with this
    /// scheme, host and port, an absolute path, or a path relative to `base`. Nil for another server.
    func pathOnThisServer(_ reference: String, from base: String) -> String? {
        let lowered = reference.lowercased()
        if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") {
            guard let url = URLComponents(string: reference), let host = url.host else { return nil }
            let tls = lowered.hasPrefix("https://")
            let port = url.port ?? (tls ? 443 : 80)
            let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
            guard tls == access.implicitTLS, bare.lowercased() == access.host.lowercased(), port == access.port else { return nil }
            let path = url.percentEncodedPath
            return path.isEmpty ? "/" : path
        }
        if reference.hasPrefix("//") || reference.contains("://") { return nil }
        if reference.hasPrefix("/") { return reference }
        let directory = base.hasSuffix("/") ? base : String(base[...(base.lastIndex(of: "/") ?? base.startIndex)])
        return directory + reference
    }

    /// A path with its percent-escapes decoded, for comparing paths the server spells differently.
    static func decoded(_ path: String) -> String { path.removingPercentEncoding ?? path }

    /// One path segment percent-encoded: everything but RFC 3986's unreserved characters.
    static func encodedSegment(_ name: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "-._~@")
        return name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name
    }
}
