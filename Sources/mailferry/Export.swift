import ArgumentParser
import Connectors
import FerryKit
import Reporting

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read users' mailboxes from a source and write one signed archive.",
        discussion: """
            Sources (--source again for each system of the migration: mail from an IMAP server, contacts and
            calendars from a DAV server and filters from ManageSieve go into one archive, each system giving the
            types it holds; --types mail,contacts,calendars,sieve narrows the export):
              dir:PATH      a tree of users: PATH/<address>/Maildir/, contacts/*.vcf, calendars/<name>/*.ics, sieve/*.sieve
              maildir:PATH  one Dovecot Maildir++ tree (needs --user)
              mbox:PATH     one mbox file or a folder of them (needs --user)
              imap://HOST:PORT, imaps://HOST:PORT
                            an IMAP server (STARTTLS, or TLS from the start); name the users with --user or --users
                            FILE and give passwords with --credentials FILE (or $MAILFERRY_CREDENTIALS)
              sieve://HOST[:PORT]
                            a ManageSieve server (RFC 5804, port 4190, STARTTLS): each user's Sieve scripts and which
                            is active; users and passwords as for IMAP
              davs://HOST[:PORT][/PATH], dav://HOST[:PORT][/PATH]
                            a CalDAV/CardDAV server (HTTPS; plain HTTP only with --allow-plaintext): each user's
                            address books and calendars with their properties, found from PATH and the well-known
                            URIs; users and passwords as for IMAP (HTTP Basic)

            The archive is written to FILE.partial and renamed to FILE only when complete and on disk.

            With --since PREVIOUS.mfa the archive is a delta: it carries only the messages, contacts, events and
            scripts the previous archive did not, and a signed list of what happened to the others (flags and
            keywords changed, moved, deleted; folders renamed or deleted). Messages the previous archive carried are
            recognised by their source key and not read again. The previous archive's signature is checked with
            --trust (default: the public half of --sign-key); both must be from the same signer.

            With --jobs N, N users are read at once (for IMAP each on its own connection); the archive is the same
            as with one job (same entries, order, frames). Users read ahead of the one being written go into
            temporary read-ahead files next to FILE.partial (deleted at once, so nothing is left behind), at most
            --spool-limit bytes together; a user that finds them full waits for its turn.

              mailferry export --source dir:samples/store --sign-key a.key.pem --out june.mfa
              mailferry export --source maildir:/home/c/Maildir --user c@example.com --sign-key a.key.pem --out c.mfa
              mailferry export --source imaps://mail.example.com --users users.txt --credentials admin.tsv \\
                  --sign-key a.key.pem --out june.mfa --jobs 4
              mailferry export --source imaps://mail.example.com --source davs://dav.example.com \\
                  --source sieve://mail.example.com --users users.txt --credentials admin.tsv \\
                  --sign-key a.key.pem --out june.mfa

            --estimate prints, per user, the items and bytes at the source and the archive's size and the time the
            export should take, measured on a sample, and writes nothing (with --out it then exports):

              mailferry export --source dir:/srv/mail --estimate

              mailferry export --source dir:samples/store --sign-key a.key.pem --since june.mfa --out june-2.mfa

            With --encrypt-to B.age.pub (repeatable: station B, an escrow key) the archive is signed, then encrypted
            to those age keys as it is written (age v1, X25519), into NAME.mfa.age: no plaintext byte of it reaches
            the disk. `age -d -i B.age.key` gives back the plain archive; MailFerry's readers take --identity.

              mailferry export --source dir:samples/store --sign-key a.key.pem --encrypt-to b.age.pub --out june.mfa

            With --volume-size SIZE (4G, 700M, or fat32 for 4 GiB - 1 byte) the export is a volume set for media with a
            file size limit: NAME.001.mfa, NAME.002.mfa, ... (NAME.NNN.mfa.age when encrypted), each at most SIZE and
            each a whole archive that verifies on its own, and the signed set statement NAME.set naming every volume.
            Users and folders may span volumes; an item larger than a volume is refused, naming it and the size
            needed. verify, inspect and import take the volumes in any order, or the folder holding them; import of
            a set with volumes missing imports those there and finishes when run again with the rest. With --since
            the set is a delta (every volume a delta of the same base); its import waits for every volume, then
            applies them in order.

              mailferry export --source dir:samples/store --sign-key a.key.pem --volume-size fat32 --out june.mfa
            """)

    @Option(help: "The source URL (dir:PATH, maildir:PATH, mbox:PATH, imap://HOST:PORT, imaps://HOST:PORT, sieve://HOST:PORT, davs://HOST[:PORT][/PATH]); repeatable, each source giving the types it holds (mail, contacts and calendars, Sieve scripts).")
    var source: [String] = []

    @Option(help: ArgumentHelp("Only these types (mail,contacts,calendars,sieve).", valueName: "types"))
    var types: String?

    @Option(name: .customLong("user"), help: "A user to export (repeatable); all users of a dir: source when omitted.")
    var users: [String] = []

    @Option(help: "The Ed25519 private key (PEM) to sign with.")
    var signKey: String?

    @Option(help: "The archive to write (conventionally NAME.mfa).")
    var out: String?

    @Flag(help: "First print the items and bytes per user and the estimated archive size and time; without --out, stop there.")
    var estimate = false

    @Option(help: "This station's name in the archive (default: the host name).")
    var station: String?

    @Option(help: "Write a delta against this earlier archive (full or delta) of the same users and signer.")
    var since: String?

    @Option(help: "The public key (PEM) that checks the --since archive's signature (default: that of --sign-key).")
    var trust: String?

    @Option(name: .customLong("encrypt-to"), help: ArgumentHelp("Encrypt the archive to the age public keys in this file (KEY.age.pub, or age1... lines as age -R takes them); repeatable. Writes NAME.mfa.age.", valueName: "file"))
    var encryptTo: [String] = []

    @OptionGroup(title: "Encrypted archives (for --since)") var identity: IdentityOptions

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Option(help: ArgumentHelp("A CSV of source,target[,group] addresses for users the migration renames; the archive records each user's target address and the importer writes the user there.", valueName: "file"))
    var map: String?

    @Option(help: "Users read at once, each from its own connection, into the one archive.")
    var jobs = 1

    @Option(name: .customLong("spool-limit"), help: ArgumentHelp("With --jobs: bytes the users read ahead may hold in read-ahead files next to the archive, together: a number with K, M or G (1024-based), or bytes (default 1G).", valueName: "size"))
    var spoolLimit: String?

    @Option(name: .customLong("volume-size"), help: ArgumentHelp("Write a volume set of volumes of at most this size: a number with K, M or G (1024-based), bytes, or fat32 (4 GiB - 1 byte).", valueName: "size"))
    var volumeSize: String?

    /// `--volume-size`: `fat32` is FAT's largest file, 4 GiB - 1 byte; anything else as `bytes(_:)` reads it.
    static func volumeBytes(_ text: String) -> Int64? {
        text.lowercased() == "fat32" ? MediumCheck.fatLargestFile : bytes(text)
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

    func validate() throws {
        if jobs < 1 || jobs > 64 { throw ValidationError("--jobs must be from 1 to 64") }
        if source.isEmpty { throw ValidationError("give the source with --source URL") }
        if since != nil, types != nil {
            // A delta records what left the source; a type left out would read as all of it deleted.
            throw ValidationError("--types with --since: a delta is made of the same types as the archive before it; name the same sources instead")
        }
        if let spoolLimit, Self.bytes(spoolLimit) == nil {
            throw ValidationError("--spool-limit \(spoolLimit): give bytes, or a number with K, M or G")
        }
        if let volumeSize {
            guard Self.volumeBytes(volumeSize) != nil else {
                throw ValidationError("--volume-size \(volumeSize): give bytes, a number with K, M or G, or fat32")
            }
            if jobs > 1 { throw ValidationError("--volume-size with --jobs: a volume set is written with one job in this version") }
        }
        if !estimate && (out == nil || signKey == nil) { throw ValidationError("--out FILE and --sign-key KEY are required (or --estimate)") }
        if (out == nil) != (signKey == nil) { throw ValidationError("--out FILE and --sign-key KEY go together") }
    }

    func run() throws {
        let url = try perform { try ConnectorSet(source.map(ConnectorURL.init(parsing:)), types: types.map(ConnectorSet.parseTypes)) }
        let named = try perform { try server.allUsers(users) }
        var estimated: ExportEstimate?
        if estimate {
            let found = try perform { try ExportEstimator(source: url, users: named, options: server.connectorOptions(quiet: json)).run() }
            if json && out == nil {
                try printJSON(found)
                return
            }
            if !json { EstimateOutput.print(found) }
            estimated = found
        }
        guard let out, let signKey else { return }
        var exporter = Exporter(
            source: url, users: named, signingKeyPath: signKey, outputPath: out, station: station, quiet: json,
            options: server.connectorOptions(quiet: json), jobs: jobs,
            readAheadLimit: spoolLimit.flatMap(Self.bytes) ?? Exporter.defaultReadAheadLimit)
        exporter.expectedTotals = estimated.map { ($0.items, $0.bytes) }
        exporter.since = since
        exporter.trustedKeyPath = trust
        exporter.encryptToPaths = encryptTo
        exporter.identityPaths = identity.paths
        exporter.volumeSize = volumeSize.flatMap(Self.volumeBytes)
        if let map {
            exporter.mapping = UserMapping(try perform { try MigrationUsersFile.read(path: map) }.map { ($0.source, $0.target) })
        }
        let summary = try perform {
            try exporter.run { problem in if !json { printError("warning: \(problem)") } }
        }
        if json {
            try printJSON(summary)
            return
        }
        let t = summary.totals
        let written = summary.volumes.map { "\(volumeCount($0.count)) and their set statement \(summary.archive)" } ?? summary.archive
        print("wrote \(written): \(Format.bytes(summary.fileSize)) in \(summary.frames) frames, \(String(format: "%.2f", summary.seconds)) s")
        if let volumes = summary.volumes {
            print("set id \(summary.archiveID), signed by key \(summary.signerKeyID): \(volumeCount(volumes.count))")
            for (i, v) in volumes.enumerated() {
                print("  volume \(i + 1): \(v.path) (\(Format.bytes(v.fileSize))), archive id \(v.archiveID)")
            }
        } else {
            print("archive id \(summary.archiveID), signed by key \(summary.signerKeyID)")
        }
        if let base = summary.deltaOf, let c = summary.changes {
            print("delta of \(base), sequence \(summary.sequence): \(c.newItems) new items, \(c.kept) kept (\(c.flagChanges) with changed flags, \(c.moves) moved), \(c.deleted) deleted, \(c.renamedFolders) folders renamed, \(c.deletedFolders) deleted")
            if c.foldersCarriedAgain > 0 { print("\(c.foldersCarriedAgain) folders have a new UIDVALIDITY: carried whole again") }
            if c.unchangedByModSeq > 0 { print("\(c.unchangedByModSeq) messages vouched unchanged by the server (CONDSTORE): not fetched at all") }
        }
        print("users: \(summary.users.joined(separator: ", "))")
        print("messages \(t.messages) (\(Format.bytes(t.messageBytes))), contacts \(t.contacts) in \(t.contactFiles) files, events \(t.events), tasks \(t.tasks), sieve scripts \(t.sieveScripts)")
        if !summary.warnings.isEmpty { print("\(summary.warnings.count) warnings (items still carried, byte for byte)") }
    }
}
