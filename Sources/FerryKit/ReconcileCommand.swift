import Connectors
import FerryArchive
import Foundation
import MailModel
import Reporting
import SystemLayer

/// `reconcile` on its own: compares a target with an archive without importing.
public struct ReconcileCommand {
    public var archivePath: String
    public var trustedKeyPath: String
    /// Age identity files that open an encrypted archive.
    public var identityPaths: [String] = []
    public var target: ConnectorSet
    public var users: [String]
    public var options: ConnectorOptions

    public init(
        archivePath: String, trustedKeyPath: String, target: ConnectorSet, users: [String],
        options: ConnectorOptions = ConnectorOptions()
    ) {
        self.archivePath = archivePath
        self.trustedKeyPath = trustedKeyPath
        self.target = target
        self.users = users
        self.options = options
    }

    public func run() throws -> ReconcileReport {
        let (archive, reader) = try VerifiedArchive.open(
            archivePath, trusting: PublicKey(pemFile: trustedKeyPath), identities: AgeKeyFile.identities(files: identityPaths))
        let manifest = try reader.loadManifest().refusingVolume(archivePath, for: "reconcile")
        let selected = try selectUsers(manifest, users: users, singleUserTarget: target.holdsOneUser)
        var reconciler = Reconciler(manifest: manifest, archivePath: archivePath, target: target, users: selected, options: options)
        let mapping = UserMapping(manifest: manifest)
        let rewrites = !mapping.isEmpty && (manifest.header.totals.contactFiles > 0 || manifest.header.totals.calendarFiles > 0)
        let converts = target.holdsCRLFForm && manifest.header.totals.messages > 0
        if rewrites || converts {
            // What the import wrote where it did not write the archived bytes: renamed users' addresses rewritten in
            // contacts and events, messages in CRLF form for a target that holds that form. Expect those bytes.
            let items = archive.items(manifest)
            while let (record, body) = try items.next() {
                guard selected.contains(record.user) else { continue }
                if converts, record.kind == .message {
                    if let item = try Self.crlfForm(of: record, body: body) { reconciler.converted.append(item) }
                } else if rewrites, record.kind == .contact || record.kind == .calendarItem, record.size <= Importer.rewriteLimit {
                    var bytes: [UInt8] = []
                    try body.stream { bytes.append(contentsOf: $0) }
                    try body.check()
                    if let (_, item, _) = mapping.rewriting(bytes, of: record) { reconciler.rewritten.append(item) }
                }
            }
        }
        reconciler.rewrittenBefore = RewrittenItemsFile(directory: options.journalDirectory).held(at: target.ledgerName)
        return try reconciler.run()
    }

    /// The size and hash of a message's CRLF form, streamed (any size, no copy), or nil when the archived bytes are
    /// in that form already.
    static func crlfForm(of record: EntryRecord, body: some CheckedItemBody) throws -> RewrittenItem? {
        var form = CRLFForm()
        let hasher = SHA256()
        try body.stream { chunk in form.convert(chunk) { hasher.update($0) } }
        form.finish { hasher.update($0) }
        try body.check()
        guard form.changedLineEndings > 0 else { return nil }
        return RewrittenItem(entry: record.path, sha256: hasher.finalizeHex(), size: form.outputCount, archivedSHA256: record.sha256)
    }
}
