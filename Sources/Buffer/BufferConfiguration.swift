import Connectors
import Foundation
import PostgresSpool
import SMTPCore
import Telemetry
import TOMLKit

/// The buffer service's configuration, read from TOML. The minimal file is:
///
///     [smtp]
///     listen = "127.0.0.1:2525"
///     [lmtp]
///     listen = "127.0.0.1:2424"
///     [buffer]
///     spool = "/var/lib/mailferry/spool"
///     namespace = "buffer.example.com"
///     hold = ["alice@example.com", "bob@example.com"]
///
/// A listener table may add STARTTLS (RFC 3207) with `tls_certificate` and `tls_key` (PEM files, checked at
/// load) and `require_tls = true` (MAIL before STARTTLS gets 530 5.7.0). `[buffer] linger = "7d"` closes a
/// released or reverted user automatically that long after the release.
///
/// `[log] format = "json"` writes one JSON object per log line (plain lines by default); `[metrics] listen =
/// "127.0.0.1:9464"` serves Prometheus metrics at `/metrics` on that address.
///
/// Unknown keys are refused, so a misspelt limit is never silently ignored.
public struct BufferConfiguration: Sendable, Equatable {
    public struct Listener: Sendable, Equatable {
        public var host: String
        public var port: Int
        /// STARTTLS on this listener; nil: not offered.
        public var tls: TLS?
        /// MAIL before STARTTLS gets 530 5.7.0 (`require_tls`; needs `tls`).
        public var requireTLS: Bool
        public init(host: String, port: Int, tls: TLS? = nil, requireTLS: Bool = false) {
            self.host = host
            self.port = port
            self.tls = tls
            self.requireTLS = requireTLS
        }
    }

    /// The server's certificate chain and private key for STARTTLS, as PEM files.
    public struct TLS: Sendable, Equatable {
        public var certificatePath: String
        public var keyPath: String
        public init(certificatePath: String, keyPath: String) {
            self.certificatePath = certificatePath
            self.keyPath = keyPath
        }
    }

    public struct Limits: Sendable, Equatable {
        /// Largest message accepted (SIZE, RFC 1870); larger ones get 552.
        public var messageSize = SMTPLimits.defaultMaximumMessageSize
        /// Recipients per message; RFC 5321 4.5.3.1.8 requires at least 100.
        public var recipients = SMTPLimits.minimumRecipients
        /// Connections served at once per listener.
        public var connections = BufferConfiguration.defaultConnections
        /// Longest text line in DATA (RFC 5321 4.5.3.1.6: 1000 octets with CRLF).
        public var lineLength = SMTPLimits.textLineLength
        /// Connections served at once per listener from one client address, so one address cannot take every
        /// slot. The source's MTA forwarding to the buffer is one address: it must stay well above the few
        /// connections an MTA opens to one destination (Postfix: 20 by default).
        public var connectionsPerIP = BufferConfiguration.defaultConnectionsPerIP
        /// Seconds a client has to send a complete command after the last reply (RFC 5321 4.5.3.2.7: at least
        /// 5 minutes), so an idle client, or one that sends a byte at a time, is closed with 421.
        public var commandTimeout = 300
        /// Seconds a client in DATA has to send the next `BufferDefaults.dataProgressBytes` (or the end of the
        /// message): RFC 5321 4.5.3.2.5 gives a client 3 minutes per data block.
        public var dataTimeout = 180
    }

    public static let defaultConnections = 256
    public static let defaultConnectionsPerIP = 64

    /// SMTP listener (RFC 5321), nil when the file has no `[smtp]`.
    public var smtp: Listener?
    /// LMTP listener (RFC 2033), nil when the file has no `[lmtp]`.
    public var lmtp: Listener?
    /// `[buffer] spool`: the directory where held mail and the spool's database live, or a shared spool's
    /// `postgres://USER@HOST[:PORT]/DB` URL (`isSharedSpool`).
    public var spoolDirectory: String
    /// `[buffer] spool_password_file`: the shared spool's password (its first line); without it, `PGPASSFILE`.
    public var spoolPasswordFile: String?
    /// `[buffer] state_directory`: with a shared spool, where this host keeps what is its own (the IMAP delivery
    /// journal); nil: the system's temporary directory.
    public var stateDirectory: String?

    /// The spool is a PostgreSQL database several hosts share.
    public var isSharedSpool: Bool { PostgresSpoolURL.isURL(spoolDirectory) }
    /// The temporary domain the buffer answers for: `alice@NAMESPACE` stands for the held user `alice@example.com`.
    public var namespace: String
    /// Users held from the start; `buffer hold` adds more at run time.
    public var hold: [String]
    /// The name the server gives in its greeting and in trace headers.
    public var hostname: String
    /// How long a released or reverted user lingers before the buffer closes it by itself (as
    /// `buffer close` does); nil: until `buffer close`.
    public var linger: Duration?
    /// How releases reach an IMAP target (`--to imaps://...`): `[imap] credentials`, `ca_file`, `allow_plaintext`.
    /// A running server reads this section again from `path` for each release (`imapDelivery(reloading:)`).
    public var imap = IMAPDelivery()
    /// The file this configuration was loaded from (nil when parsed from text).
    public var path: String?
    public var limits = Limits()
    /// `[log] format`: how log lines (one per SMTP/LMTP transaction, linger passes) are written to standard error.
    public var logFormat = LogFormat.plain
    /// `[metrics] listen`: where the Prometheus endpoint answers `GET /metrics`; nil: no endpoint.
    public var metrics: Listener?

    /// Reads and checks a configuration file; errors name the file, the key and what is wrong.
    public static func load(path: String) throws -> BufferConfiguration {
        let text = try readText(path)
        var configuration = try parse(text, path: path)
        configuration.path = path
        return configuration
    }

    /// Only the `[imap]` section of the file at `path`, checked as `load` checks it: what a release in a running
    /// server uses, so that a changed section takes effect at the next release without a restart.
    public static func loadIMAPDelivery(path: String) throws -> IMAPDelivery {
        let text = try readText(path)
        let table = try TOMLText.parse(text, path: path)
        return try imapDelivery(table["imap"]) { key, message in ConfigurationError(path: path, message: "\(key): \(message)") }
    }

    /// The file's text, or an error that says what is wrong with the path in words (not Foundation's codes).
    static func readText(_ path: String) throws -> String {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw ConfigurationError(path: path, message: "cannot be read: there is no such file")
        }
        guard !isFolder.boolValue else { throw ConfigurationError(path: path, message: "cannot be read: it is a folder, not a configuration file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(path: path, message: "cannot be read: permission denied (check its mode and owner)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(path: path, message: "cannot be read: it is not UTF-8 text")
        }
        return text
    }

    static func imapDelivery(_ value: TOMLValueConvertible?, fail: (String, String) -> ConfigurationError) throws -> IMAPDelivery {
        var delivery = IMAPDelivery()
        guard let value else { return delivery }
        guard let imap = value.table else { throw fail("imap", "must be a table") }
        try refuseUnknown(imap, allowed: ["credentials", "ca_file", "allow_plaintext", "allow_readable_credentials", "timeout"], prefix: "imap.", fail: fail)
        if let v = imap["credentials"] {
            guard let p = v.string, FileManager.default.isReadableFile(atPath: p) else {
                throw fail("imap.credentials", "must be the path of a readable credentials file (ADDRESS<TAB>PASSWORD lines)")
            }
            delivery.credentialsPath = p
        }
        if let v = imap["ca_file"] {
            guard let p = v.string, FileManager.default.isReadableFile(atPath: p) else {
                throw fail("imap.ca_file", "must be the path of a readable PEM file of CA certificates")
            }
            delivery.caFile = p
        }
        if let v = imap["allow_plaintext"] {
            guard let b = v.bool else { throw fail("imap.allow_plaintext", "must be true or false") }
            delivery.allowPlaintext = b
        }
        if let v = imap["allow_readable_credentials"] {
            guard let b = v.bool else { throw fail("imap.allow_readable_credentials", "must be true or false") }
            delivery.allowReadableCredentials = b
        }
        if let v = imap["timeout"] {
            guard let seconds = v.int, (1...3600).contains(seconds) else {
                throw fail("imap.timeout", "must be a whole number of seconds from 1 to 3600 (as export's --timeout)")
            }
            delivery.timeout = .seconds(seconds)
        }
        // Refused here too, so that `buffer serve` says so at start rather than at the first release.
        if let p = delivery.credentialsPath, !delivery.allowReadableCredentials,
            let mode = try? FileManager.default.attributesOfItem(atPath: p)[.posixPermissions] as? Int, mode & 0o077 != 0
        {
            throw fail(
                "imap.credentials",
                "\(p) has mode \(String(format: "%04o", mode & 0o7777)), which lets other users read the passwords; make it 0600 (chmod 600 \(p)) and owned by the user the buffer runs as, or set allow_readable_credentials = true")
        }
        return delivery
    }

    public static func parse(_ text: String, path: String = "configuration") throws -> BufferConfiguration {
        let table = try TOMLText.parse(text, path: path)
        func fail(_ key: String, _ message: String) -> ConfigurationError {
            ConfigurationError(path: path, message: "\(key): \(message)")
        }
        try refuseUnknown(table, allowed: ["smtp", "lmtp", "buffer", "limits", "imap", "log", "metrics"], prefix: "", fail: fail)

        /// `listen = "HOST:PORT"` of a listener table; an IPv6 host in brackets.
        func address(_ section: TOMLTable, _ name: String) throws -> (host: String, port: Int) {
            guard let listen = section["listen"]?.string else { throw fail("\(name).listen", "is required, as \"HOST:PORT\"") }
            guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
                  (0...65535).contains(port)
            else { throw fail("\(name).listen", "\(String(reflecting: listen)) is not HOST:PORT") }
            var host = String(listen[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else { throw fail("\(name).listen", "names no host") }
            return (host, port)
        }

        func listener(_ name: String) throws -> Listener? {
            guard let value = table[name] else { return nil }
            guard let section = value.table else { throw fail(name, "must be a table ([\(name)])") }
            try refuseUnknown(
                section, allowed: ["listen", "tls_certificate", "tls_key", "require_tls"], prefix: name + ".", fail: fail)
            let (host, port) = try address(section, name)
            var tls: TLS?
            switch (section["tls_certificate"], section["tls_key"]) {
            case (nil, nil):
                break
            case (let certificate?, let key?):
                guard let certificatePath = certificate.string, !certificatePath.isEmpty else {
                    throw fail("\(name).tls_certificate", "must be the path of a PEM certificate file")
                }
                guard let keyPath = key.string, !keyPath.isEmpty else {
                    throw fail("\(name).tls_key", "must be the path of a PEM private key file")
                }
                tls = TLS(certificatePath: certificatePath, keyPath: keyPath)
                _ = try BufferTLS.makeContext(tls!, table: name, path: path)
            case (nil, _?):
                throw fail("\(name).tls_certificate", "is required with tls_key")
            case (_?, nil):
                throw fail("\(name).tls_key", "is required with tls_certificate")
            }
            var requireTLS = false
            if let value = section["require_tls"] {
                guard let flag = value.bool else { throw fail("\(name).require_tls", "must be true or false") }
                guard !flag || tls != nil else {
                    throw fail("\(name).require_tls", "needs tls_certificate and tls_key in [\(name)]")
                }
                requireTLS = flag
            }
            return Listener(host: host, port: port, tls: tls, requireTLS: requireTLS)
        }

        guard let buffer = table["buffer"]?.table else { throw fail("buffer", "the [buffer] table is required") }
        try refuseUnknown(
            buffer, allowed: ["spool", "namespace", "hold", "hostname", "linger", "spool_password_file", "state_directory"],
            prefix: "buffer.", fail: fail)
        guard let spool = buffer["spool"]?.string, !spool.isEmpty else { throw fail("buffer.spool", "is required") }
        if PostgresSpoolURL.isURL(spool) {
            do { _ = try PostgresSpoolURL(parsing: spool) } catch let error as PostgresSpoolError {
                throw fail("buffer.spool", "\(error)")
            }
        } else if buffer["spool_password_file"] != nil {
            throw fail("buffer.spool_password_file", "is only for a PostgreSQL spool (spool = \"postgres://...\")")
        }
        guard let namespace = buffer["namespace"]?.string, namespace.contains("."), !namespace.contains("@") else {
            throw fail("buffer.namespace", "is required: a domain such as \"buffer.example.com\"")
        }
        var hold: [String] = []
        if let value = buffer["hold"] {
            guard let array = value.array else { throw fail("buffer.hold", "must be a list of addresses") }
            for element in array {
                guard let address = element.string, address.contains("@") else {
                    throw fail("buffer.hold", "\(element) is not an address")
                }
                hold.append(address)
            }
        }
        var configuration = BufferConfiguration(
            smtp: try listener("smtp"), lmtp: try listener("lmtp"), spoolDirectory: spool, namespace: namespace.lowercased(),
            hold: hold, hostname: buffer["hostname"]?.string ?? ProcessInfo.processInfo.hostName)
        configuration.spoolPasswordFile = buffer["spool_password_file"]?.string
        configuration.stateDirectory = buffer["state_directory"]?.string
        if let value = buffer["linger"] {
            guard let linger = parseDuration(value) else {
                throw fail(
                    "buffer.linger",
                    "\(value) is not a duration: a whole number of seconds, or a number with s, m, h or d (\"7d\")")
            }
            configuration.linger = linger
        }
        configuration.imap = try imapDelivery(table["imap"], fail: fail)
        if let value = table["log"] {
            guard let log = value.table else { throw fail("log", "must be a table ([log])") }
            try refuseUnknown(log, allowed: ["format"], prefix: "log.", fail: fail)
            if let format = log["format"] {
                let known = LogFormat.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
                guard let name = format.string, let parsed = LogFormat(rawValue: name) else {
                    throw fail("log.format", "\(format) is not a log format: \(known)")
                }
                configuration.logFormat = parsed
            }
        }
        if let value = table["metrics"] {
            guard let metrics = value.table else { throw fail("metrics", "must be a table ([metrics])") }
            try refuseUnknown(metrics, allowed: ["listen"], prefix: "metrics.", fail: fail)
            let (host, port) = try address(metrics, "metrics")
            configuration.metrics = Listener(host: host, port: port)
        }
        if configuration.smtp == nil && configuration.lmtp == nil {
            throw fail("smtp", "at least one of [smtp] and [lmtp] must be configured")
        }
        if let value = table["limits"] {
            guard let limits = value.table else { throw fail("limits", "must be a table") }
            try refuseUnknown(
                limits,
                allowed: ["message_size", "recipients", "connections", "connections_per_ip", "line_length", "command_timeout", "data_timeout"],
                prefix: "limits.", fail: fail)
            func positive(_ key: String, minimum: Int) throws -> Int? {
                guard let v = limits[key] else { return nil }
                guard let n = v.int, n >= minimum else { throw fail("limits.\(key)", "must be a whole number of at least \(minimum)") }
                return n
            }
            if let n = try positive("message_size", minimum: 1024) { configuration.limits.messageSize = n }
            if let n = try positive("recipients", minimum: SMTPLimits.minimumRecipients) { configuration.limits.recipients = n }
            if let n = try positive("connections", minimum: 1) { configuration.limits.connections = n }
            if let n = try positive("line_length", minimum: SMTPLimits.textLineLength) { configuration.limits.lineLength = n }
            if let n = try positive("connections_per_ip", minimum: 1) { configuration.limits.connectionsPerIP = n }
            if let n = try positive("command_timeout", minimum: 1) { configuration.limits.commandTimeout = n }
            if let n = try positive("data_timeout", minimum: 1) { configuration.limits.dataTimeout = n }
        }
        return configuration
    }

    /// `linger`: a whole number of seconds (`604800`) or a whole number with a unit, s, m, h or d (`"7d"`).
    static func parseDuration(_ value: TOMLValueConvertible) -> Duration? {
        if let seconds = value.int { return seconds >= 0 ? .seconds(seconds) : nil }
        guard let text = value.string?.trimmingCharacters(in: .whitespaces), let unit = text.last,
            let number = Int(text.dropLast()), number >= 0
        else { return nil }
        let multiplier: Int
        switch unit {
        case "s": multiplier = 1
        case "m": multiplier = 60
        case "h": multiplier = 3600
        case "d": multiplier = 86400
        default: return nil
        }
        let (seconds, overflow) = number.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : .seconds(seconds)
    }

    private static func refuseUnknown(_ table: TOMLTable, allowed: Set<String>, prefix: String, fail: (String, String) -> ConfigurationError) throws {
        for key in table.keys where !allowed.contains(key) {
            throw fail(prefix + key, "unknown key (known: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    /// The held user an address of the buffer's namespace stands for: `alice@buffer.example.com`
    /// is `alice@example.com` when that user is held. The domain is the namespace's parent
    /// (`buffer.example.com` → `example.com`); nil for addresses outside the namespace.
    public func heldAddress(for recipient: String) -> String? {
        guard let at = recipient.lastIndex(of: "@") else { return nil }
        let domain = recipient[recipient.index(after: at)...].lowercased()
        guard domain == namespace, let dot = namespace.firstIndex(of: ".") else { return nil }
        return recipient[..<at] + "@" + namespace[namespace.index(after: dot)...]
    }
}

/// A configuration file that cannot be used, saying where and why.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }
}

/// The `[imap]` table: what a release or linger pass to an IMAP server needs. The passwords stay in their own file
/// (`ADDRESS<TAB>PASSWORD`, or an admin line, as for `import`); without the table `$MAILFERRY_CREDENTIALS` is read.
public struct IMAPDelivery: Sendable, Hashable {
    public var credentialsPath: String?
    public var caFile: String?
    public var allowPlaintext = false
    /// `allow_readable_credentials`: use a credentials file group or others may read, with a warning.
    public var allowReadableCredentials = false
    /// `timeout`: how long an IMAP release target may keep a command waiting (export's and import's `--timeout`).
    public var timeout = IMAPServerAccess.defaultTimeout
    public init() {}
}

extension BufferConfiguration {
    /// The connector options deliveries use; the IMAP journal lives in the spool, next to the delivery journal.
    public var deliveryOptions: ConnectorOptions {
        deliveryOptions(imap)
    }

    func deliveryOptions(_ imap: IMAPDelivery) -> ConnectorOptions {
        var options = ConnectorOptions(
            credentialsPath: imap.credentialsPath, caFile: imap.caFile, allowPlaintext: imap.allowPlaintext,
            journalDirectory: (isSharedSpool
                ? (stateDirectory ?? NSTemporaryDirectory() + "/mailferry-buffer") : spoolDirectory) + "/imap-journal")
        options.allowReadableCredentials = imap.allowReadableCredentials
        options.timeout = imap.timeout
        options.settingsOrigin = .bufferConfiguration(path: path)
        return options
    }

    /// The delivery options with the `[imap]` section as the file holds it now (a running server's releases), or
    /// as loaded when the configuration has no file. The spool and its journal stay the running server's.
    public func currentDeliveryOptions() throws -> ConnectorOptions {
        guard let path else { return deliveryOptions }
        return deliveryOptions(try Self.loadIMAPDelivery(path: path))
    }
}
