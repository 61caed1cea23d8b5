import ArgumentParser
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

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let inspector = try perform { try Inspector(archivePath: archive, trustedKeyPath: trust) }
        if let show {
            guard let record = try perform({ try inspector.find(show) }) else {
                throw FerryError(.usage, "\(archive): no item \(String(reflecting: show)) (use --list to see entry names)")
            }
            let meta = try perform { try inspector.metadata(record) }
            if json {
                var bytes: [UInt8] = []
                try perform { try inspector.show(record) { bytes += $0 } }
                struct Shown: Encodable { var item: Inspector.ListedItem; var contentBase64: String }
                try printJSON(Shown(item: meta, contentBase64: Data(bytes).base64EncodedString()))
            } else {
                let header = "entry: \(meta.entry)\nuser: \(meta.user)\nfolder: \(meta.container)\nsize: \(meta.size)\nsha256: \(meta.sha256)\n"
                    + (meta.flags.map { "flags: \($0.joined(separator: " "))\n" } ?? "")
                    + (meta.keywords.map { "keywords: \($0.joined(separator: " "))\n" } ?? "")
                    + (meta.date.map { "date: \($0)\n" } ?? "") + "title: \(meta.title)\n"
                FileHandle.standardError.write(Data(header.utf8))
                try perform { try inspector.show(record) { FileHandle.standardOutput.write(Data($0)) } }
            }
            return
        }
        if list {
            if json {
                var items: [Inspector.ListedItem] = []
                try perform { try inspector.list { items.append($0) } }
                try printJSON(items)
            } else {
                try perform {
                    try inspector.list { i in
                        let flags = (i.flags ?? []).map { $0.replacingOccurrences(of: "\\", with: "") } + (i.keywords ?? [])
                        print([i.entry, i.user, i.container, i.date ?? "-", flags.isEmpty ? "-" : flags.joined(separator: ","), "\(i.size)", i.title].joined(separator: "\t"))
                    }
                }
            }
            return
        }
        let s = try perform { try inspector.summary() }
        if json {
            try printJSON(s)
            return
        }
        print("archive:   \(s.archive) (\(Format.bytes(s.fileSize)), \(s.frames) frames)")
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
            print("\(u.address)\(u.targetAddress.map { " (to \($0) at the target)" } ?? ""): \(c.messages) messages (\(Format.bytes(c.messageBytes))), \(c.contacts) contacts, \(c.events) events, \(c.tasks) tasks, \(c.sieveScripts) sieve scripts")
            for container in u.containers {
                let extra = [container.specialUse, container.subscribed == true ? "subscribed" : nil].compactMap { $0 }
                print("  \(container.kind) \(container.name): \(container.items) items, \(Format.bytes(container.bytes))\(extra.isEmpty ? "" : " (" + extra.joined(separator: ", ") + ")")")
            }
        }
    }
}
