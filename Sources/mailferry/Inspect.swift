import ArgumentParser
import FerryArchive
import FerryKit
import Foundation
import MailModel
import Reporting

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what an archive holds without importing it.",
        discussion: """
            Reads only the seek table and the manifest (and, for --show, the frames of one item).
            Give --trust to check the signature as well; otherwise the output says it was not checked.

              mailferry inspect june.mfa
              mailferry inspect june.mfa.age --identity station-b.age.key
              mailferry inspect june.mfa --list
              mailferry inspect june.mfa --show u/1/m/2/7.eml > message.eml

            A volume set (its volumes in any order, its NAME.set, or the folder holding them) is shown as the set
            (which volumes it has, which are here) and a line per volume; --list and --show take one volume:

              mailferry inspect /media/stick --trust station-a.pub.pem
            """)

    @Argument(help: "The archive; or the volumes of a volume set (any order), its NAME.set, or the folder holding them.")
    var archives: [String]

    var archive: String { archives[0] }

    @Flag(help: "List every item with folder, flags, date, size and subject or name.")
    var list = false

    @Option(help: "Print one item's exact bytes to standard output (metadata to standard error): an entry path, a GUID or a Message-ID.")
    var show: String?

    @Option(help: "A trusted public key: check the signature too.")
    var trust: String?

    @OptionGroup var identity: IdentityOptions

    @Flag(help: "Print JSON.")
    var json = false

    /// Said on standard error by every output mode without --trust (the JSON says it as `signatureChecked`).
    static let notVerified = "the signature was NOT checked (give --trust KEY, or run verify): nothing shown here is verified"

    func validate() throws {
        if archives.isEmpty { throw ValidationError("give the archive (or a volume set's volumes or folder)") }
    }

    func run() throws {
        if VolumeSet.names(archives) { return try runSet() }
        let inspector = try perform { try Inspector(archivePath: archive, trustedKeyPath: trust, identityPaths: identity.paths) }
        let safe = { (text: String) in Format.terminalSafe(text) }
        if let show {
            guard let record = try perform({ try inspector.find(show) }) else {
                throw FerryError(.usage, "\(archive): no item \(String(reflecting: show)) (use --list to see entry names)")
            }
            let meta = try perform { try inspector.metadata(record) }
            if !inspector.signatureChecked { printError(Self.notVerified) }
            if json {
                try perform { try Self.showJSON(meta, inspector: inspector, record: record) }
            } else {
                let header = "entry: \(meta.entry)\nuser: \(safe(meta.user))\nfolder: \(safe(meta.container))\nsize: \(meta.size)\nsha256: \(meta.sha256)\n"
                    + (meta.flags.map { "flags: \(safe($0.joined(separator: " ")))\n" } ?? "")
                    + (meta.keywords.map { "keywords: \(safe($0.joined(separator: " ")))\n" } ?? "")
                    + (meta.date.map { "date: \($0)\n" } ?? "") + "title: \(safe(meta.title))\n"
                    + "signature: \(inspector.signatureChecked ? "checked" : "NOT checked")\n"
                FileHandle.standardError.write(Data(header.utf8))
                try perform { try inspector.show(record) { FileHandle.standardOutput.write(Data($0)) } }
            }
            return
        }
        if list {
            if !inspector.signatureChecked { printError(Self.notVerified) }
            if json {
                var items: [Inspector.ListedItem] = []
                try perform { try inspector.list { items.append($0) } }
                try printJSON(items)
            } else {
                try perform {
                    try inspector.list { i in
                        let flags = (i.flags ?? []).map { $0.replacingOccurrences(of: "\\", with: "") } + (i.keywords ?? [])
                        let fields = [i.entry, i.user, i.container, i.date ?? "-", flags.isEmpty ? "-" : flags.joined(separator: ","), "\(i.size)", i.title]
                        print(fields.map(safe).joined(separator: "\t"))
                    }
                }
            }
            return
        }
        let s = try perform { try inspector.summary() }
        if json {
            if !inspector.signatureChecked { printError(Self.notVerified) }
            try printJSON(s)
            return
        }
        print("archive:   \(s.archive) (\(Format.bytes(s.fileSize)), \(s.frames) frames\(s.encrypted ? ", encrypted with age: opened with --identity" : ""))")
        print("id:        \(s.archiveID)")
        print("format:    \(s.format) version \(s.version), made by \(s.tool)")
        print("created:   \(s.created) on station \(s.station), sequence \(s.sequence)\(s.deltaOf.map { ", delta of \($0)" } ?? "")")
        print("signer:    key \(s.signerKeyID), signature \(s.signatureChecked ? "checked" : "NOT checked (give --trust KEY, or run verify)")")
        print("manifest:  sha256 \(s.manifestSHA256)\(s.manifestChecked ? " (checked)" : "")")
        if let volume = s.volume {
            print("volume:    \(volume.number) of set \(volume.set): part of an export (inspect or verify the whole set: its folder, or its volumes)")
        }
        if s.deltaOf != nil, let n = s.changeCount {
            let kinds = s.changes.map { k in ["keep", "delete", "renameFolder", "deleteFolder"].map { "\($0) \(k[$0] ?? 0)" }.joined(separator: ", ") }
            print("changes:   \(n) change lines\(kinds.map { " (\($0))" } ?? " (give --trust KEY to count them by kind)")")
        }
        for u in s.users {
            let c = u.counts
            print("")
            print("\(safe(u.address))\(u.targetAddress.map { " (to \(safe($0)) at the target)" } ?? ""): \(c.messages) messages (\(Format.bytes(c.messageBytes))), \(c.contacts) contacts, \(c.events) events, \(c.tasks) tasks, \(c.sieveScripts) sieve scripts")
            for container in u.containers {
                let extra = [container.specialUse, container.subscribed == true ? "subscribed" : nil].compactMap { $0 }
                print("  \(container.kind) \(safe(container.name)): \(container.items) items, \(Format.bytes(container.bytes))\(extra.isEmpty ? "" : " (" + extra.joined(separator: ", ") + ")")")
            }
        }
    }

    /// A volume set: the set statement (checked with --trust), which volumes are here, and each one's summary.
    private func runSet() throws {
        if list || show != nil {
            throw FerryError(.usage, "--list and --show take one archive: give the one volume of the set to look into")
        }
        let key = try trust.map { path in try perform { try PublicKey(pemFile: path) } }
        let set = try perform {
            try VolumeSet.open(archives, trusting: key, identities: AgeKeyFile.identities(files: identity.paths), requireAll: false)
        }
        if !set.signatureChecked { printError(Self.notVerified) }
        let summaries = try set.present.map { path in
            try perform { try Inspector(archivePath: path, trustedKeyPath: trust, identityPaths: identity.paths).summary() }
        }
        let s = set.statement
        if json {
            struct Out: Encodable {
                var set: String; var setID: String; var created: String; var station: String; var signerKeyID: String
                var signatureChecked: Bool; var volumes: [SetStatement.Volume]; var missing: [Int]; var present: [Inspector.Summary]
            }
            try printJSON(Out(
                set: set.statementPath, setID: s.setID, created: s.created, station: s.station, signerKeyID: s.signerKeyID,
                signatureChecked: set.signatureChecked, volumes: s.volumes, missing: set.missing.map(\.number), present: summaries))
            return
        }
        print("set:       \(set.statementPath) (\(volumeCount(s.volumes.count)), \(set.present.count) here)")
        print("id:        \(s.setID)")
        print("created:   \(s.created) on station \(Format.terminalSafe(s.station))")
        print("signer:    key \(s.signerKeyID), signature \(set.signatureChecked ? "checked" : "NOT checked (give --trust KEY, or run verify)")")
        if !set.missing.isEmpty {
            print("missing:   " + set.missing.map { "volume \($0.number) (\($0.file))" }.joined(separator: ", "))
        }
        for v in s.volumes {
            guard let summary = summaries.first(where: { $0.archiveID == v.archiveID }) else {
                print("volume \(v.number): \(v.file) (\(Format.bytes(v.size))), archive id \(v.archiveID): NOT HERE")
                continue
            }
            let t = summary.totals
            let users = summary.users.map { Format.terminalSafe($0.address) }.joined(separator: ", ")
            print("volume \(v.number): \(summary.archive) (\(Format.bytes(summary.fileSize))), archive id \(v.archiveID): \(t.messages) messages (\(Format.bytes(t.messageBytes))), \(t.contacts) contacts, \(t.events) events; users \(users)")
        }
    }

    /// `--show --json`: the item's metadata and its bytes in base64, streamed (the item may be gigabytes).
    static func showJSON(_ meta: Inspector.ListedItem, inspector: Inspector, record: EntryRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let out = FileHandle.standardOutput
        let item = Format.terminalSafeJSON(String(decoding: try encoder.encode(meta), as: UTF8.self))
        out.write(Data(("{\"contentBase64\":\"").utf8))
        // Base64 in runs of whole 3-byte groups, so the pieces join into one valid encoding.
        var pending: [UInt8] = []
        let run = 3 * 21_846  // about 64 KiB of input
        try inspector.show(record) { chunk in
            pending.append(contentsOf: chunk)
            if pending.count >= run {
                let whole = pending.count - pending.count % 3
                out.write(Data(Data(pending[..<whole]).base64EncodedString().utf8))
                pending.removeFirst(whole)
            }
        }
        out.write(Data((Data(pending).base64EncodedString() + "\",\"item\":" + item + ",\"signatureChecked\":\(inspector.signatureChecked)}\n").utf8))
    }
}
