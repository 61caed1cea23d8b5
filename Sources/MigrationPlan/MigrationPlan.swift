import Connectors
import FerryArchive
import FerryKit
import Foundation
import MailModel
import SystemLayer

/// A migration of many users from one system to another through station A (source, buffer, export) and station
/// B (import, reconcile, receipts): the plan's directory on station A holds `plan.json` (what was decided at
/// `plan init`) and `journal.jsonl` (what happened since, per user). Every command that changes a user appends
/// an event and syncs it before it reports, so after a crash the same command run again goes on from there.
///
/// Kept in PostgreSQL (`plan init --store postgres://...`), the definition and the events are in the database
/// (`PostgresPlanStore`) and the directory holds only `store.json`, which names it, and the archives: several
/// station-A machines then work on the plan at once (`plan export --worker`).
public final class MigrationPlan {
    /// One user's progress, replayed from the journal.
    public struct Progress: Sendable, Equatable {
        public var user: MigrationUser
        public var state: PlanState = .planned
        /// The operator's last record of the source's forwarding to the buffer (nil: never recorded).
        public var forwarding: Bool?
        /// Every archive that holds the user, oldest first.
        public var archives: [ArchiveRecord] = []
        public var receipt: ReceiptRecord?
        /// When the state last changed (ISO 8601 UTC).
        public var since: String
        public var note: String?

        /// The export worker holding the user now (a plan kept in PostgreSQL), and when its lease ends unless renewed.
        public var holder: String?
        public var leaseExpires: String?
        /// Archives of workers that lost the user's lease: not the user's, to be deleted.
        public var abandoned: [PlanAbandonedArchive] = []

        /// The archives (by id) recorded as carried to station B; for a volume set, the set's id (its statement) and
        /// each volume's archive id, one by one.
        public var carried: Set<String> = []

        /// Whether `archive` left whole: one archive; a set's statement and every volume.
        public func isCarried(_ archive: ArchiveRecord) -> Bool {
            carried.contains(archive.archiveID) && (archive.volumes ?? []).allSatisfy { carried.contains($0.archiveID) }
        }

        /// What of `archive` has not left yet: the files (paths), for a set its volumes and its statement.
        public func notCarried(_ archive: ArchiveRecord) -> [String] {
            guard let volumes = archive.volumes else { return carried.contains(archive.archiveID) ? [] : [archive.path] }
            return volumes.filter { !carried.contains($0.archiveID) }.map { archive.path(of: $0) }
                + (carried.contains(archive.archiveID) ? [] : [archive.path])
        }

        /// The archive the release waits for: the last one made while the user was held.
        public var finalArchive: ArchiveRecord? { archives.last(where: \.final) }

        /// What station B imports for the user, oldest first: the final archive (before it exists, the last pass)
        /// and every archive it builds on, back to a full one. A delta is refused without its base, so a first pass
        /// travels in the chain with the final archive.
        public var chain: [ArchiveRecord] {
            guard var last = finalArchive ?? archives.last else { return [] }
            var chain = [last]
            while chain.count < archives.count, let base = last.deltaOf,
                let earlier = archives.last(where: { $0.archiveID == base })
            {
                chain.insert(earlier, at: 0)
                last = earlier
            }
            return chain
        }
    }

    public static let definitionFile = "plan.json"

    public let directory: String
    public let definition: PlanDefinition
    let store: any PlanStore
    /// In the order of the users file.
    public private(set) var users: [Progress]
    /// Events this process recorded under an export worker's lease (for a test's kill point).
    private var leasedRecords = 0

    /// Encrypted archives: a delta reads the archive it builds on, so station A must be able to open what it writes: one
    /// of its identities must belong to one of the recipients.
    static func checkEncryption(_ stationA: StationSettings) throws {
        let recipientFiles = stationA.encryptTo ?? [], identityFiles = stationA.identities ?? []
        guard !recipientFiles.isEmpty || !identityFiles.isEmpty else { return }
        guard !recipientFiles.isEmpty else { throw FerryError(.usage, "--identity is for reading archives encrypted with --encrypt-to; give --encrypt-to too") }
        let recipients = Set(try recipientFiles.flatMap { try AgeKeyFile.recipients($0) })
        let identities = try AgeKeyFile.identities(files: identityFiles)
        guard identities.contains(where: { recipients.contains($0.recipient) }) else {
            throw FerryError(.usage, "the plan's archives are encrypted, and a delta reads the archive before it: give --identity with a key of station A's own (an escrow key) and add its public half to --encrypt-to")
        }
    }

    /// Writes a new plan into `directory` (created if missing; it must not hold a plan already).
    public static func create(
        directory: String, usersFile: String, source: String, target: String, bufferConfig: String?,
        stationA: StationSettings = StationSettings(), store: PlanStoreSettings = PlanStoreSettings(), now: Date = Date()
    ) throws -> MigrationPlan {
        let users = try MigrationUsersFile.read(path: usersFile)
        _ = try ConnectorURL(parsing: source)
        _ = try ConnectorURL(parsing: target)
        if let bufferConfig, !FileManager.default.isReadableFile(atPath: bufferConfig) {
            throw FerryError(.usage, "\(bufferConfig): the buffer's configuration cannot be read")
        }
        try checkEncryption(stationA)
        let path = directory + "/" + definitionFile
        if FileManager.default.fileExists(atPath: path) || FileManager.default.fileExists(atPath: directory + "/" + PlanStorePointer.fileName) {
            throw FerryError(.usage, "\(directory) already holds a plan (\(definitionFile) or \(PlanStorePointer.fileName)); use plan status, or another directory")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw FerryError(.ioError, "\(directory): cannot create the plan's directory: \(error.localizedDescription)")
        }
        let definition = PlanDefinition(
            planID: UUID().uuidString.lowercased(), created: Self.stamp(now), source: source, target: target,
            bufferConfig: bufferConfig.map(Self.absolute),
            stationA: StationSettings(
                signKey: stationA.signKey.map(Self.absolute), archiveDirectory: stationA.archiveDirectory.map(Self.absolute),
                stationBKey: stationA.stationBKey.map(Self.absolute),
                receiptsDirectory: stationA.receiptsDirectory.map(Self.absolute),
                credentials: stationA.credentials.map(Self.absolute), caFile: stationA.caFile.map(Self.absolute),
                encryptTo: stationA.encryptTo.map { $0.map(Self.absolute) }, identities: stationA.identities.map { $0.map(Self.absolute) }),
            users: users)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        if store.url != nil {
            // The definition goes into the database; the directory names it (store.json).
            let shared = try PostgresPlanStore(settings: store)
            try shared.create(definition, bytes: try encoder.encode(definition))
            try PlanStorePointer(url: shared.url.description, passwordFile: store.passwordFile.map(Self.absolute), planID: definition.planID)
                .write(directory: directory)
            return try MigrationPlan(directory: directory)
        }
        try FerryError.io { try AtomicReplace.write(Array(try encoder.encode(definition)) + [10], to: path, mode: 0o644) }
        return try MigrationPlan(directory: directory)
    }

    /// Opens the plan in `directory` and replays its events: from its journal file (taking the plan's lock), or, when
    /// the directory's `store.json` names a PostgreSQL database, from there. `store.url` joins such a plan from
    /// another machine: it writes `store.json` into the directory (created if missing).
    public init(directory: String, store settings: PlanStoreSettings = PlanStoreSettings()) throws {
        self.directory = directory
        let path = directory + "/" + Self.definitionFile
        var pointer = try PlanStorePointer.read(directory: directory)
        var joining: PostgresPlanStore?
        if let url = settings.url {
            if FileManager.default.fileExists(atPath: path) {
                throw FerryError(.usage, "\(directory) holds a plan kept in its journal file (\(Self.definitionFile)); --store is for plans kept in PostgreSQL")
            }
            let named = try PostgresPlanStore.parse(url)
            if let pointer, pointer.url != named.description {
                throw FerryError(.usage, "\(directory) belongs to the plan in \(pointer.url), not \(named); use another directory")
            }
            let shared = try PostgresPlanStore(url: named, passwordFile: settings.passwordFile ?? pointer?.passwordFile)
            if pointer == nil {
                guard let data = try shared.definition() else {
                    throw FerryError(.usage, "\(shared.url) holds no plan; start one with mailferry plan init --store \(shared.url)")
                }
                let planID = try Self.decodeDefinition(data, from: shared.location).planID
                let joined = PlanStorePointer(url: shared.url.description, passwordFile: settings.passwordFile.map(Self.absolute), planID: planID)
                try joined.write(directory: directory)
                pointer = joined
            }
            joining = shared
        }
        if let pointer {
            let shared = try joining ?? PostgresPlanStore(
                settings: PlanStoreSettings(url: pointer.url, passwordFile: settings.passwordFile ?? pointer.passwordFile))
            guard let data = try shared.definition() else {
                throw FerryError(.ioError, "\(shared.location) holds no plan, but \(directory)/\(PlanStorePointer.fileName) names plan \(pointer.planID) there; restore the database, or start again with plan init")
            }
            definition = try Self.decodeDefinition(data, from: shared.location)
            guard definition.planID == pointer.planID else {
                throw FerryError(.usage, "\(shared.location) holds plan \(definition.planID), not plan \(pointer.planID) that \(directory)/\(PlanStorePointer.fileName) names")
            }
            store = shared
        } else {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw FerryError(.usage, "\(directory) holds no plan (\(Self.definitionFile) is missing); start one with mailferry plan init")
            }
            definition = try Self.decodeDefinition(data, from: path)
            store = try PlanJournal(directory: directory)
        }
        let created = definition.created
        users = definition.users.map { Progress(user: $0, since: created) }
        for event in try store.readEvents() {
            guard let index = index(of: event.user) else {
                throw FerryError(.ioError, "\(store.location): an event names \(event.user), who is not in the plan")
            }
            Self.apply(event, to: &users[index])
        }
        try loadLeases()
    }

    static func decodeDefinition(_ data: Data, from place: String) throws -> PlanDefinition {
        let definition: PlanDefinition
        do {
            definition = try JSONDecoder().decode(PlanDefinition.self, from: data)
        } catch {
            throw FerryError(.ioError, "\(place): not a MailFerry plan (\(error))")
        }
        guard definition.format == PlanDefinition.formatName, definition.version == 1 else {
            throw FerryError(.ioError, "\(place): format \(definition.format) version \(definition.version) is not a plan this program reads")
        }
        return definition
    }

    /// Applies events another machine recorded for the user at `index` (read with a claim).
    func apply(_ events: [PlanEvent], toUserAt index: Int) {
        for event in events { Self.apply(event, to: &users[index]) }
    }

    /// Whether the plan is kept in PostgreSQL (several station-A machines) rather than in its journal file.
    public var isShared: Bool { store is PostgresPlanStore }

    /// Reads again who holds which user, and the abandoned archives (a plan kept in PostgreSQL).
    public func loadLeases() throws {
        guard let shared = store as? PostgresPlanStore else { return }
        let leases = try shared.leases()
        let abandoned = try shared.abandoned()
        for i in users.indices {
            let name = users[i].user.source
            users[i].holder = leases[name]?.holder
            users[i].leaseExpires = leases[name]?.expires
            users[i].abandoned = abandoned[name] ?? []
        }
    }

    /// The position of a user (by source or target address, in any case).
    public func index(of address: String) -> Int? {
        let wanted = address.lowercased()
        return users.firstIndex { $0.user.source.lowercased() == wanted || $0.user.target.lowercased() == wanted }
    }

    public func progress(of address: String) throws -> Progress {
        guard let index = index(of: address) else {
            throw FerryError(.usage, "\(address) is not in the plan (it holds \(users.count) users; see plan status)")
        }
        return users[index]
    }

    /// Records an event, refusing a state change the procedure does not allow.
    public func record(_ event: PlanEvent) throws {
        try record(event, lease: nil)
    }

    /// Records an event; with `lease`, an export worker's, only while the lease is still the worker's (and ending it).
    func record(_ event: PlanEvent, lease: PlanLease?) throws {
        guard let index = index(of: event.user) else {
            throw FerryError(.usage, "\(event.user) is not in the plan")
        }
        func check(_ from: PlanState) throws {
            guard let state = event.state, !from.next.contains(state) else { return }
            throw FerryError(
                .usage,
                "\(users[index].user.source) is \(from.rawValue); it cannot become \(state.rawValue) (from \(from.rawValue) the plan goes on to \(from.next.map(\.rawValue).sorted().joined(separator: ", ").nonEmpty ?? "nothing: the user is done"))")
        }
        // The journal file is the only writer while its lock is held: its state is the latest. A plan kept in
        // PostgreSQL judges the change on the user's latest state, in the append below.
        if !isShared { try check(users[index].state) }
        var event = event
        event.user = users[index].user.source
        let environment = ProcessInfo.processInfo.environment
        if let state = event.state, environment["MAILFERRY_TEST_KILL_BEFORE_RECORDING"] == state.rawValue {
            // Tests: die the hardest way between a step's work and its journal line, the worst moment for a crash.
            kill(getpid(), SIGKILL)
        }
        if lease != nil {
            leasedRecords += 1
            if environment["MAILFERRY_TEST_KILL_WORKER_AT"] == String(leasedRecords) {
                // Tests: an export worker dies with its Nth user's archive written and its lease held.
                kill(getpid(), SIGKILL)
            }
            if environment["MAILFERRY_TEST_STOP_WORKER_AT"] == String(leasedRecords) {
                // Tests: an export worker stands still there (its lease not renewed) until it is continued (SIGCONT),
                // as a machine that froze would: by then another worker may have taken the user over.
                kill(getpid(), SIGSTOP)
            }
        }
        // Others may have moved the user on since this process read the plan (a plan kept in PostgreSQL): their
        // events come first, and the change is judged again on the user's latest state. Where another machine took
        // the same step meanwhile (two plan next holding the same user), the step is done: nothing is recorded twice.
        do {
            try store.append(event, lease: lease) { newer in
                for earlier in newer { Self.apply(earlier, to: &users[index]) }
                if !newer.isEmpty, let state = event.state, users[index].state == state, !state.next.contains(state) {
                    throw DoneElsewhere()
                }
                try check(users[index].state)
            }
        } catch is DoneElsewhere {
            return
        }
        Self.apply(event, to: &users[index])
    }

    /// The step was recorded by another machine since this one read the user.
    private struct DoneElsewhere: Error {}

    static func apply(_ event: PlanEvent, to progress: inout Progress) {
        if let state = event.state {
            progress.state = state
            progress.since = event.at
        }
        if let forwarding = event.forwarding { progress.forwarding = forwarding }
        if let archive = event.archive { progress.archives.append(archive) }
        if let carried = event.carried { progress.carried.insert(carried) }
        // Journals written before events named the archive carried: the state says the final one was.
        if event.state == .carried, let final = progress.finalArchive { progress.carried.insert(final.archiveID) }
        if let receipt = event.receipt { progress.receipt = receipt }
        if event.state != nil || event.note != nil { progress.note = event.note }
    }

    static func stamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    func now() -> String { Self.stamp() }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
