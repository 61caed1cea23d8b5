import Foundation

/// A shared spool's address, `postgres://USER@HOST[:PORT]/DB[?sslmode=disable|require|verify-full]`, libpq's
/// URL form without a password: the password comes from a file (`[buffer] spool_password_file`, or the
/// `PGPASSFILE` entry that matches), never from the configuration. `sslrootcert=FILE` names the CA bundle for
/// `verify-full` (the system's otherwise).
public struct PostgresSpoolURL: Hashable, Sendable, CustomStringConvertible {
    public enum SSLMode: String, Hashable, Sendable {
        /// No TLS (libpq's `disable`; the default here, since `prefer` would silently fall back).
        case disable
        /// TLS, the server's certificate not checked (libpq's `require`).
        case require
        /// TLS, the certificate checked against the CA bundle and the host name.
        case verifyFull = "verify-full"
    }

    public var user: String
    public var host: String
    public var port: Int
    public var database: String
    public var sslMode: SSLMode
    public var rootCertificatePath: String?

    /// Whether a spool value names a shared spool (and is parsed by this type) rather than a directory.
    public static func isURL(_ value: String) -> Bool {
        value.hasPrefix("postgres://") || value.hasPrefix("postgresql://")
    }

    public init(parsing text: String) throws {
        func fail(_ reason: String) -> PostgresSpoolError {
            PostgresSpoolError.invalidURL(reason: reason)
        }
        guard Self.isURL(text), let components = URLComponents(string: text) else {
            throw fail("not a postgres://USER@HOST[:PORT]/DB URL")
        }
        if components.password != nil {
            throw fail("has a password; put it in the file named by spool_password_file (or PGPASSFILE) instead")
        }
        guard let user = components.user, !user.isEmpty else { throw fail("names no user (postgres://USER@HOST/DB)") }
        guard let host = components.host, !host.isEmpty else { throw fail("names no host") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else { throw fail("names no database (postgres://USER@HOST/DB)") }
        self.user = user.removingPercentEncoding ?? user
        self.host = host
        self.port = components.port ?? 5432
        self.database = database.removingPercentEncoding ?? database
        sslMode = .disable
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(SSLMode.init(rawValue:)) else {
                    throw fail("sslmode \(item.value ?? "") is not one of disable, require, verify-full")
                }
                sslMode = mode
            case "sslrootcert":
                rootCertificatePath = item.value
            default:
                throw fail("parameter \(item.name) is not supported (sslmode, sslrootcert)")
            }
        }
        // SwiftNIO's TLS checks a certificate against a host name only (an IP address cannot go in SNI, and is not
        // compared with the certificate's IP entries): verify-full to an address would check the chain alone.
        if sslMode == .verifyFull, Self.isIPAddress(self.host) {
            throw fail("sslmode=verify-full needs the server's host name as its certificate names it, not the address \(self.host)")
        }
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host.trimmingCharacters(in: ["[", "]"]), &v6) == 1
    }

    /// The URL as given, without a password (there is none).
    public var description: String {
        var text = "postgres://\(user)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)"
        if sslMode != .disable { text += "?sslmode=\(sslMode.rawValue)" }
        return text
    }

    /// The password: the first line of `passwordFile`, or else the matching line of `PGPASSFILE`
    /// (`host:port:database:user:password`, `*` matching anything). Nil when neither has one (trust or peer
    /// authentication). A file others may read is refused, as libpq does.
    public func password(passwordFile: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> String?
    {
        if let passwordFile {
            let text = try Self.readPrivate(passwordFile)
            return text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        }
        guard let passFile = environment["PGPASSFILE"] else { return nil }
        let text = try Self.readPrivate(passFile)
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = Self.splitPassLine(String(line))
            guard fields.count == 5 else { continue }
            let wanted = [host, String(port), database, user]
            if zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }

    static func splitPassLine(_ line: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var escaped = false
        for character in line {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == ":" && fields.count < 4 {
                fields.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        fields.append(current)
        return fields
    }

    static func readPrivate(_ path: String) throws -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw PostgresSpoolError.passwordFile(path: path, reason: String(cString: strerror(errno)))
        }
        if info.st_mode & 0o077 != 0 {
            throw PostgresSpoolError.passwordFile(
                path: path, reason: "others may read it (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PostgresSpoolError.passwordFile(path: path, reason: "cannot be read")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
