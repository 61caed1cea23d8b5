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
            """)

    @Argument(help: "The archive.")
    var archive: String

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

    func run() throws {
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
