import Foundation
import MailModel

/// Passwords for an IMAP server, read from a file or an environment variable, never from the command line.
///
/// The format is one entry a line, fields separated by a tab; blank lines and lines starting with `#` are skipped:
///
///     alice@example.com<TAB>her password
///     *<TAB>admin<TAB>the admin password<TAB>master
///
/// A user line gives that user's own password. The line whose first field is `*` names one administrator who acts
/// for every user without a line of their own, in one of two ways:
/// - `master` (the default): Dovecot's master-user login, `LOGIN alice@example.com*admin PASSWORD`;
/// - `sasl`: SASL PLAIN (RFC 4616) with the user as authorization identity and the admin as authentication identity.
///
/// `description` never shows a password.
public struct IMAPCredentials: Sendable, CustomStringConvertible {
    /// How one user logs in.
    public enum Login: Sendable, Equatable {
        /// The user's own name and password.
        case user(name: String, password: String)
        /// Dovecot's master-user login: `name` is `user<separator>admin`.
        case master(name: String, password: String)
        /// SASL PLAIN with an authorization identity.
        case sasl(authorizationID: String, authenticationID: String, password: String)
    }

    public enum AdminMethod: String, Sendable {
        case master, sasl
    }

    public struct Admin: Sendable {
        public var name: String
        public var password: String
        public var method: AdminMethod
    }

    /// The environment variable read when no `--credentials` file is given; it holds the same lines as the file.
    public static let environmentVariable = "MAILFERRY_CREDENTIALS"
    /// Dovecot's `auth_master_user_separator` as commonly configured.
    public static let masterSeparator = "*"

    public private(set) var users: [String: String] = [:]
    public private(set) var admin: Admin?
    /// Where the entries came from (a path, or the environment variable's name), for messages.
    public let origin: String

    /// Parses the text of a credentials file. Errors name the origin and the line, never the password.
    public init(text: String, origin: String) throws {
        self.origin = origin
        // "\r\n" is one Character in Swift, and a newline like "\n".
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) || line.hasPrefix("#") { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            let at = "\(origin) line \(index + 1)"
            if fields[0] == "*" {
                guard fields.count == 3 || fields.count == 4, !fields[1].isEmpty, !fields[2].isEmpty else {
                    throw ConnectorError(location: at, message: "an admin line is *<TAB>NAME<TAB>PASSWORD[<TAB>master|sasl]")
                }
                guard admin == nil else { throw ConnectorError(location: at, message: "a second admin line") }
                let method: AdminMethod
                if fields.count == 4 {
                    guard let m = AdminMethod(rawValue: fields[3].lowercased()) else {
                        throw ConnectorError(location: at, message: "unknown admin method \(String(reflecting: fields[3])); use master or sasl")
                    }
                    method = m
                } else {
                    method = .master
                }
                admin = Admin(name: fields[1], password: fields[2], method: method)
                continue
            }
            guard fields.count == 2, !fields[0].isEmpty, !fields[1].isEmpty else {
                throw ConnectorError(location: at, message: "expected ADDRESS<TAB>PASSWORD (\(fields.count) tab-separated fields found)")
            }
            let address = fields[0].lowercased()
            guard users[address] == nil else { throw ConnectorError(location: at, message: "a second line for \(fields[0])") }
            users[address] = fields[1]
        }
        guard !users.isEmpty || admin != nil else { throw ConnectorError(location: origin, message: "no credentials in it") }
    }

    /// Reads `--credentials FILE`, or the environment variable when `path` is nil. A file that group or others may
    /// access is refused (as ssh refuses such a private key) unless `allowReadable`, which `onReadable` is told of;
    /// `allowing` names the setting that allows it, for the refusal.
    public static func load(
        path: String?, allowReadable: Bool = false, allowing: String = "--allow-readable-credentials",
        onReadable: (String) -> Void = { _ in },
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> IMAPCredentials {
        if let path {
            if let mode = try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int,
                mode & 0o077 != 0
            {
                let shown = "mode " + String(format: "%04o", mode & 0o7777)
                guard allowReadable else {
                    throw CredentialsFileRefusal(
                        path: path,
                        message: "\(shown) lets other users read the passwords; make it 0600 (chmod 600 \(path)), or give \(allowing)")
                }
                onReadable("warning: \(path): \(shown) lets other users read the passwords (used because of \(allowing))")
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConnectorError(location: path, message: "cannot read the credentials file")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw ConnectorError(location: path, message: "the credentials file is not UTF-8")
            }
            return try IMAPCredentials(text: text, origin: path)
        }
        guard let text = environment[environmentVariable] else {
            throw ConnectorError(
                location: "credentials",
                message: "an IMAP server needs passwords: give --credentials FILE or set \(environmentVariable)")
        }
        return try IMAPCredentials(text: text, origin: "$\(environmentVariable)")
    }

    /// How `address` logs in: its own line first, then the admin.
    public func login(for address: String) throws -> Login {
        if let password = users[address.lowercased()] { return .user(name: address, password: password) }
        if let admin {
            switch admin.method {
            case .master: return .master(name: address + Self.masterSeparator + admin.name, password: admin.password)
            case .sasl: return .sasl(authorizationID: address, authenticationID: admin.name, password: admin.password)
            }
        }
        throw ConnectorError(location: origin, message: "no password for \(address) and no admin line")
    }

    /// Every password, so that messages from elsewhere (a server's reply) can be checked before printing.
    public var secrets: [String] { Array(users.values) + (admin.map { [$0.password] } ?? []) }

    public var description: String {
        "credentials from \(origin): \(users.count) users" + (admin.map { ", admin \($0.name) (\($0.method.rawValue))" } ?? "")
    }
}

/// A credentials file refused for its permissions: not allowed as asked (exit 2), unlike a file that cannot be read.
public struct CredentialsFileRefusal: ExitStatusError, Sendable {
    public var path: String
    public var message: String
    public var exitStatus: ExitStatus { .usage }
    public var description: String { "\(path): \(message)" }
}
