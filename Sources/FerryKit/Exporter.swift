import Connectors
import FerryArchive
import Foundation
import MailModel
import Reporting

/// `export`: reads users from a source and writes one signed archive.
public struct Exporter {
    public var source: ConnectorSet
    public var users: [String]
    public var signingKeyPath: String
    public var outputPath: String
    public var station: String
    public var quiet: Bool
    public var options: ConnectorOptions
    /// Target addresses for users the migration renames; recorded in the archive for the importer.
    public var mapping = UserMapping()
    /// What the export will carry, when known beforehand (`--estimate`): the progress display then shows a bar.
    public var expectedTotals: (items: Int, bytes: Int64)?
    /// `--since PREVIOUS.mfa`: write a delta against that archive, whose signature is checked with `trustedKeyPath`
    /// (or the public half of the signing key).
    public var since: String?
    public var trustedKeyPath: String?
    /// `--encrypt-to`: age recipient files (`KEY.age.pub`); the archive is encrypted to every key in them as it is
    /// written, and named `NAME.mfa.age` (`writtenPath`).
    public var encryptToPaths: [String] = []
    /// `--identity`: age identity files that open an encrypted `since` archive.
    public var identityPaths: [String] = []
    /// Users read at once (`ParallelExport`); 1 reads one after another.
    public var jobs: Int
    /// With jobs > 1: bytes the users read ahead of the archive may hold in read-ahead files next to it, together.
    public var readAheadLimit: Int64

    /// `--volume-size`: write a volume set of volumes of at most this many bytes (`VolumeSetWriter`) instead of one
    /// archive: `NAME.001.mfa`, `NAME.002.mfa`, ... and the signed set statement `NAME.set`.
    public var volumeSize: Int64?

    /// Default for `readAheadLimit`.
    public static let defaultReadAheadLimit: Int64 = 1 << 30

    public init(
        source: ConnectorSet, users: [String], signingKeyPath: String, outputPath: String, station: String? = nil,
        quiet: Bool, options: ConnectorOptions = ConnectorOptions(), jobs: Int = 1, readAheadLimit: Int64 = Exporter.defaultReadAheadLimit
    ) {
        self.source = source
        self.users = users
        self.signingKeyPath = signingKeyPath
        self.outputPath = outputPath
        self.station = station ?? ProcessInfo.processInfo.hostName
        self.quiet = quiet
        self.options = options
        self.jobs = jobs
        self.readAheadLimit = readAheadLimit
    }

    public func run(onWarning: @escaping (SourceProblem) -> Void) throws -> ExportSummary {
        let started = Date()
        let key = try SigningKey(pemFile: signingKeyPath)
        let (reader, selected) = try Self.openSource(source, users: users, options: options, purpose: "export")
        let identities = try AgeKeyFile.identities(files: identityPaths)
        let previous = try since.map { try DeltaBase.load(path: $0, trustedKeyPath: trustedKeyPath, signingKey: key, identities: identities) }
        var archiveOptions = ArchiveOptions(station: station, tool: MailFerryVersion.tool)
        archiveOptions.renamedUsers = mapping.renamedPairs
        archiveOptions.encryptTo = try encryptToPaths.flatMap { try AgeKeyFile.recipients($0) }
        if let previous {
            archiveOptions.sequence = previous.header.sequence + 1
            archiveOptions.deltaOf = previous.header.archiveID
        }
        if let volumeSize {
            return try writeVolumeSet(
                volumeSize, selected: selected, from: reader, key: key, options: archiveOptions, previous: previous, started: started,
                onWarning: onWarning)
        }
        let writer = try ArchiveWriter(path: writtenPath, signingKey: key, options: archiveOptions)
        writer.targetAddresses = mapping.byLowercasedSource
        let delta = previous.map { DeltaSink(writer: writer, previous: $0) }
        let progress = ProgressReporter(label: "export", quiet: quiet, totalItems: expectedTotals?.items, totalBytes: expectedTotals?.bytes)
        let written: WrittenArchive
        do {
            if let delta {
                // A delta compares each user with the previous archive as it goes: one user after another.
                writer.onItem = { progress.update(items: $0, bytes: $1) }
                writer.onWarning = onWarning
                for user in selected { try reader.read(user: user, into: delta) }
            } else {
                try write(selected, from: reader, into: writer, progress: progress, onWarning: onWarning)
            }
            written = try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
        progress.finish()
        return ExportSummary(
            archive: written.path, archiveID: written.header.archiveID, signerKeyID: written.header.signerKeyID,
            users: selected.map(\.address), totals: written.header.totals, fileSize: written.fileSize, frames: written.frames,
            warnings: written.warnings, seconds: Date().timeIntervalSince(started), deltaOf: written.header.deltaOf,
            sequence: written.header.sequence, changes: delta?.counts)
    }

    /// A volume set: one user after another into `VolumeSetWriter`, which starts a new volume when the next item (or a
    /// delta's change line) would not fit. A delta (`previous`) goes through `DeltaSink` into it, as into one archive:
    /// every volume is then a delta of the same base, with the same sequence. Parallel jobs are not written as volume
    /// sets (refused before anything is read).
    private func writeVolumeSet(
        _ volumeSize: Int64, selected: [UserInfo], from reader: any MailboxSource, key: SigningKey, options: ArchiveOptions,
        previous: PreviousState?, started: Date, onWarning: @escaping (SourceProblem) -> Void
    ) throws -> ExportSummary {
        let writer = try VolumeSetWriter(base: volumeBase, volumeSize: volumeSize, signingKey: key, options: options)
        writer.targetAddresses = mapping.byLowercasedSource
        let progress = ProgressReporter(label: "export", quiet: quiet, totalItems: expectedTotals?.items, totalBytes: expectedTotals?.bytes)
        writer.onItem = { progress.update(items: $0, bytes: $1) }
        writer.onWarning = onWarning
        let delta = previous.map { DeltaSink(writer: writer, previous: $0) }
        let written: WrittenVolumeSet
        do {
            for user in selected { try reader.read(user: user, into: delta ?? writer) }
            written = try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
        progress.finish()
        var totals = Counts()
        for v in written.volumes { totals += v.header.totals }
        var summary = ExportSummary(
            archive: written.statementPath, archiveID: written.statement.setID, signerKeyID: written.statement.signerKeyID,
            users: selected.map(\.address), totals: totals, fileSize: written.volumes.reduce(0) { $0 + $1.fileSize },
            frames: written.volumes.reduce(0) { $0 + $1.frames }, warnings: written.volumes.flatMap(\.warnings),
            seconds: Date().timeIntervalSince(started), deltaOf: options.deltaOf, sequence: options.sequence, changes: delta?.counts)
        summary.volumes = written.volumes.map { .init(path: $0.path, archiveID: $0.header.archiveID, fileSize: $0.fileSize) }
        return summary
    }

    /// `DIR/NAME` of the output path `DIR/NAME.mfa` (or `DIR/NAME`, `DIR/NAME.mfa.age`): volumes are `DIR/NAME.001.mfa`...
    public var volumeBase: String {
        var base = Substring(outputPath)
        if base.hasSuffix(".age") { base = base.dropLast(4) }
        if base.hasSuffix(".mfa") { base = base.dropLast(4) }
        return String(base)
    }

    /// The file the export writes: `outputPath`, with `.age` added when it is encrypted (format-spec 13.2).
    public var writtenPath: String {
        encryptToPaths.isEmpty || outputPath.hasSuffix(".age") ? outputPath : outputPath + ".age"
    }

    private func write(
        _ selected: [UserInfo], from reader: any MailboxSource, into writer: ArchiveWriter, progress: ProgressReporter,
        onWarning: @escaping (SourceProblem) -> Void
    ) throws {
        if jobs > 1 && selected.count > 1 {
            try ParallelExport(
                source: source, sourceUsers: users, options: options, users: selected, jobs: jobs, readAheadLimit: readAheadLimit,
                writer: writer, progress: progress, onWarning: onWarning
            ).run()
        } else {
            writer.onItem = { progress.update(items: $0, bytes: $1) }
            writer.onWarning = onWarning
            for user in selected {
                try reader.read(user: user, into: writer)
            }
        }
    }
}

extension Exporter {
    /// Opens the source and picks the users: those named (each must be there), or all the source lists.
    static func openSource(
        _ source: ConnectorSet, users: [String], options: ConnectorOptions, forInventory: Bool = false, purpose: String
    ) throws -> (any MailboxSource, [UserInfo]) {
        if !source.listsUsers && users.isEmpty {
            throw FerryError(.usage, "\(source) cannot list its users: name them with --user ADDRESS or --users FILE")
        }
        let reader = try source.source(users: users, options: options, forInventory: forInventory)
        let available = try reader.users()
        let selected: [UserInfo]
        if users.isEmpty || source.holdsOneUser {
            selected = available
        } else {
            let known = Set(available.map(\.address))
            if let missing = users.first(where: { !known.contains($0) }) {
                throw FerryError(.usage, "\(source): no user \(missing) (the source holds \(available.map(\.address).joined(separator: ", ")))")
            }
            selected = users.map { UserInfo(address: $0) }
        }
        guard !selected.isEmpty else { throw FerryError(.usage, "\(source) holds no users to \(purpose)") }
        return (reader, selected)
    }
}
