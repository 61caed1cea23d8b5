import FerryArchive
import Foundation
import MailModel

/// What `export` did.
public struct ExportSummary: Codable, Sendable {
    public var archive: String
    public var archiveID: String
    public var signerKeyID: String
    public var users: [String]
    public var totals: Counts
    public var fileSize: Int64
    public var frames: Int
    public var warnings: [SourceProblem]
    public var seconds: Double
}

/// `export`: reads users from a source and writes one signed archive.
public struct Exporter {
    public var source: ConnectorURL
    public var users: [String]
    public var signingKeyPath: String
    public var outputPath: String
    public var station: String
    public var quiet: Bool
    public var options: ConnectorOptions
    /// Users read at once (`ParallelExport`); 1 reads one after another.
    public var jobs: Int
    /// With jobs > 1: bytes the users read ahead of the archive may spool next to it, together.
    public var spoolLimit: Int64

    /// Default for `spoolLimit`.
    public static let defaultSpoolLimit: Int64 = 1 << 30

    public init(
        source: ConnectorURL, users: [String], signingKeyPath: String, outputPath: String, station: String? = nil,
        quiet: Bool, options: ConnectorOptions = ConnectorOptions(), jobs: Int = 1, spoolLimit: Int64 = Exporter.defaultSpoolLimit
    ) {
        self.source = source
        self.users = users
        self.signingKeyPath = signingKeyPath
        self.outputPath = outputPath
        self.station = station ?? ProcessInfo.processInfo.hostName
        self.quiet = quiet
        self.options = options
        self.jobs = jobs
        self.spoolLimit = spoolLimit
    }

    public func run(onWarning: @escaping (SourceProblem) -> Void) throws -> ExportSummary {
        let started = Date()
        let key = try SigningKey(pemFile: signingKeyPath)
        if !source.listsUsers && users.isEmpty {
            throw FerryError(.usage, "\(source) cannot list its users: name them with --user ADDRESS or --users FILE")
        }
        let reader = try source.source(users: users, options: options)
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
        guard !selected.isEmpty else { throw FerryError(.usage, "\(source) holds no users to export") }
        let writer = try ArchiveWriter(path: outputPath, signingKey: key, options: ArchiveOptions(station: station, tool: MailFerryVersion.tool))
        let progress = ProgressReporter(label: "export", quiet: quiet)
        let written: WrittenArchive
        do {
            try write(selected, from: reader, into: writer, progress: progress, onWarning: onWarning)
            written = try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
        progress.finish()
        return ExportSummary(
            archive: written.path, archiveID: written.header.archiveID, signerKeyID: written.header.signerKeyID,
            users: selected.map(\.address), totals: written.header.totals, fileSize: written.fileSize, frames: written.frames,
            warnings: written.warnings, seconds: Date().timeIntervalSince(started))
    }

    private func write(
        _ selected: [UserInfo], from reader: any MailboxSource, into writer: ArchiveWriter, progress: ProgressReporter,
        onWarning: @escaping (SourceProblem) -> Void
    ) throws {
        if jobs > 1 && selected.count > 1 {
            try ParallelExport(
                source: source, sourceUsers: users, options: options, users: selected, jobs: jobs, spoolLimit: spoolLimit,
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

public enum MailFerryVersion {
    public static let version = "0.1.0"
    public static let tool = "mailferry \(version)"
}
