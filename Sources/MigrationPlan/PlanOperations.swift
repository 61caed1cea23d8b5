import Buffer
import BufferSpool
import Connectors
import FerryArchive
import FerryKit
import Foundation
import MailModel
import Receipts
import SystemLayer

/// The steps of the procedure that station A runs. Each checks the user's state first, does its work (through
/// the buffer's control socket, the exporter, the receipts), and records the result in the journal only once the
/// work is done, so a step interrupted by a crash is simply run again.
extension MigrationPlan {
    /// The users named (source or target addresses), or every user when none is named.
    public func indices(_ names: [String]) throws -> [Int] {
        guard !names.isEmpty else { return Array(users.indices) }
        return try names.map { name in
            guard let index = index(of: name) else {
                throw FerryError(.usage, "\(name) is not in the plan (see mailferry plan status)")
            }
            return index
        }
    }

    /// The users in the given group (or all users when `group` is nil) among `names`.
    public func indices(_ names: [String], group: String?) throws -> [Int] {
        try indices(names).filter { group == nil || users[$0].user.group == group }
    }

    // MARK: Preparing and holding

    /// Records that the target accounts exist and may be used.
    public func markPrepared(_ selection: [Int]) throws {
        for i in selection where users[i].state == .planned {
            try record(PlanEvent(at: now(), user: users[i].user.source, state: .prepared))
        }
    }

    /// Puts users in the buffer's migration set; from then on it accepts their mail.
    public func hold(_ selection: [Int]) throws -> [String] {
        let configuration = try bufferConfiguration()
        var done: [String] = []
        for i in selection where users[i].state == .planned || users[i].state == .prepared {
            let user = users[i].user.source
            _ = try control(.hold(user.lowercased()), configuration)
            try record(PlanEvent(at: now(), user: user, state: .held))
            done.append(user)
        }
        return done
    }

    /// Records the operator's switch of the source's forwarding to the buffer (on) or its removal (off), in the
    /// buffer too (its undo checks it).
    public func recordForwarding(_ selection: [Int], on: Bool) throws {
        let configuration = try bufferConfiguration()
        for i in selection {
            let progress = users[i]
            guard progress.state.isHeld || (!on && progress.state == .reverted) else {
                throw FerryError(.usage, "\(progress.user.source) is \(progress.state.rawValue): forwarding is recorded for held users (run plan hold first)")
            }
            do {
                try ReleaseJob.recordForwarding(
                    spoolDirectory: configuration.spoolDirectory, passwordFile: configuration.spoolPasswordFile,
                    user: progress.user.source.lowercased(), on: on)
            } catch {
                throw FerryError.from(error)
            }
            try record(PlanEvent(at: now(), user: progress.user.source, forwarding: on))
        }
    }

    // MARK: Exporting

    public struct ExportResult: Sendable {
        public var archive: ArchiveRecord
        public var summary: ExportSummary
        /// Users whose final archive this is (held, forwarding on); the others got a pass.
        public var final: [String]
        public var passes: [String]
    }

    /// Exports the selected users. Held users whose forwarding is recorded get their final archive (and become
    /// `exported`); planned and prepared users get a pass (a copy that travels ahead, their state unchanged). A held
    /// user whose forwarding is not recorded is refused: mail arriving at the source between the export and the
    /// switch would be in neither the archive nor the buffer.
    ///
    /// A user who already has an archive gets a delta against the last one (`export --since`): only what changed
    /// since travels. Users are grouped by the archive they build on, one archive per group.
    ///
    /// With `volumeSize` each archive is a volume set (`export --volume-size`), recorded with its volumes. A delta of a
    /// volume set is not written in this version: a user whose last archive is a set is refused, before anything is
    /// read, naming it.
    public func export(
        _ selection: [Int], out: String?, signingKey: String?, options: ConnectorOptions, quiet: Bool, volumeSize: Int64? = nil,
        lease: PlanLease? = nil, onWarning: @escaping (SourceProblem) -> Void
    ) throws -> [ExportResult] {
        var final: Set<Int> = []
        var chosen: [Int] = []
        for i in selection {
            let p = users[i]
            switch p.state {
            case .planned, .prepared: chosen.append(i)
            case .held, .exported, .carried, .imported:
                guard p.forwarding == true else {
                    throw FerryError(.usage, "\(p.user.source) is held but the source's forwarding to the buffer is not recorded; switch it, then run mailferry plan forwarding --on for the user")
                }
                final.insert(i)
                chosen.append(i)
            default:
                if selection.count == 1 { throw FerryError(.usage, "\(p.user.source) is \(p.state.rawValue): there is nothing left to export") }
            }
        }
        guard !chosen.isEmpty else { throw FerryError(.usage, "no user in the selection has anything to export (see mailferry plan status)") }
        guard let signingKey = signingKey ?? definition.stationA.signKey else {
            throw FerryError(.usage, "give --sign-key (station A's key), or set it with plan init --sign-key")
        }
        // Users building on the same archive travel together; those with none get a full archive.
        var groups: [(previous: ArchiveRecord?, members: [Int])] = []
        for i in chosen.sorted() {
            let previous = users[i].archives.last
            if let g = groups.firstIndex(where: { $0.previous?.archiveID == previous?.archiveID }) {
                groups[g].members.append(i)
            } else {
                groups.append((previous, [i]))
            }
        }
        if groups.count > 1 && out != nil {
            throw FerryError(.usage, "these users need \(groups.count) archives (they build on different earlier archives); leave out --out, and set the plan's archive folder with plan init --archives")
        }
        var options = options
        if options.credentialsPath == nil { options.credentialsPath = definition.stationA.credentials }
        if options.caFile == nil { options.caFile = definition.stationA.caFile }
        for (previous, members) in groups where previous?.volumes != nil {
            throw FerryError(
                .usage,
                "\(members.map { users[$0].user.source }.joined(separator: ", ")): the last archive, \(previous!.path) (set \(previous!.archiveID)), "
                    + "is a volume set, and a delta of a volume set is not written in this version; nothing was exported. Export "
                    + "the users' passes as single archives (without --volume-size), so that the final archive can be a delta of one")
        }
        var results: [ExportResult] = []
        for (previous, members) in groups {
            if let previous, !FileManager.default.fileExists(atPath: previous.path) {
                throw FerryError(.usage, "\(previous.path) (archive \(previous.archiveID)) is needed to write the delta for \(members.map { users[$0].user.source }.joined(separator: ", ")), but it is not there; put it back (a copy will do)")
            }
            let path = try out ?? defaultArchivePath()
            var exporter = Exporter(
                source: ConnectorSet(try ConnectorURL(parsing: definition.source)), users: members.map { users[$0].user.source },
                signingKeyPath: signingKey, outputPath: path, quiet: quiet, options: options)
            exporter.mapping = definition.mapping
            exporter.since = previous?.path
            exporter.encryptToPaths = definition.stationA.encryptTo ?? []
            exporter.identityPaths = definition.stationA.identities ?? []
            exporter.volumeSize = volumeSize
            let summary = try exporter.run(onWarning: onWarning)
            let fileHash = try Self.fileSHA256(summary.archive)
            let volumes = try summary.volumes?.enumerated().map { n, v in
                VolumeRecord(
                    number: n + 1, file: SystemCall.lastComponent(of: v.path), archiveID: v.archiveID, fileSHA256: try Self.fileSHA256(v.path),
                    size: v.fileSize)
            }
            let stamp = now()
            for i in members {
                let isFinal = final.contains(i)
                let archive = ArchiveRecord(
                    path: summary.archive, archiveID: summary.archiveID, fileSHA256: fileHash, final: isFinal,
                    deltaOf: summary.deltaOf, volumes: volumes)
                try record(
                    PlanEvent(at: stamp, user: users[i].user.source, state: isFinal ? .exported : nil, archive: archive, note: isFinal ? nil : "pass"),
                    lease: lease)
            }
            results.append(ExportResult(
                archive: ArchiveRecord(
                    path: summary.archive, archiveID: summary.archiveID, fileSHA256: fileHash, final: members.contains { final.contains($0) },
                    deltaOf: summary.deltaOf, volumes: volumes),
                summary: summary, final: members.filter { final.contains($0) }.map { users[$0].user.source },
                passes: members.filter { !final.contains($0) }.map { users[$0].user.source }))
        }
        return results
    }

    /// A new archive's path in the archive directory, named by the plan and the time (`at`), with `-2`, `-3`...
    /// when that name is taken in any form the export may write: `.mfa`, `.mfa.age` when encrypting, or a volume set's
    /// `.set`. (Two
    /// exports in one second, a pass and its delta, must never share a name: the second would replace the first.)
    ///
    /// An export worker's archives carry its name too (`-host-1234`), so workers writing into one folder never meet.
    func defaultArchivePath(at date: Date = Date(), worker: String? = nil) throws -> String {
        guard let directory = definition.stationA.archiveDirectory else {
            throw FerryError(.usage, "give --out FILE, or set an archive directory with plan init --archives DIR")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        var base = directory + "/" + definition.planID.prefix(8) + "-" + formatter.string(from: date)
        if let worker {
            base += "-" + String(worker.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" ? $0 : "-" })
        }
        func taken(_ path: String) -> Bool {
            // A volume set of this name: NAME.set beside NAME.001.mfa.
            FileManager.default.fileExists(atPath: path) || FileManager.default.fileExists(atPath: path + ".age")
                || FileManager.default.fileExists(atPath: String(path.dropLast(4)) + ".set")
        }
        var path = base + ".mfa"
        var n = 1
        while taken(path) {
            n += 1
            path = base + "-\(n).mfa"
        }
        return path
    }

    static func fileSHA256(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FerryError(.ioError, "\(path): cannot read the archive")
        }
        defer { try? handle.close() }
        let hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { hasher.update($0) }
        }
        return hasher.finalizeHex()
    }

    // MARK: Carrying

    /// What `plan carried` recorded for one file: an archive, or a volume set's statement or one of its volumes.
    public struct CarriedArchive: Sendable {
        public var path: String
        /// The archive's id; for a set's statement or volume, the set's id.
        public var archiveID: String
        /// The volume's number, when the file is a volume of a set.
        public var volume: Int?
        /// The file is a volume set's statement.
        public var isSetStatement = false
        /// Users whose final archive it is (for a set: the whole set has now left): they became `carried`.
        public var final: [String] = []
        /// Users for whom it is an earlier archive of the chain (a pass, travelling ahead or with the final one), or
        /// whose final set has not left whole yet.
        public var earlier: [String] = []
        /// Users for whom it was recorded as carried before.
        public var already: [String] = []
        /// For a set: what of it has not left yet (volume files, the statement), after this file.
        public var stillMissing: [String] = []
    }

    /// The files `plan carried` was given: each file, and each archive, volume or set statement in a folder given.
    static func carriedFiles(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var directory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &directory) else {
                throw FerryError(.usage, "\(path) does not exist (is the medium mounted?)")
            }
            guard directory.boolValue else {
                files.append(path)
                continue
            }
            let names = try FerryError.io { try SystemCall.listDirectory(path).names }.sorted()
            let found = names.filter { $0.hasSuffix(".mfa") || $0.hasSuffix(".mfa.age") || $0.hasSuffix(".set") }
            guard !found.isEmpty else { throw FerryError(.usage, "\(path) holds no archive, volume or set statement (NAME.mfa, NAME.NNN.mfa, NAME.set)") }
            files += found.map { path.hasSuffix("/") ? path + $0 : path + "/" + $0 }
        }
        return files
    }

    /// Records that archives left station A. Users whose final archive one is become `carried`; an earlier archive
    /// of a user's chain (a first pass) is recorded as carried without changing the user's state: station B needs
    /// it too, before or with the final archive. A volume set leaves file by file: each volume and its statement are
    /// recorded as they are named (or found in a folder named), and the set counts as carried once all of them are.
    /// Each file is recognised by its SHA-256, so a copy on the courier's medium works as well as the original. Every
    /// file named is checked before anything is recorded; in a folder, files that are not the plan's are passed over.
    public func markCarried(archivePaths: [String]) throws -> [CarriedArchive] {
        var found: [(path: String, archive: ArchiveRecord, volume: VolumeRecord?)] = []
        let named = Set(archivePaths)
        for path in try Self.carriedFiles(archivePaths) {
            let hash = try Self.fileSHA256(path)
            let records = users.lazy.flatMap(\.archives)
            if let archive = records.first(where: { $0.fileSHA256 == hash }) {
                found.append((path, archive, nil))
            } else if let (archive, volume) = records.lazy.compactMap({ a in a.volumes?.first { $0.fileSHA256 == hash }.map { (a, $0) } }).first {
                found.append((path, archive, volume))
            } else if named.contains(path) {
                throw FerryError(.usage, "\(path) is not an archive of this plan (no export recorded a file with its SHA-256 \(hash.prefix(16)))")
            }
        }
        guard !found.isEmpty else { throw FerryError(.usage, "\(archivePaths.joined(separator: " ")): no archive of this plan there") }
        var results: [CarriedArchive] = []
        for (path, archive, volume) in found {
            let id = volume?.archiveID ?? archive.archiveID
            var result = CarriedArchive(path: path, archiveID: archive.archiveID, volume: volume?.number, isSetStatement: volume == nil && archive.volumes != nil)
            for i in users.indices where users[i].archives.contains(where: { $0.archiveID == archive.archiveID }) {
                let user = users[i].user.source
                if users[i].carried.contains(id) {
                    result.already.append(user)
                    continue
                }
                var after = users[i]
                after.carried.insert(id)
                if users[i].finalArchive?.archiveID == archive.archiveID, after.isCarried(archive) {
                    let state: PlanState? = users[i].state == .exported ? .carried : nil
                    try record(PlanEvent(at: now(), user: user, state: state, carried: id))
                    result.final.append(user)
                } else {
                    try record(PlanEvent(at: now(), user: user, carried: id))
                    result.earlier.append(user)
                }
            }
            if archive.volumes != nil, let holder = users.first(where: { $0.archives.contains { $0.archiveID == archive.archiveID } }) {
                result.stillMissing = holder.notCarried(archive)
            }
            results.append(result)
        }
        return results
    }

    // MARK: Releasing, closing, undoing

    public struct ReleaseOutcome: Sendable, Codable {
        public var user: String
        public var state: PlanState
        public var delivered: Int
        public var problem: String?
    }

    /// For every user waiting on station B with a receipt in `receipts`: checks the receipt (station B's key,
    /// this user, this user's final archive); a passing one makes the user `reconciled` and releases the held
    /// mail to the target (delivered to the user's target address), then `released`. A failing receipt makes the
    /// user `imported` (see its problems); missing receipts leave users as they are.
    public func release(
        _ selection: [Int], receipts: String?, trust: String?, to target: String?, progress: ((String) -> Void)? = nil
    ) throws -> [ReleaseOutcome] {
        guard let receipts = receipts ?? definition.stationA.receiptsDirectory else {
            throw FerryError(.usage, "give the folder of receipts carried back from station B, or set it with plan init --receipts DIR")
        }
        guard let trust = trust ?? definition.stationA.stationBKey else {
            throw FerryError(.usage, "give --trust (station B's public key), or set it with plan init --station-b-key")
        }
        let key = try PublicKey(pemFile: trust)
        let configuration = try bufferConfiguration()
        var outcomes: [ReleaseOutcome] = []
        for i in selection where [.exported, .carried, .imported, .reconciled].contains(users[i].state) {
            let user = users[i].user
            guard let archive = users[i].finalArchive else { continue }
            let file = receipts + "/" + (try Receipt.fileName(for: user.source))
            if users[i].state != .reconciled {
                guard FileManager.default.fileExists(atPath: file) else { continue }
                let receipt = try Receipt.load(file, trust: key)
                guard receipt.user.lowercased() == user.source.lowercased() else {
                    throw ReceiptError(.wrongUser, path: file, "is for \(receipt.user), not \(user.source)")
                }
                guard receipt.archiveID == archive.archiveID else {
                    // Station B imported an earlier archive of the chain (a pass travelling ahead): the final
                    // archive's receipt has not come back yet.
                    if users[i].chain.contains(where: { $0.archiveID == receipt.archiveID }) { continue }
                    outcomes.append(ReleaseOutcome(user: user.source, state: users[i].state, delivered: 0, problem: "the receipt is for archive \(receipt.archiveID), not the final archive \(archive.archiveID)"))
                    continue
                }
                let record = ReceiptRecord(
                    path: file, archiveID: receipt.archiveID, verdict: receipt.verdict, problems: receipt.problems, counts: receipt.counts)
                if receipt.verdict == .pass {
                    try self.record(PlanEvent(at: now(), user: user.source, state: .reconciled, receipt: record))
                } else {
                    if users[i].state != .imported || users[i].receipt != record {
                        try self.record(PlanEvent(at: now(), user: user.source, state: .imported, receipt: record))
                    }
                    outcomes.append(ReleaseOutcome(user: user.source, state: .imported, delivered: 0, problem: "station B's reconcile failed: " + receipt.problems.prefix(3).joined(separator: "; ")))
                    continue
                }
            }
            let parameters = ReleaseJob.Parameters(
                user: user.source.lowercased(), target: target ?? definition.target,
                receiptPath: users[i].receipt?.path ?? file, trustedKeyPath: trust, archiveID: archive.archiveID,
                undo: false, deliverAs: user.target.lowercased() == user.source.lowercased() ? nil : user.target)
            let response = try control(.release(parameters), configuration)
            guard let report = response.release else {
                outcomes.append(ReleaseOutcome(user: user.source, state: users[i].state, delivered: 0, problem: response.error ?? "the buffer gave no release report"))
                continue
            }
            progress?("\(user.source): \(report.delivered) delivered to \(user.target), \(report.alreadyPresent) already there, \(report.failures.count) not delivered")
            if report.failures.isEmpty && (report.state == .released || report.state == .closed) {
                try record(PlanEvent(at: now(), user: user.source, state: .released))
                outcomes.append(ReleaseOutcome(user: user.source, state: .released, delivered: report.delivered))
            } else {
                let why = report.problem ?? "the buffer left \(user.source) \(report.state.rawValue); run plan release again"
                outcomes.append(ReleaseOutcome(user: user.source, state: users[i].state, delivered: report.delivered, problem: why))
            }
        }
        return outcomes
    }

    /// Ends lingering for released or reverted users (the buffer refuses their mail from then on).
    public func close(_ selection: [Int]) throws {
        let configuration = try bufferConfiguration()
        let buffered = try control(.status, configuration).users ?? []
        for i in selection where users[i].state == .released || users[i].state == .reverted {
            let address = users[i].user.source.lowercased()
            // Closed already when a previous run died before its journal line.
            if buffered.first(where: { $0.user == address })?.state != .closed {
                _ = try control(.close(address), configuration)
            }
            try record(PlanEvent(at: now(), user: users[i].user.source, state: .closed))
        }
    }

    /// The undo branch: releases the held mail back to the source (`to`: where the source takes delivery, such as
    /// lmtp://old-mx:24), after the operator has removed the forwarding to the buffer.
    public func undo(_ selection: [Int], to source: String) throws -> [ReleaseOutcome] {
        let configuration = try bufferConfiguration()
        var outcomes: [ReleaseOutcome] = []
        for i in selection where users[i].state.isHeld {
            let user = users[i].user.source
            guard users[i].forwarding == false else {
                throw FerryError(.usage, "undo for \(user) refused: remove the source's forwarding to the buffer first, then run mailferry plan forwarding --off for the user")
            }
            let parameters = ReleaseJob.Parameters(
                user: user.lowercased(), target: source, receiptPath: nil, trustedKeyPath: nil, archiveID: nil, undo: true)
            let response = try control(.release(parameters), configuration)
            let report = response.release
            if let report, report.failures.isEmpty, report.state == .reverted || report.state == .closed {
                try record(PlanEvent(at: now(), user: user, state: .reverted))
                outcomes.append(ReleaseOutcome(user: user, state: .reverted, delivered: report.delivered))
            } else {
                // Every refusal says why: the report's problem, or what the buffer left the user in.
                let why = report?.problem
                    ?? report.map { "the buffer left \(user) \($0.state.rawValue), not reverted; run plan undo again" }
                    ?? (response.error ?? "the buffer gave no release report; run plan undo again")
                outcomes.append(ReleaseOutcome(user: user, state: users[i].state, delivered: report?.delivered ?? 0, problem: why))
            }
        }
        return outcomes
    }

    // MARK: The buffer

    func bufferConfiguration() throws -> BufferConfiguration {
        guard let path = definition.bufferConfig else {
            throw FerryError(.usage, "the plan names no buffer; it was made without plan init --buffer-config")
        }
        do {
            return try BufferConfiguration.load(path: path)
        } catch {
            throw FerryError(.usage, "\(path): \(error)")
        }
    }

    /// Asks the running buffer (or the spool itself when none runs); a refusal becomes the error it implies.
    func control(_ request: BufferControl.Request, _ configuration: BufferConfiguration) throws -> BufferControl.Response {
        let response: BufferControl.Response
        do {
            response = try BufferControlClient.send(
                request, spoolDirectory: configuration.spoolDirectory, passwordFile: configuration.spoolPasswordFile,
                delivery: configuration.deliveryOptions)
        } catch {
            throw FerryError.from(error)
        }
        guard response.ok else {
            let status = ExitStatus(rawValue: response.exitStatus ?? ExitStatus.ioError.rawValue) ?? .ioError
            throw FerryError(status, response.error ?? "the buffer refused")
        }
        return response
    }
}
