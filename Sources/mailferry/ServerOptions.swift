import ArgumentParser
import FerryKit
import Foundation

/// What `export`, `import` and `reconcile` take for an IMAP server: passwords from a file (never on the command
/// line), the CA to trust, the users of a bulk run, the import journal and the bad-item limit.
struct ServerOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "IMAP passwords: one ADDRESS<TAB>PASSWORD a line, or *<TAB>ADMIN<TAB>PASSWORD[<TAB>master|sasl] for one admin acting for every user. Without it, $MAILFERRY_CREDENTIALS holds the same lines.",
        valueName: "file"))
    var credentials: String?

    @Option(name: .customLong("ca-file"), help: ArgumentHelp("CA certificates (PEM) to trust for the IMAP server's certificate instead of the system's.", valueName: "file"))
    var caFile: String?

    @Flag(name: .customLong("allow-plaintext"), help: "Let a password go to an IMAP server without TLS (a server that offers no STARTTLS).")
    var allowPlaintext = false

    @Option(name: .customLong("users"), help: ArgumentHelp("A file of users (one address a line, # comments) for a bulk run; adds to --user.", valueName: "file"))
    var usersFile: String?

    @Option(help: ArgumentHelp("Where the IMAP import journal lives (default $XDG_STATE_HOME/mailferry/journal or ~/.local/state/mailferry/journal).", valueName: "dir"))
    var journal: String?

    @Option(name: .customLong("max-bad-items"), help: "How many items the target may refuse (too large, bad bytes) before the import stops; each is listed in the report.")
    var maxBadItems = 0

    func validate() throws {
        if maxBadItems < 0 { throw ValidationError("--max-bad-items must be 0 or more") }
    }

    /// The connector options; notices go to standard error unless `quiet`.
    func connectorOptions(quiet: Bool) -> ConnectorOptions {
        let notice: @Sendable (String) -> Void = { message in printError(message) }
        return ConnectorOptions(
            credentialsPath: credentials, caFile: caFile, allowPlaintext: allowPlaintext, journalDirectory: journal,
            maxBadItems: maxBadItems, onNotice: quiet ? nil : notice)
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
