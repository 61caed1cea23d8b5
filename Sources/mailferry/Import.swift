import ArgumentParser
import Connectors
import FerryArchive
import FerryKit
import MailModel
import Receipts
import Reporting
import SystemLayer

/// What `import` and `reconcile` both take: the archive, its signer, the target and the report.
struct TargetOptions: ParsableArguments {
    @Argument(help: "The archive; for import also the volumes of a volume set (any order), its NAME.set, or their folder.")
    var archives: [String]

    var archive: String { archives[0] }

    /// Whether the archives given are a volume set (`VolumeSet.names`).
    var namesSet: Bool { VolumeSet.names(archives) }

    @Option(help: "The signer's public key (PEM).")
    var trust: String

    @OptionGroup var identity: IdentityOptions

    @Option(help: "The target URL (dir:PATH, maildir:PATH, imap://HOST:PORT, imaps://HOST:PORT, sieve://HOST:PORT, davs://HOST[:PORT][/PATH]); repeatable, each target taking the types it holds (mail, contacts and calendars, Sieve scripts).")
    var target: [String] = []

    @Option(help: ArgumentHelp("Only these types (mail,contacts,calendars,sieve); the others are listed as left out and the reconcile does not hold them against the target.", valueName: "types"))
    var types: String?

    @Option(name: .customLong("user"), help: "Only this user (repeatable).")
    var users: [String] = []

    @Option(help: "Write the reconcile report (JSON) here.")
    var report: String?

    @Option(help: "Write the reconcile report as a self-contained HTML page here (no scripts, nothing fetched).")
    var html: String?

    @Flag(help: "Print the report as JSON on standard output.")
    var json = false

    @Option(help: "Write one signed receipt per user into this directory (<address>.receipt.json and .sig); needs --sign-key.")
    var receipt: String?

    @Option(name: .customLong("sign-key"), help: "This station's private key (PEM), which signs the receipts.")
    var signKey: String?

    /// The targets named, each claiming the types it holds of those selected.
    func targets() throws -> ConnectorSet {
        try perform { try ConnectorSet(target.map(ConnectorURL.init(parsing:)), types: types.map(ConnectorSet.parseTypes)) }
    }

    func validate() throws {
        if archives.isEmpty { throw ValidationError("give the archive") }
        if target.isEmpty { throw ValidationError("give the target with --target URL") }
        if (receipt == nil) != (signKey == nil) {
            throw ValidationError("--receipt DIR and --sign-key KEY go together")
        }
    }

    /// The receipt writer and its key, checked before any work starts; nil without --receipt.
    func receiptWriter() throws -> ReceiptWriter? {
        guard let receipt, let signKey else { return nil }
        return try perform { try ReceiptWriter(directory: receipt, signingKeyPath: signKey) }
    }
}

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load an archive into a target, then reconcile and report.",
        discussion: """
            Nothing is written before the signature checks. Each item is checked against the manifest as it streams
            and committed only if it matches. An import that was interrupted (killed, a crash, a lost connection)
            finishes when run again, adding each item once. The report compares, per user, folder and type, the
            archive with the target.

            This station keeps a ledger of the archives it imported (accepted-archives.jsonl beside the import
            journal, --journal), per signing key, target and user, written once an import has reconciled. Running an
            import again after it finished is refused as a replay (exit 1), even if the target was emptied since;
            so is a second full archive into a target that already holds a chain, a delta (export --since) whose
            base was not imported there, and a delta that does not build on the last archive imported. Each refusal
            names the archives involved and what to run instead. --reimport imports the last archive imported
            again on purpose: it writes what the target lacks (into an emptied target, everything a full archive
            holds; into IMAP, what the journal placed is checked on the server first) and applies a delta's moves,
            flags and deletions again; an older archive is refused, it would undo the deltas after it.
            export --since LAST.mfa makes a new pass against the last archive imported, instead of a second full
            export. Another --journal DIR is for a deliberately fresh target (emptied or recreated): it takes the
            full archive, then each delta in order. A delta moves, reflags and deletes what earlier archives brought (dir:, maildir: and IMAP targets) and
            reconcile then checks the state after it. Into IMAP, that reconcile reads back the bodies of what the delta
            wrote or moved; a message an earlier reconciled import placed at a UID still there (same UIDVALIDITY) is
            checked from the folder's FETCH of UID, size, flags and date without reading it again (a UID always names
            the same bytes, RFC 9051 2.3.1.1). --full-reconcile reads and hashes every message, as reconcile does.

            Targets: dir:PATH (the directory layout export reads), maildir:PATH (one user, needs --user), and an IMAP
            server, imap://HOST:PORT (STARTTLS) or imaps://HOST:PORT, with --credentials FILE. Into IMAP, each message
            goes by APPEND with its flags, keywords and date; a journal on this station (--journal) makes a killed
            import resume without duplicates; refused items stop the import unless
            --max-bad-items allows them, and are listed in the report with where every item went (APPENDUID).
            A ManageSieve server, sieve://HOST:PORT (port 4190, STARTTLS; logins as for IMAP), takes Sieve scripts
            only: each goes through CHECKSCRIPT (a script the server cannot run is a bad item with its reason) and
            PUTSCRIPT, the archive's active one is made active, and one already there with the same bytes is not
            written again.
            A CalDAV/CardDAV server, davs://HOST[:PORT][/PATH] (dav:// only with --allow-plaintext; logins as for
            IMAP, HTTP Basic), takes address books and calendars: each collection is made in the user's home set with
            its properties, each object goes by PUT with If-None-Match: * (one already there with the same bytes is
            not written again; a refused one is a bad item with the server's reason).
            A target takes only the kinds of item it holds (ManageSieve scripts; DAV contacts and calendars; IMAP and
            maildir: mail; dir: all):
            the others are listed in the report as not imported and the reconcile fails the user.
            Give --target again for each system of the migration: each takes the types it holds, and one reconcile,
            one report and one receipt per user cover them all (two targets holding the same type are refused).
            --types mail,contacts,calendars,sieve narrows the run: the types left out are listed as left out, and
            the reconcile names them without failing the user, since the operator chose it.

              mailferry import june.mfa --trust station-a.pub.pem --target imaps://mail.example.com \\
                  --target davs://dav.example.com --target sieve://mail.example.com --credentials admin.tsv
              mailferry import june.mfa --trust station-a.pub.pem --target imaps://mail.example.com \\
                  --types mail --credentials admin.tsv

            With --report or --html, each user's identity map is written beside it (REPORT.<address>.map.csv, the
            report's name without .json or .html) and shown on the page: every folder and message with its source
            identity (folder GUID and UIDVALIDITY, UID, GUID, source key) beside where it is now (folder,
            UIDVALIDITY, UID, the target's id of it, file). A maildir: target keeps the source's UIDVALIDITY, UIDs and GUIDs in
            dovecot-uidlist where it can (a new folder), so a Dovecot serving it shows the same identities.

            With --receipt DIR --sign-key KEY, one receipt per user is written into DIR (<address>.receipt.json and
            <address>.receipt.json.sig, signed with this station's key), failing users too. `mailferry buffer
            release` delivers a user's held mail only against a passing receipt.

              mailferry import june.mfa --trust station-a.pub.pem --target dir:/srv/newmail --report june.report.json
              mailferry import june.mfa --trust station-a.pub.pem --target dir:/srv/newmail --html june.report.html
              mailferry import june.mfa --trust station-a.pub.pem --target dir:/srv/newmail \\
                  --receipt receipts/ --sign-key station-b.key.pem
              mailferry import june.mfa --trust station-a.pub.pem --target imaps://mail.example.com \\
                  --credentials admin.tsv --max-bad-items 10 --report june.report.json

            A volume set (export --volume-size) is imported from its volumes in any order, its NAME.set, or the
            folder holding them. The set is checked first; then each volume there is imported. With volumes
            missing, the import stops there (exit 2) and names them: run it again with the rest, and it finishes
            the set. The reconcile runs once every volume is imported, over the whole set: one report (--report,
            --html) and one receipt per user (--receipt) cover the set, naming its id and its volumes; while volumes
            are missing none is written. The ledger then accepts the set. A delta written as a set (export --since
            with --volume-size) is applied only whole: with a volume missing nothing is written; with all there,
            the volumes in order, the set's folder renames first. --jobs and --reimport take single archives in
            this version.

              mailferry import /media/stick --trust station-a.pub.pem --target dir:/srv/newmail \\
                  --report june.report.json --receipt receipts/ --sign-key station-b.key.pem
            """)

    @OptionGroup var options: TargetOptions
    @OptionGroup(title: "IMAP targets") var server: ServerOptions
    @OptionGroup(title: "IMAP targets") var importing: ImportOptions

    @Option(help: "Users imported at once, each reading its own part of the archive (for a slow target such as an IMAP server).")
    var jobs = 1

    @Flag(help: "Import again the last archive the ledger lists as imported into this target (writes what the target lacks).")
    var reimport = false

    @Flag(help: "After a delta, read back and hash every message at the target, not only those the delta wrote or moved.")
    var fullReconcile = false

    func validate() throws {
        if jobs < 1 || jobs > 64 { throw ValidationError("--jobs must be from 1 to 64") }
    }

    func run() throws {
        let o = options
        if o.namesSet { return try runSet() }
        let url = try o.targets()
        let receipts = try o.receiptWriter()
        let users = try perform { try server.allUsers(o.users) }
        let connectorOptions = server.connectorOptions(quiet: o.json, importing: importing)
        let result = try perform {
            var importer = Importer(
                archivePath: o.archive, trustedKeyPath: o.trust, target: url, users: users, quiet: o.json,
                options: connectorOptions, jobs: jobs)
            importer.identityPaths = o.identity.paths
            importer.ledger = try ImportLedger(directory: connectorOptions.journalDirectory)
            importer.reimport = reimport
            importer.fullReconcile = fullReconcile
            importer.makesIdentityMaps = o.report != nil || o.html != nil
            importer.recordsPlacements = o.report != nil || o.html != nil || o.json
            importer.identityMapPrefix = (o.report ?? o.html).map(Self.identityMapPrefix)
            return try importer.run()
        }
        let written = try ReportOutput.writeReceipts(result, receipts, json: o.json)
        try ReportOutput.emit(result, path: o.report, html: o.html, receipts: written, json: o.json)
    }

    /// A volume set: every volume there imported; with all there, the set reconciled whole: one report, and one
    /// receipt per user, as for one archive. While volumes are missing nothing is reported and no receipt written.
    private func runSet() throws {
        let o = options
        if jobs > 1 || reimport {
            throw FerryError(.usage, "--jobs and --reimport take a single archive in this version, not a volume set")
        }
        let url = try o.targets()
        let receipts = try o.receiptWriter()
        let users = try perform { try server.allUsers(o.users) }
        let connectorOptions = server.connectorOptions(quiet: o.json, importing: importing)
        let result = try perform {
            var importer = Importer(
                archivePath: o.archive, trustedKeyPath: o.trust, target: url, users: users, quiet: o.json, options: connectorOptions)
            importer.identityPaths = o.identity.paths
            importer.ledger = try ImportLedger(directory: connectorOptions.journalDirectory)
            importer.fullReconcile = fullReconcile
            importer.makesIdentityMaps = o.report != nil || o.html != nil
            importer.recordsPlacements = o.json || o.report != nil || o.html != nil
            importer.identityMapPrefix = (o.report ?? o.html).map(Self.identityMapPrefix)
            return try SetImporter(paths: o.archives, importer: importer).run()
        }
        guard let report = result.report else {
            let s = result.set.statement
            let lacking = result.set.missing.map { "volume \($0.number) (\($0.file), archive \($0.archiveID))" }.joined(separator: ", ")
            if o.json {
                struct Out: Encodable {
                    var set: String; var setID: String; var complete: Bool; var imported: [String]; var missing: [Int]
                }
                try printJSON(Out(
                    set: result.set.statementPath, setID: s.setID, complete: false, imported: result.imported.map(\.path),
                    missing: result.set.missing.map(\.number)))
            } else {
                for (path, counts) in result.imported {
                    print("\(path): imported: \(counts.written) items written (\(Format.bytes(counts.bytesWritten))), \(counts.alreadyPresent) already present")
                }
            }
            let unwritten = [o.report, o.html].compactMap { $0 } + (o.receipt.map { ["receipts in \($0)"] } ?? [])
            throw FerryError(
                .usage,
                "\(result.set.statementPath): the volumes here are imported; set \(s.setID) still lacks \(lacking). The reconcile waits for "
                    + "the whole set: run the same import again with them (what is imported already is recognised)"
                    + (unwritten.isEmpty ? "" : "; nothing written yet of \(unwritten.joined(separator: ", "))"))
        }
        if !o.json {
            for (path, counts) in result.imported {
                print("\(path): imported: \(counts.written) items written (\(Format.bytes(counts.bytesWritten))), \(counts.alreadyPresent) already present")
            }
            print("set \(result.set.statement.setID): all \(volumeCount(result.set.statement.volumes.count)) imported; reconciled as one")
        }
        let written = try ReportOutput.writeReceipts(report, receipts, json: o.json)
        try ReportOutput.emit(report, path: o.report, html: o.html, receipts: written, json: o.json)
    }

    /// `june.report.json` (or `.html`) gives `june.report`, so the maps are `june.report.<address>.map.csv`.
    static func identityMapPrefix(_ reportPath: String) -> String {
        for suffix in [".json", ".html", ".htm"] where reportPath.hasSuffix(suffix) {
            return String(reportPath.dropLast(suffix.count))
        }
        return reportPath
    }
}

struct Reconcile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prove a target holds what an archive holds, without importing.",
        discussion: """
              mailferry reconcile june.mfa --trust station-a.pub.pem --target dir:/srv/newmail --report check.json
              mailferry reconcile june.mfa --trust station-a.pub.pem --target dir:/srv/newmail --html check.html
              mailferry reconcile june.mfa --trust station-a.pub.pem --target dir:/srv/newmail \\
                  --receipt receipts/ --sign-key station-b.key.pem
            """)

    @OptionGroup var options: TargetOptions
    @OptionGroup(title: "IMAP targets") var server: ServerOptions
    @OptionGroup(title: "IMAP targets") var importing: ImportOptions

    func run() throws {
        let o = options
        if o.namesSet {
            throw FerryError(.usage, "reconcile takes one archive; a volume set is reconciled by `mailferry import` once all its volumes are there")
        }
        let url = try o.targets()
        let receipts = try o.receiptWriter()
        let users = try perform { try server.allUsers(o.users) }
        let result = try perform {
            var command = ReconcileCommand(
                archivePath: o.archive, trustedKeyPath: o.trust, target: url, users: users,
                options: server.connectorOptions(quiet: o.json, importing: importing))
            command.identityPaths = o.identity.paths
            return try command.run()
        }
        let written = try ReportOutput.writeReceipts(result, receipts, json: o.json)
        try ReportOutput.emit(result, path: o.report, html: o.html, receipts: written, json: o.json)
    }
}

enum ReportOutput {
    /// Writes the receipts (before the verdict decides the exit status, so failing users get theirs too).
    /// Returns the receipts written, by user, for the HTML page.
    static func writeReceipts(_ report: ReconcileReport, _ writer: ReceiptWriter?, json: Bool) throws -> [String: ReportPage.ReceiptStatus] {
        guard let writer else { return [:] }
        let paths = try perform { try writer.write(report) }
        let signer = try perform { try writer.signerKeyID() }
        if !json {
            for p in paths { print("receipt: \(p)") }
        }
        var written: [String: ReportPage.ReceiptStatus] = [:]
        for (user, p) in zip(report.users, paths) {
            written[user.address] = ReportPage.ReceiptStatus(path: p, verdict: user.verdict, signerKeyID: signer)
        }
        return written
    }

    static func emit(
        _ report: ReconcileReport, path: String?, html: String? = nil, receipts: [String: ReportPage.ReceiptStatus] = [:], json: Bool
    ) throws {
        if let path {
            try perform { try FerryError.io { try AtomicReplace.write(jsonBytes(report), to: path, mode: 0o644) } }
        }
        if let html {
            try perform { try ReportPage(report: report, receipts: receipts).write(toFile: html) }
        }
        if json {
            try printJSON(report)
        } else {
            if let i = report.imported {
                print("imported: \(i.written) items written (\(Format.bytes(i.bytesWritten))), \(i.alreadyPresent) already present, \(String(format: "%.2f", i.seconds)) s")
                if let c = i.changes {
                    print("delta applied: \(c.movedOrFlagged) items moved or reflagged, \(c.unchanged) unchanged, \(c.deleted) deleted, \(c.renamedFolders) folders renamed, \(c.deletedFolders) deleted\(c.notFound > 0 ? ", \(c.notFound) earlier items NOT FOUND at the target" : "")")
                    if c.notFound > 0 {
                        print("  the target lacks items that earlier archives of the chain brought, which a delta cannot bring back; if it lost them (emptied or recreated), import the chain again from its full archive, each archive in order, with another --journal directory")
                    }
                }
                if !i.notImported.isEmpty {
                    print("not imported (the target holds no such items): \(i.notImported.count) items")
                    for b in i.notImported.prefix(20) { print("  \(b.entry) (\(b.folder))") }
                }
                if !i.badItems.isEmpty {
                    print("refused by the target: \(i.badItems.count) items")
                    for b in i.badItems.prefix(20) { print("  \(b)") }
                }
            }
            for map in report.identityMaps.values.sorted(by: { $0.address < $1.address }) {
                if let csv = map.csvPath { print("identity map of \(map.address): \(csv)") }
            }
            for u in report.users {
                print("\(u.address): \(u.verdict.rawValue.uppercased())  archive \(u.archive.messages) messages, \(u.archive.contacts) contacts, \(u.archive.events) events, \(u.archive.tasks) tasks, \(u.archive.sieveScripts) scripts; target holds \(u.target.messages), \(u.target.contacts), \(u.target.events), \(u.target.tasks), \(u.target.sieveScripts)")
                for c in u.containers {
                    var line = "  \(c.kind) \(c.name): \(c.matched)/\(c.archiveItems) match"
                    if let n = c.lineEndingsConverted { line += " (\(n) with line endings made CRLF, as the target holds mail)" }
                    if c.extra > 0 { line += ", \(c.extra) extra at target" }
                    if !c.missing.isEmpty { line += ", MISSING \(c.missing.count): \(c.missing.prefix(5).joined(separator: " "))" }
                    if !c.refused.isEmpty { line += ", refused by the target \(c.refused.count) (see above)" }
                    if !c.mismatched.isEmpty { line += ", DIFFERENT \(c.mismatched.count): " + c.mismatched.prefix(3).map { "\($0.entry) (\($0.difference))" }.joined(separator: "; ") }
                    print(line)
                    for p in c.folderProperties ?? [] where p.outcome == .different {
                        let folder = p.archiveFolder.map { " (archive folder \($0))" } ?? ""
                        print("    DIFFERENT \(p.description)\(folder)")
                    }
                }
                // What the target cannot hold, once per property and reason (the reports list it per folder).
                var notHeld: [String: Int] = [:]
                for c in u.containers {
                    for p in c.folderProperties ?? [] where p.outcome == .notHeld {
                        notHeld["\(p.property.displayName): \(p.reason ?? "")", default: 0] += 1
                    }
                }
                for (what, folders) in notHeld.sorted(by: { $0.key < $1.key }) {
                    print("  not held by this target, in \(folders) folder\(folders == 1 ? "" : "s"): \(what)")
                }
                for p in u.problems { print("  problem: \(p)") }
            }
            print("verdict: \(report.verdict.rawValue.uppercased())\(path.map { " (report: \($0))" } ?? "")\(html.map { " (page: \($0))" } ?? "")")
        }
        if report.verdict == .fail { throw ExitCode(ExitStatus.verificationFailed.rawValue) }
    }
}
