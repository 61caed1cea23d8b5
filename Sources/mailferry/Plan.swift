import ArgumentParser
import Connectors
import FerryKit
import Foundation
import MailModel
import MigrationPlan
import Receipts
import SystemLayer

/// `mailferry plan ...`: the two-station migration of many users, step by step, resumable after a crash.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Run a migration of many users over two stations, from planning to cut-over, with undo.",
        discussion: """
            Station A (source, buffer) keeps the plan: a directory with plan.json and a journal of every user's state.
            Each user goes planned -> prepared -> held -> exported -> carried -> reconciled -> released -> closed, or
            from held onwards back to the source (reverted -> closed); a user whose receipt comes back failing is
            imported (import again, or undo). Every step is recorded once it is done, so after
            a crash or a reboot the same command carries on. `plan status` says what each user waits on and the next
            command; `plan next` runs every step station A can run now.

              mailferry plan init --users users.csv --source imaps://old.example --target imaps://new.example \\
                  --station-a /srv/plan --buffer-config buffer.toml --sign-key a.key.pem --archives /media/usb \\
                  --station-b-key b.pub.pem --receipts /media/usb/receipts --credentials admin.tsv
              mailferry plan export --plan /srv/plan --group sales     # optional: a first pass that travels ahead
              mailferry plan carried --plan /srv/plan /media/usb/1a2b3c4d-20261120-090000.mfa
              mailferry plan hold --plan /srv/plan --group sales       # the buffer accepts their mail from now on
              mailferry plan forwarding --plan /srv/plan --group sales --on   # after switching the source's forwarding
              mailferry plan next --plan /srv/plan                     # the final export: a delta of the pass
              mailferry plan carried --plan /srv/plan /media/usb/1a2b3c4d-20261122-101500.mfa
              # station B: every archive of the chain (plan status and plan carried name them), in any order
              mailferry plan import /media/usb/1a2b3c4d-20261120-090000.mfa /media/usb/1a2b3c4d-20261122-101500.mfa \\
                  --target imaps://new.example --trust a.pub.pem --sign-key b.key.pem --receipts /media/usb/receipts \\
                  --credentials b-admin.tsv
              # station A, with the receipts carried back:
              mailferry plan next --plan /srv/plan                     # checks receipts, releases the held mail
              mailferry plan close --plan /srv/plan --group sales

            users.csv: source,target[,group] per line (a header line `source,target,group` may come first); an
            empty target keeps the address. The mapping travels in the archives; station B writes each user into the
            target address and rewrites ACL identifiers of renamed users.
            """,
        subcommands: [
            PlanInit.self, PlanStatusCommand.self, PlanNext.self, PlanPrepared.self, PlanHold.self, PlanForwarding.self,
            PlanExport.self, PlanCarried.self, PlanImport.self, PlanRelease.self, PlanClose.self, PlanUndo.self,
            PlanReportCommand.self,
        ])
}

/// Where a plan kept in PostgreSQL is (`plan init --store`, or joining it from another machine).
struct PlanStoreOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Keep the plan in this PostgreSQL database (postgres://USER@HOST[:PORT]/DB[?sslmode=...], no password), so several station-A machines work on it; given once on another machine, it joins the plan (the directory's store.json remembers it).", valueName: "url"))
    var store: String?

    @Option(name: .customLong("store-password-file"), help: ArgumentHelp("The database password (first line; mode 600). Default: PGPASSFILE's matching line, else none.", valueName: "file"))
    var storePasswordFile: String?

    var settings: PlanStoreSettings { PlanStoreSettings(url: store, passwordFile: storePasswordFile) }
}

/// Which plan and which of its users.
struct PlanSelection: ParsableArguments {
    @Option(help: ArgumentHelp("The plan's directory on station A.", valueName: "dir"))
    var plan: String

    @OptionGroup var store: PlanStoreOptions

    @Option(name: .customLong("user"), help: "Only this user (source or target address; repeatable).")
    var users: [String] = []

    @Option(help: "Only the users of this group (the users file's third column).")
    var group: String?

    func open() throws -> MigrationPlan { try perform { try MigrationPlan(directory: plan, store: store.settings) } }
    func selected(_ p: MigrationPlan) throws -> [Int] { try perform { try p.indices(users, group: group) } }
}

struct PlanInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Write a new plan from a users file.",
        discussion: """
            Writes plan.json and an empty journal into the plan's directory on station A. The settings given here
            (keys, folders, the buffer's configuration) are the defaults of the later plan commands.

              mailferry plan init --users users.csv --source imaps://old.example --target imaps://new.example \\
                  --station-a /srv/plan --buffer-config buffer.toml --sign-key a.key.pem --archives /media/usb \\
                  --station-b-key b.pub.pem --receipts /media/usb/receipts --credentials admin.tsv
              mailferry plan init --users users.csv --source dir:/srv/mail --target dir:/srv/newmail \\
                  --station-a /srv/plan --buffer-config buffer.toml --sign-key a.key.pem --archives /media/usb
              mailferry plan init ... --encrypt-to b.age.pub --encrypt-to a.age.pub --identity a.age.key

            With --store postgres://USER@HOST/DB the plan (its definition, every user's state and events) is kept in
            PostgreSQL instead of plan.json and journal.jsonl, so several station-A machines work on it at once (plan
            export --worker); the directory then holds store.json, which names the database. Another machine joins
            with any plan command given --plan DIR --store URL.

              mailferry plan init --users users.csv --source imaps://old.example --target imaps://new.example \\
                  --station-a /srv/plan --store postgres://mailferry@db.example/plan --store-password-file pg.pw ...

            users.csv: source,target[,group] per line, for example `alice@example.com,alice@example.net,sales`.
            """)

    @Option(help: ArgumentHelp("CSV of source,target[,group] addresses.", valueName: "file"))
    var users: String
    @Option(help: "The source URL.")
    var source: String
    @Option(help: "The target URL (where station B imports, and where station A releases held mail).")
    var target: String
    @Option(name: [.customLong("station-a"), .customLong("plan")], help: ArgumentHelp("The plan's directory on station A.", valueName: "dir"))
    var stationA: String
    @Option(name: .customLong("buffer-config"), help: ArgumentHelp("The buffer's configuration (TOML).", valueName: "file"))
    var bufferConfig: String?
    @Option(name: .customLong("sign-key"), help: ArgumentHelp("Station A's private key, to sign archives.", valueName: "file"))
    var signKey: String?
    @Option(help: ArgumentHelp("Where plan export writes archives.", valueName: "dir"))
    var archives: String?
    @Option(name: .customLong("station-b-key"), help: ArgumentHelp("Station B's public key, to check receipts.", valueName: "file"))
    var stationBKey: String?
    @Option(help: ArgumentHelp("Where the receipts carried back from station B are put.", valueName: "dir"))
    var receipts: String?
    @Option(help: ArgumentHelp("IMAP credentials for the source (see export --help).", valueName: "file"))
    var credentials: String?
    @Option(name: .customLong("ca-file"), help: ArgumentHelp("CA certificates (PEM) for the source's IMAP certificate.", valueName: "file"))
    var caFile: String?
    @Option(name: .customLong("encrypt-to"), help: ArgumentHelp("Encrypt every archive to the age public keys in this file (station B's; repeatable, with one of station A's own for deltas).", valueName: "file"))
    var encryptTo: [String] = []
    @Option(name: .customLong("identity"), help: ArgumentHelp("Station A's age identity, among --encrypt-to, which opens its earlier archives when a delta builds on one.", valueName: "file"))
    var identities: [String] = []
    @OptionGroup var store: PlanStoreOptions

    func run() throws {
        let plan = try perform {
            try MigrationPlan.create(
                directory: stationA, usersFile: users, source: source, target: target, bufferConfig: bufferConfig,
                stationA: StationSettings(
                    signKey: signKey, archiveDirectory: archives, stationBKey: stationBKey, receiptsDirectory: receipts,
                    credentials: credentials, caFile: caFile, encryptTo: encryptTo.isEmpty ? nil : encryptTo,
                    identities: identities.isEmpty ? nil : identities),
                store: store.settings)
        }
        let renamed = plan.users.filter { $0.user.source.lowercased() != $0.user.target.lowercased() }.count
        print("plan \(plan.definition.planID) in \(store.store.map { "\($0) (this machine: \(stationA))" } ?? stationA): \(plan.users.count) users (\(renamed) renamed at the target)")
        if let url = store.store {
            print("other station-A machines join with: mailferry plan status --plan DIR --store \(url)")
        }
        print("next: mailferry plan status --plan \(stationA)")
    }
}

struct PlanStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show every user's state, what it waits on and the next command.",
        discussion: """
              mailferry plan status --plan /srv/plan
              mailferry plan status --plan /srv/plan --group sales
              mailferry plan status --plan /srv/plan --user alice@example.com --json
            """)

    @OptionGroup var selection: PlanSelection
    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let plan = try selection.open()
        let chosen = Set(try selection.selected(plan))
        let rows = plan.status().enumerated().filter { chosen.contains($0.offset) }.map(\.element)
        if json {
            try printJSON(rows)
            return
        }
        let counts = Dictionary(grouping: rows, by: \.state).mapValues(\.count)
        print("plan \(plan.definition.planID): \(plan.definition.source) -> \(plan.definition.target)")
        print(PlanState.allCases.compactMap { s in counts[s].map { "\(s.rawValue) \($0)" } }.joined(separator: ", "))
        let holders = Dictionary(grouping: rows.compactMap(\.holder), by: { $0 }).mapValues(\.count)
        if !holders.isEmpty {
            print("export workers holding users: " + holders.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }.joined(separator: ", "))
        }
        for row in rows {
            let renamed = row.target.lowercased() == row.user.lowercased() ? "" : " -> \(row.target)"
            print("\(row.user)\(renamed)\(row.group.map { " [\($0)]" } ?? ""): \(row.state.rawValue) since \(row.since), forwarding \(row.forwarding), \(row.archives) archive(s)\(row.receipt.map { ", receipt \($0)" } ?? "")")
            if !row.chain.isEmpty {
                let listed = row.chain.map { a in
                    let carried = a.volumesCarried.map { a.carried ? "carried, \($0)" : "station B has \($0)" } ?? (a.carried ? "carried" : "not carried")
                    return "\(a.path) (\(a.volumes == nil ? "" : "volume set, ")\(a.deltaOf.map { "delta of \($0.prefix(8))" } ?? "full")\(a.final ? ", final" : ""), \(carried))"
                }
                print("    archives for station B: \(listed.joined(separator: ", "))")
            }
            if let held = row.held {
                print("    target holds (station B's receipt): \(held.messages) messages, \(held.contacts) contacts, \(held.events) events, \(held.tasks) tasks, \(held.sieveScripts) Sieve scripts")
            }
            if let holder = row.holder {
                print("    held by worker \(holder), lease until \(row.leaseExpires ?? "-")")
            }
            for a in row.abandoned ?? [] {
                if let path = a.path {
                    print("    abandoned archive (worker \(a.holder) lost the lease to \(a.takenBy) at \(a.at); not recorded, delete it): \(path)")
                } else {
                    print("    taken over from worker \(a.holder) by \(a.takenBy) at \(a.at) (it had named no archive)")
                }
            }
            print("    waits on \(row.waitingOn.rawValue): \(row.next)")
        }
    }
}

struct PlanPrepared: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepared", abstract: "Record that the users' target accounts exist and may be used.",
        discussion: """
              mailferry plan prepared --plan /srv/plan --group sales
              mailferry plan prepared --plan /srv/plan --user alice@example.com --user bob@example.com
            """)
    @OptionGroup var selection: PlanSelection

    func run() throws {
        let plan = try selection.open()
        try perform { try plan.markPrepared(try selection.selected(plan)) }
        print("prepared: \(try selection.selected(plan).map { plan.users[$0] }.filter { $0.state == .prepared }.map(\.user.source).joined(separator: ", "))")
    }
}

struct PlanHold: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold", abstract: "Have the buffer accept the users' mail from now on (then switch the source's forwarding).",
        discussion: """
            The buffer must run (mailferry buffer serve), or its spool be reachable from here.

              mailferry plan hold --plan /srv/plan --group sales
              mailferry plan hold --plan /srv/plan --user alice@example.com
            """)
    @OptionGroup var selection: PlanSelection

    func run() throws {
        let plan = try selection.open()
        let held = try perform { try plan.hold(try selection.selected(plan)) }
        print(held.isEmpty ? "nobody to hold (see plan status)" : "held: \(held.joined(separator: ", "))")
        if !held.isEmpty { print("next: switch the source's forwarding to the buffer, then: mailferry plan forwarding --plan \(selection.plan) --on") }
    }
}

struct PlanForwarding: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forwarding", abstract: "Record that the source now forwards the users' mail to the buffer (--on) or no longer does (--off).",
        discussion: """
            The final export waits for --on; undo waits for --off.

              mailferry plan forwarding --plan /srv/plan --group sales --on
              mailferry plan forwarding --plan /srv/plan --user alice@example.com --off
            """)
    @OptionGroup var selection: PlanSelection
    @Flag(help: "The source forwards the users' new mail to the buffer.")
    var on = false
    @Flag(help: "The forwarding was removed (needed before undo).")
    var off = false

    func validate() throws {
        guard on != off else { throw ValidationError("give exactly one of --on and --off") }
    }

    func run() throws {
        let plan = try selection.open()
        try perform { try plan.recordForwarding(try selection.selected(plan), on: on) }
        print("forwarding recorded as \(on ? "on" : "off") for \(try selection.selected(plan).count) user(s)")
    }
}

struct PlanExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export the users: held users get their final archive, planned users a pass that travels ahead.",
        discussion: """
            A user who already has an archive gets a delta of it. The archive is written into the plan's archive
            folder unless --out is given.

              mailferry plan export --plan /srv/plan --group sales              # a first pass, before the cut-over
              mailferry plan export --plan /srv/plan --user alice@example.com --out /media/usb/alice.mfa

            With --volume-size SIZE the archive is a volume set (as export --volume-size writes it), recorded with its
            volumes: plan carried takes them as they leave (or the folder holding them), and plan status says which
            volumes of which set station B has. A delta of a volume set is not written in this version: a user whose
            last archive is a set is refused; export passes as single archives.

              mailferry plan export --plan /srv/plan --group sales --volume-size fat32

            With --worker (a plan kept in PostgreSQL, plan init --store), run on several station-A machines at once:
            each worker takes one user at a time that needs an export (no archive yet, or held with the forwarding
            recorded) and that no other worker holds, under a lease renewed while it exports, writes the user's own
            archive (named with the worker) and records it, ending the lease; it returns once no user is left. A
            worker that dies leaves its users to the others once its leases expire (--lease); its unrecorded archive
            is named in plan status as abandoned.

              mailferry plan export --plan /srv/plan --worker                   # on each station-A machine
              mailferry plan export --plan /srv/plan --worker --worker-name a2 --lease 2m --group sales
            """)
    @OptionGroup var selection: PlanSelection
    @Flag(help: "Work as one of several export workers on a plan kept in PostgreSQL: one user at a time, each into an archive of its own, until none is left.")
    var worker = false
    @Option(name: .customLong("worker-name"), help: ArgumentHelp("This worker's name in plan status (default: hostname:pid).", valueName: "name"))
    var workerName: String?
    @Option(help: ArgumentHelp("How long a worker's hold on a user lasts unless renewed (it is renewed while the export runs): seconds, or a number with s, m or h.", valueName: "duration"))
    var lease: String = "60s"

    static func milliseconds(_ text: String) -> Int64? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600]
        var number = Substring(text)
        var factor = 1.0
        if let last = text.last, let unit = units[last] {
            number = number.dropLast()
            factor = unit
        }
        guard let value = Double(number), value > 0, value.isFinite else { return nil }
        return Int64((value * factor * 1000).rounded())
    }
    @Option(help: ArgumentHelp("The archive to write (default: the plan's archive directory).", valueName: "file"))
    var out: String?
    @Option(name: .customLong("volume-size"), help: ArgumentHelp("Write each archive as a volume set of volumes of at most this size (as export --volume-size: 700M, 4G, fat32).", valueName: "size"))
    var volumeSize: String?

    func validate() throws {
        if let volumeSize, Export.volumeBytes(volumeSize) == nil {
            throw ValidationError("--volume-size \(volumeSize): give bytes, a number with K, M or G, or fat32")
        }
        if Self.milliseconds(lease) == nil { throw ValidationError("--lease \(lease): give seconds, or a number with s, m or h (90s, 2m)") }
        if worker && out != nil { throw ValidationError("--worker writes each user's archive into the plan's archive folder; leave out --out") }
        if !worker && workerName != nil { throw ValidationError("--worker-name is for --worker") }
    }
    @Option(name: .customLong("sign-key"), help: ArgumentHelp("Station A's private key (default: the plan's).", valueName: "file"))
    var signKey: String?
    @Flag(help: "Print the result as JSON.")
    var json = false
    @OptionGroup(title: "IMAP sources") var server: ServerOptions

    func run() throws {
        let plan = try selection.open()
        let options = server.connectorOptions(quiet: json)
        if worker {
            try runWorker(plan, options: options)
            return
        }
        let results = try perform {
            try plan.export(
                try selection.selected(plan), out: out, signingKey: signKey, options: options, quiet: json,
                volumeSize: volumeSize.flatMap(Export.volumeBytes),
                onWarning: { problem in if !json { printError("warning: \(problem)") } })
        }
        if json {
            try printJSON(results.map { ["archive": $0.archive.path, "archiveID": $0.archive.archiveID, "sha256": $0.archive.fileSHA256, "deltaOf": $0.archive.deltaOf ?? ""] })
            return
        }
        for result in results {
            let kind = result.archive.deltaOf.map { "delta of \($0)" } ?? "full"
            if let volumes = result.archive.volumes {
                print("wrote volume set \(result.archive.path) (set \(result.archive.archiveID), \(kind), \(volumes.count) volumes)")
                for v in volumes { print("  volume \(v.number): \(result.archive.path(of: v)) (archive \(v.archiveID), SHA-256 \(v.fileSHA256))") }
            } else {
                print("wrote \(result.archive.path) (archive \(result.archive.archiveID), \(kind), SHA-256 \(result.archive.fileSHA256))")
            }
            if !result.final.isEmpty { print("final archive for: \(result.final.joined(separator: ", "))") }
            if !result.passes.isEmpty { print("pass for: \(result.passes.joined(separator: ", "))") }
            if result.final.isEmpty {
                print("next: carry it to station B (ahead, or with the final archive), then: mailferry plan carried --plan \(selection.plan) \(result.archive.path)")
            }
        }
        // The final archives' next step names every archive of the chain that has not left yet.
        let rows = plan.status()
        var hints: [String] = []
        for user in results.flatMap(\.final) {
            if let row = rows.first(where: { $0.user == user }), row.state == .exported, !hints.contains(row.next) {
                hints.append(row.next)
            }
        }
        for hint in hints { print("next: \(hint)") }
    }
}

extension PlanExport {
    func runWorker(_ plan: MigrationPlan, options: ConnectorOptions) throws {
        let name = workerName ?? MigrationPlan.defaultWorkerName
        let summary = try perform {
            try plan.exportAsWorker(
                try selection.selected(plan), worker: name, leaseMilliseconds: Self.milliseconds(lease) ?? 60_000, signingKey: signKey,
                options: options, quiet: true, volumeSize: volumeSize.flatMap(Export.volumeBytes),
                onWarning: { problem in if !json { printError("warning: \(problem)") } },
                onExport: { done in
                    if !json {
                        let taken = done.tookOverFrom.map { ", taken over from worker \($0)" } ?? ""
                        print("\(done.user): \(done.final ? "final archive" : "pass") \(done.archive) (archive \(done.archiveID)\(taken))")
                    }
                },
                onWait: { seconds in
                    if !json {
                        print("waiting: other workers hold the users left; a lease ends in \(Int(seconds.rounded(.up))) s unless renewed (see plan status)")
                    }
                })
        }
        if json {
            try printJSON(summary)
            return
        }
        print("worker \(name): \(summary.exported.count) user(s) exported; no user of the selection needs an export now")
        if !summary.lost.isEmpty {
            print("lost to other workers (leases expired while exporting; archives removed): \(summary.lost.joined(separator: ", "))")
        }
    }
}

struct PlanCarried: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "carried",
        abstract: "Record that archives (recognised by their SHA-256) have left station A.",
        discussion: """
            Name every archive that left: the final archive, and a first pass when it travels (ahead or with the
            final one). Station B needs every archive of a user's chain: a delta is refused without the archive it
            builds on. plan status lists each user's chain; plan carried prints station B's command for it.

              mailferry plan carried --plan /srv/plan /media/usb/1a2b3c4d-20261120-090000.mfa     # a first pass, ahead
              mailferry plan carried --plan /srv/plan /media/usb/1a2b3c4d-20261122-101500.mfa     # the final archive

            A volume set leaves as its files do: name its volumes and its NAME.set (or the folder holding them) as
            each medium leaves; the set counts as carried once all of them have, and plan status says which volumes
            station B has until then.

              mailferry plan carried --plan /srv/plan /media/usb          # every archive, volume and NAME.set there
            """)
    @Option(help: ArgumentHelp("The plan's directory on station A.", valueName: "dir"))
    var plan: String
    @OptionGroup var store: PlanStoreOptions
    @Argument(help: "The archives, a volume set's volumes and its NAME.set (or copies of them), or folders holding them.")
    var archives: [String]

    func validate() throws {
        if archives.isEmpty { throw ValidationError("name the archives that left station A") }
    }

    func run() throws {
        let p = try perform { try MigrationPlan(directory: plan, store: store.settings) }
        let results = try perform { try p.markCarried(archivePaths: archives) }
        var commands: [(command: String, final: Bool)] = []
        for r in results {
            var parts: [String] = []
            if !r.final.isEmpty { parts.append("final archive of \(r.final.joined(separator: ", "))") }
            if !r.earlier.isEmpty {
                parts.append(
                    r.stillMissing.isEmpty
                        ? "a pass (an earlier archive of the chain) for \(r.earlier.joined(separator: ", ")); station B needs it before or with the final archive"
                        : "part of an archive of \(r.earlier.joined(separator: ", "))")
            }
            if !r.already.isEmpty { parts.append("recorded as carried before for \(r.already.joined(separator: ", "))") }
            let what = r.volume.map { "volume \($0) of set \(r.archiveID)" } ?? (r.isSetStatement ? "the statement of set \(r.archiveID)" : "archive \(r.archiveID)")
            let missing = r.stillMissing.isEmpty
                ? ""
                : "; the set still lacks \(r.stillMissing.joined(separator: ", ")): station B imports a set's volumes as they come, and reconciles once it has them all"
            print("carried \(r.path) (\(what)): \(parts.joined(separator: "; "))\(missing)")
            for address in r.final + r.earlier {
                guard let user = p.users.first(where: { $0.user.source == address }) else { continue }
                let command = p.stationBCommand(for: user)
                if let known = commands.firstIndex(where: { $0.command == command }) {
                    commands[known].final = commands[known].final || r.final.contains(address)
                } else {
                    commands.append((command, r.final.contains(address)))
                }
            }
        }
        for (command, final) in commands {
            print(final ? "next, at station B: \(command)" : "station B may import it now, or later with the final archive: \(command)")
        }
    }
}

struct PlanImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Station B: import archives, reconcile, and write signed receipts to carry back to station A.",
        discussion: """
            Each archive is imported in turn (users go to the target addresses the archive records), reconciled, and a
            receipt per user is written into --receipts with the reconcile report (<archive id>.report.json). Failing
            users get a receipt too (verdict fail), so station A learns of it. Exit 1 if any user failed. A volume set
            is given by its NAME.set, its volumes beside it: with a volume missing, those there are imported and no
            receipt is written (exit 2, naming the volume); once it is whole, one receipt per user covers the set.

              mailferry plan import /media/usb/1a2b3c4d-20261122-101500.mfa --target imaps://new.example \\
                  --trust a.pub.pem --sign-key b.key.pem --receipts /media/usb/receipts --credentials b-admin.tsv
              mailferry plan import /media/usb/*.mfa --target dir:/srv/newmail --trust a.pub.pem \\
                  --sign-key b.key.pem --receipts /media/usb/receipts
            """)
    @Argument(help: "The archives, and volume sets by their NAME.set.")
    var archives: [String]
    @Option(help: "The target URL.")
    var target: String
    @Option(help: ArgumentHelp("Station A's public key.", valueName: "file"))
    var trust: String
    @Option(name: .customLong("sign-key"), help: ArgumentHelp("Station B's private key, to sign the receipts.", valueName: "file"))
    var signKey: String
    @Option(help: ArgumentHelp("The folder to carry back to station A.", valueName: "dir"))
    var receipts: String
    @Option(help: "Users imported at once.")
    var jobs = 1
    @Flag(help: "Print the reports as JSON.")
    var json = false
    @OptionGroup(title: "IMAP targets") var server: ServerOptions
    @OptionGroup(title: "IMAP targets") var importing: ImportOptions
    @OptionGroup var identity: IdentityOptions

    func run() throws {
        let url = ConnectorSet(try perform { try ConnectorURL(parsing: target) })
        let writer = try perform { try ReceiptWriter(directory: receipts, signingKeyPath: signKey) }
        var station = StationBImport(
            archives: archives, target: url, trustedKeyPath: trust, receipts: writer, receiptsDirectory: receipts,
            options: server.connectorOptions(quiet: json, importing: importing), jobs: jobs, quiet: json)
        station.identityPaths = identity.paths
        let reports = try perform { try station.run { if !json { print($0) } } }
        if json {
            try printJSON(reports)
        } else {
            for report in reports {
                let name = (report.archive as NSString).lastPathComponent
                for user in report.users {
                    let renamed = user.targetAddress.map { " -> \($0)" } ?? ""
                    print("\(name): \(user.address)\(renamed): \(user.verdict.rawValue)\(user.problems.isEmpty ? "" : " (\(user.problems.prefix(2).joined(separator: "; ")))")")
                }
            }
            print("receipts in \(receipts): carry the folder back to station A")
        }
        if reports.contains(where: { $0.verdict == .fail }) {
            throw FerryError(.verificationFailed, "the reconcile failed for some users; their receipts say why")
        }
    }
}

struct PlanRelease: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release", abstract: "Check station B's receipts and release each reconciled user's held mail to the target.",
        discussion: """
            plan next does this too, for every user whose receipt came back.

              mailferry plan release --plan /srv/plan
              mailferry plan release --plan /srv/plan --group sales /media/usb/receipts --trust b.pub.pem
              mailferry plan release --plan /srv/plan --user alice@example.com --to lmtp://new-mx.example:24
            """)
    @OptionGroup var selection: PlanSelection
    @Argument(help: "The receipts folder carried back from station B (default: the plan's).")
    var receipts: String?
    @Option(help: ArgumentHelp("Station B's public key (default: the plan's).", valueName: "file"))
    var trust: String?
    @Option(help: "Deliver to this URL instead of the plan's target (for example lmtp://new-mx:24).")
    var to: String?
    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let plan = try selection.open()
        let outcomes = try perform {
            try plan.release(try selection.selected(plan), receipts: receipts, trust: trust, to: to, progress: json ? nil : { print($0) })
        }
        try PlanNext.printOutcomes(outcomes, json: json)
    }
}

struct PlanClose: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "close", abstract: "End lingering for released or reverted users (the buffer refuses their mail from then on).",
        discussion: """
              mailferry plan close --plan /srv/plan --group sales
              mailferry plan close --plan /srv/plan --user alice@example.com
            """)
    @OptionGroup var selection: PlanSelection

    func run() throws {
        let plan = try selection.open()
        try perform { try plan.close(try selection.selected(plan)) }
        print("closed: \(plan.users.filter { $0.state == .closed }.count) of \(plan.users.count) users")
    }
}

struct PlanUndo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undo", abstract: "Release the users' held mail back to the source (after plan forwarding --off).",
        discussion: """
              mailferry plan forwarding --plan /srv/plan --user alice@example.com --off
              mailferry plan undo --plan /srv/plan --user alice@example.com --to lmtp://old-mx.example:24
              mailferry plan undo --plan /srv/plan --group sales --to dir:/srv/mail
            """)
    @OptionGroup var selection: PlanSelection
    @Option(help: "Where the source takes delivery, such as lmtp://old-mx:24 or maildir:/srv/mail/alice.")
    var to: String
    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let plan = try selection.open()
        let outcomes = try perform { try plan.undo(try selection.selected(plan), to: to) }
        try PlanNext.printOutcomes(outcomes, json: json)
    }
}

struct PlanNext: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "next",
        abstract: "Run every step station A can run now (hold prepared users, export held users, release reconciled ones); list what waits on others.",
        discussion: """
            On a plan kept in PostgreSQL several machines may run it at once: each held user is exported by one of them
            (as by plan export --worker, one archive per user), and a step another machine took meanwhile is not
            recorded twice.

              mailferry plan next --plan /srv/plan
              mailferry plan next --plan /srv/plan --group sales --json
            """)
    @OptionGroup var selection: PlanSelection
    @Flag(help: "Print JSON.")
    var json = false
    @OptionGroup(title: "IMAP sources") var server: ServerOptions

    func run() throws {
        let plan = try selection.open()
        let chosen = try selection.selected(plan)
        // Hold the prepared users.
        let toHold = chosen.filter { plan.users[$0].state == .prepared }
        if !toHold.isEmpty {
            let held = try perform { try plan.hold(toHold) }
            if !json { print("held: \(held.joined(separator: ", ")) (switch the source's forwarding, then plan forwarding --on)") }
        }
        // Export the held users that have no final archive since they were held.
        let toExport = chosen.filter { plan.users[$0].state == .held && plan.users[$0].forwarding == true }
        if !toExport.isEmpty && plan.isShared {
            // A plan kept in PostgreSQL: other machines may run plan next too; each user is exported by one of them
            // (the export workers' claims and leases, with the default lease).
            let options = server.connectorOptions(quiet: json)
            let summary = try perform {
                try plan.exportAsWorker(
                    toExport, worker: MigrationPlan.defaultWorkerName, leaseMilliseconds: 60_000, signingKey: nil, options: options,
                    quiet: true, onWarning: { _ in })
            }
            if !json {
                for done in summary.exported { print("exported \(done.user) into \(done.archive)") }
            }
        } else if !toExport.isEmpty {
            let options = server.connectorOptions(quiet: json)
            let result = try perform {
                try plan.export(toExport, out: nil, signingKey: nil, options: options, quiet: json, onWarning: { _ in })
            }
            if !json {
                for r in result { print("exported \(r.final.joined(separator: ", ")) into \(r.archive.path)\(r.archive.deltaOf.map { " (delta of \($0))" } ?? "")") }
            }
        }
        // Release the users whose receipts came back.
        var outcomes: [MigrationPlan.ReleaseOutcome] = []
        let waiting = chosen.filter { [.exported, .carried, .imported, .reconciled].contains(plan.users[$0].state) }
        if !waiting.isEmpty, plan.definition.stationA.receiptsDirectory != nil, plan.definition.stationA.stationBKey != nil {
            outcomes = try perform { try plan.release(waiting, receipts: nil, trust: nil, to: nil, progress: json ? nil : { print($0) }) }
        }
        if json {
            try printJSON(["released": outcomes.map(\.user)] as [String: [String]])
            return
        }
        try Self.printOutcomes(outcomes, json: false)
        let rows = plan.status().enumerated().filter { chosen.contains($0.offset) }.map(\.element)
        for row in rows where row.waitingOn != .nobody && row.waitingOn != .stationA {
            print("\(row.user): waits on \(row.waitingOn.rawValue): \(row.next)")
        }
    }

    static func printOutcomes(_ outcomes: [MigrationPlan.ReleaseOutcome], json: Bool) throws {
        if json {
            try printJSON(outcomes)
        } else {
            for o in outcomes {
                print("\(o.user): \(o.state.rawValue), \(o.delivered) delivered\(o.problem.map { "; \($0)" } ?? "")")
            }
        }
        let problems = outcomes.filter { $0.problem != nil }
        if !problems.isEmpty {
            throw FerryError(.verificationFailed, "\(problems.count) user(s) not released: " + problems.map { "\($0.user): \($0.problem!)" }.joined(separator: "; "))
        }
    }
}

struct PlanReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the plan's report: every user's state and station B's reconcile, as JSON and as an HTML page.",
        discussion: """
            Reads the reconcile reports that plan import put beside the receipts (<archive id>.report.json) for each
            user whose receipt came back, and checks each receipt's signature again with station B's key.

              mailferry plan report --plan /srv/plan --html plan.html --json plan.json
            """)
    @OptionGroup var selection: PlanSelection
    @Option(help: ArgumentHelp("The receipts folder (default: the plan's).", valueName: "dir"))
    var receipts: String?
    @Option(help: ArgumentHelp("Write the page here.", valueName: "file"))
    var html: String?
    @Option(name: .customLong("json"), help: ArgumentHelp("Write the JSON here (- for standard output).", valueName: "file"))
    var jsonPath: String?

    func validate() throws {
        if html == nil && jsonPath == nil { throw ValidationError("give --html FILE, --json FILE, or both") }
    }

    func run() throws {
        let plan = try selection.open()
        let (data, page) = try perform { try plan.report(receipts: receipts) }
        if let html {
            try perform { try page.write(toFile: html) }
            print("wrote \(html): \(page.users.count) of \(plan.users.count) users reconciled, verdict \(page.verdict.rawValue)")
        }
        if jsonPath == "-" {
            try printJSON(data)
        } else if let jsonPath {
            try perform { try FerryError.io { try AtomicReplace.write(jsonBytes(data), to: jsonPath, mode: 0o644) } }
        }
    }
}
