import ArgumentParser
import FerryKit

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read users' mailboxes from a source and write one signed archive.",
        discussion: """
            Sources:
              dir:PATH      a tree of users: PATH/<address>/Maildir/, contacts/*.vcf, calendars/<name>/*.ics, sieve/*.sieve
              maildir:PATH  one Dovecot Maildir++ tree (needs --user)
              mbox:PATH     one mbox file or a folder of them (needs --user)
              imap://HOST:PORT, imaps://HOST:PORT
                            an IMAP server (STARTTLS, or TLS from the start); name the users with --user or --users
                            FILE and give passwords with --credentials FILE (or $MAILFERRY_CREDENTIALS)

            The archive is written to FILE.partial and renamed to FILE only when complete and on disk.

            With --jobs N, N users are read at once (for IMAP each on its own connection); the archive is the same
            as with one job (same entries, order, frames). Users read ahead of the one being written go into
            temporary spool files next to FILE.partial (deleted at once, so nothing is left behind), at most
            --spool-limit bytes together; a user that finds them full waits for its turn.

              mailferry export --source dir:samples/store --sign-key a.key.pem --out june.mfa
              mailferry export --source maildir:/home/c/Maildir --user c@example.com --sign-key a.key.pem --out c.mfa
              mailferry export --source imaps://mail.example.com --users users.txt --credentials admin.tsv \\
                  --sign-key a.key.pem --out june.mfa --jobs 4
            """)

    @Option(help: "The source URL (dir:PATH, maildir:PATH, mbox:PATH, imap://HOST:PORT, imaps://HOST:PORT).")
    var source: String

    @Option(name: .customLong("user"), help: "A user to export (repeatable); all users of a dir: source when omitted.")
    var users: [String] = []

    @Option(help: "The Ed25519 private key (PEM) to sign with.")
    var signKey: String

    @Option(help: "The archive to write (conventionally NAME.mfa).")
    var out: String

    @Option(help: "This station's name in the archive (default: the host name).")
    var station: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Option(help: "Users read at once, each from its own connection, into the one archive.")
    var jobs = 1

    @Option(name: .customLong("spool-limit"), help: ArgumentHelp("With --jobs: bytes the users read ahead may spool next to the archive, together: a number with K, M or G (1024-based), or bytes (default 1G).", valueName: "size"))
    var spoolLimit: String?

    func validate() throws {
        if jobs < 1 || jobs > 64 { throw ValidationError("--jobs must be from 1 to 64") }
        if let spoolLimit, Self.bytes(spoolLimit) == nil {
            throw ValidationError("--spool-limit \(spoolLimit): give bytes, or a number with K, M or G")
        }
    }

    /// `SIZE` in bytes: digits, optionally followed by K, M or G (powers of 1024).
    static func bytes(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        var digits = Substring(text)
        var unit: Int64 = 1
        if let last = text.last?.uppercased().first, let u = units[last] {
            unit = u
            digits = digits.dropLast()
        }
        guard let n = Int64(digits), n >= 0, n <= Int64.max / unit else { return nil }
        return n * unit
    }

    @OptionGroup(title: "IMAP sources") var server: ServerOptions

    func run() throws {
        let url = try perform { try ConnectorURL(parsing: source) }
        let named = try perform { try server.allUsers(users) }
        let exporter = Exporter(
            source: url, users: named, signingKeyPath: signKey, outputPath: out, station: station, quiet: json,
            options: server.connectorOptions(quiet: json), jobs: jobs,
            spoolLimit: spoolLimit.flatMap(Self.bytes) ?? Exporter.defaultSpoolLimit)
        let summary = try perform {
            try exporter.run { problem in if !json { printError("warning: \(problem)") } }
        }
        if json {
            try printJSON(summary)
            return
        }
        let t = summary.totals
        print("wrote \(summary.archive): \(Format.bytes(summary.fileSize)) in \(summary.frames) frames, \(String(format: "%.2f", summary.seconds)) s")
        print("archive id \(summary.archiveID), signed by key \(summary.signerKeyID)")
        print("users: \(summary.users.joined(separator: ", "))")
        print("messages \(t.messages) (\(Format.bytes(t.messageBytes))), contacts \(t.contacts) in \(t.contactFiles) files, events \(t.events), tasks \(t.tasks), sieve scripts \(t.sieveScripts)")
        if !summary.warnings.isEmpty { print("\(summary.warnings.count) warnings (items still carried, byte for byte)") }
    }
}
