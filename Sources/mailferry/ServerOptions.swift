import ArgumentParser
import Connectors
import Foundation
import MailModel

/// What `export`, `import` and `reconcile` take for an IMAP server: passwords from a file (never on the command
/// line), the CA to trust and the users of a bulk run. What only `import` and `reconcile` use is in
/// `ImportOptions`.
struct ServerOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "IMAP passwords: one ADDRESS<TAB>PASSWORD a line, or *<TAB>ADMIN<TAB>PASSWORD[<TAB>master|sasl] for one admin acting for every user. Without it, $MAILFERRY_CREDENTIALS holds the same lines.",
        valueName: "file"))
    var credentials: String?

    @Flag(name: .customLong("allow-readable-credentials"), help: "Use a --credentials file that group or others may read (with a warning) instead of refusing it; make it mode 0600 instead.")
    var allowReadableCredentials = false

    @Option(help: ArgumentHelp(
        "Seconds an IMAP server may stay silent (connect, greeting, each answer); a response in progress must also bring at least 1 KiB in every SECONDS. After a timeout the operation is tried once more on a new connection, after a dropped connection up to 6 more times (pauses 0.5 to 8 s, 23.5 s in all), and a user gets at most 16 new connections: a server that never answers fails the command in about 2 x SECONDS, one that drops every connection in about 25 s. Default 60.",
        valueName: "seconds"))
    var timeout: Int = 60

    @Option(name: .customLong("ca-file"), help: ArgumentHelp("CA certificates (PEM) to trust for the IMAP server's certificate instead of the system's.", valueName: "file"))
    var caFile: String?

    @Flag(name: .customLong("allow-plaintext"), help: "Let a password go to an IMAP server without TLS (a server that offers no STARTTLS).")
    var allowPlaintext = false

    @Option(name: .customLong("users"), help: ArgumentHelp("A file of users (one address a line, # comments) for a bulk run; adds to --user.", valueName: "file"))
    var usersFile: String?

    /// The connector options, with `importing`'s journal and bad-item limit when given; notices go to standard
    /// error unless `quiet`.
    func connectorOptions(quiet: Bool, importing: ImportOptions? = nil) -> ConnectorOptions {
        let notice: @Sendable (String) -> Void = { message in printError(message) }
        var options = ConnectorOptions(
            credentialsPath: credentials, caFile: caFile, allowPlaintext: allowPlaintext,
            journalDirectory: importing?.journal, maxBadItems: importing?.maxBadItems ?? 0,
            onNotice: quiet ? nil : notice)
        options.allowReadableCredentials = allowReadableCredentials
        options.timeout = .seconds(timeout)
        return options
    }

    func validate() throws {
        guard (1...3600).contains(timeout) else {
            throw ValidationError("--timeout must be between 1 and 3600 seconds")
        }
    }

    /// `--user` values plus the addresses in `--users FILE`.
    func allUsers(_ named: [String]) throws -> [String] {
        guard let usersFile else { return named }
        guard let data = FileManager.default.contents(atPath: usersFile), let text = String(data: data, encoding: .utf8) else {
            throw FerryError(.usage, "\(usersFile): cannot read the users file")
        }
        var users = named
        for (number, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard line.contains("@"), !line.contains(where: { $0 == " " || $0 == "\t" }) else {
                throw FerryError(.usage, "\(usersFile) line \(number + 1): \(String(reflecting: line)) is not an address")
            }
            if !users.contains(where: { $0.lowercased() == line.lowercased() }) { users.append(line) }
        }
        return users
    }
}
