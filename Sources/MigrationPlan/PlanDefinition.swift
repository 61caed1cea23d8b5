import FerryArchive
import FerryKit
import Foundation
import Receipts
import Reporting
import SystemLayer

/// What `plan init` fixes for the whole migration: `plan.json` in the plan's directory, written once.
public struct PlanDefinition: Codable, Sendable, Equatable {
    public static let formatName = "mailferry-plan"
    public var format = PlanDefinition.formatName
    public var version = 1
    public var planID: String
    /// ISO 8601 UTC.
    public var created: String
    /// The source and target connector URLs (`imaps://old.example`, `dir:/srv/new`).
    public var source: String
    public var target: String
    /// The buffer's configuration file (absolute), for hold, release, close and undo.
    public var bufferConfig: String?
    /// Station A's settings, so that `plan export`, `plan release` and `plan next` need no more arguments:
    /// station A's signing key, where archives are written, station B's public key (for receipts) and where the
    /// receipts carried back from station B are put.
    public var stationA: StationSettings
    /// Every user, in the order of the users file, with the address at the target.
    public var users: [MigrationUser]

    public init(
        planID: String, created: String, source: String, target: String, bufferConfig: String?,
        stationA: StationSettings, users: [MigrationUser]
    ) {
        self.planID = planID
        self.created = created
        self.source = source
        self.target = target
        self.bufferConfig = bufferConfig
        self.stationA = stationA
        self.users = users
    }

    /// The user mapping the archives carry.
    public var mapping: UserMapping { UserMapping(users.map { ($0.source, $0.target) }) }
}

/// One line of the plan's journal: something that happened to one user.
public struct PlanEvent: Codable, Sendable, Equatable {
    /// ISO 8601 UTC.
    public var at: String
    /// The user's source address.
    public var user: String
    /// The state the user moved to, when the event moves it.
    public var state: PlanState?
    /// The operator recorded the source's forwarding to the buffer as switched on (true) or removed (false).
    public var forwarding: Bool?
    /// An archive holding the user was written.
    public var archive: ArchiveRecord?
    /// The id of an archive holding the user that left station A (`plan carried`).
    public var carried: String?
    /// Station B's receipt for the user was checked.
    public var receipt: ReceiptRecord?
    public var note: String?

    public init(
        at: String, user: String, state: PlanState? = nil, forwarding: Bool? = nil, archive: ArchiveRecord? = nil,
        carried: String? = nil, receipt: ReceiptRecord? = nil, note: String? = nil
    ) {
        self.at = at
        self.user = user
        self.state = state
        self.forwarding = forwarding
        self.archive = archive
        self.carried = carried
        self.receipt = receipt
        self.note = note
    }
}

/// An archive the plan wrote.
public struct ArchiveRecord: Codable, Sendable, Equatable {
    public var path: String
    public var archiveID: String
    /// SHA-256 of the whole file, to recognise it when it is said to be carried.
    public var fileSHA256: String
    /// Made while the user was held: the pass that the release waits for.
    public var final: Bool
    public var deltaOf: String?
    /// For a volume set (`plan export --volume-size`): its volumes, in order. `path` is then the set statement
    /// (`NAME.set`), `archiveID` the set's id and `fileSHA256` the statement file's hash. Absent for one archive.
    public var volumes: [VolumeRecord]?

    public init(path: String, archiveID: String, fileSHA256: String, final: Bool, deltaOf: String? = nil, volumes: [VolumeRecord]? = nil) {
        self.path = path
        self.archiveID = archiveID
        self.fileSHA256 = fileSHA256
        self.final = final
        self.deltaOf = deltaOf
        self.volumes = volumes
    }

    /// The volume file `volume` beside the set statement.
    public func path(of volume: VolumeRecord) -> String {
        SystemCall.parentDirectory(of: path) + "/" + volume.file
    }
}

/// One volume of a volume set the plan wrote, recognised by its file's SHA-256 when it is said to be carried.
public struct VolumeRecord: Codable, Sendable, Equatable {
    public var number: Int
    /// The file's name (`NAME.001.mfa`), beside the set statement.
    public var file: String
    public var archiveID: String
    public var fileSHA256: String
    public var size: Int64

    public init(number: Int, file: String, archiveID: String, fileSHA256: String, size: Int64) {
        self.number = number
        self.file = file
        self.archiveID = archiveID
        self.fileSHA256 = fileSHA256
        self.size = size
    }
}

/// What station B's receipt for a user said.
public struct ReceiptRecord: Codable, Sendable, Equatable {
    public var path: String
    public var archiveID: String
    public var verdict: ReconcileReport.Verdict
    public var problems: [String]
    /// What the receipt counts, per kind (messages, contacts, events, tasks, Sieve scripts), in the archive and at the
    /// target; absent in journals written before it was recorded.
    public var counts: ReceiptCounts?

    public init(path: String, archiveID: String, verdict: ReconcileReport.Verdict, problems: [String], counts: ReceiptCounts? = nil) {
        self.path = path
        self.archiveID = archiveID
        self.verdict = verdict
        self.problems = problems
        self.counts = counts
    }
}

/// Paths on station A (absolute), each optional: a command given none of its own falls back to these.
public struct StationSettings: Codable, Sendable, Equatable {
    public var signKey: String?
    public var archiveDirectory: String?
    public var stationBKey: String?
    public var receiptsDirectory: String?
    /// IMAP credentials for the source, and the CA that signs its certificate when it is a private one.
    public var credentials: String?
    public var caFile: String?
    /// Age recipient files every archive is encrypted to (station B's, and a key of station A's own), and station A's
    /// age identity files, which open its earlier archives when a delta builds on one. Absent in older plans.
    public var encryptTo: [String]?
    public var identities: [String]?

    public init(
        signKey: String? = nil, archiveDirectory: String? = nil, stationBKey: String? = nil,
        receiptsDirectory: String? = nil, credentials: String? = nil, caFile: String? = nil,
        encryptTo: [String]? = nil, identities: [String]? = nil
    ) {
        self.encryptTo = encryptTo
        self.identities = identities
        self.caFile = caFile
        self.signKey = signKey
        self.archiveDirectory = archiveDirectory
        self.stationBKey = stationBKey
        self.receiptsDirectory = receiptsDirectory
        self.credentials = credentials
    }
}
