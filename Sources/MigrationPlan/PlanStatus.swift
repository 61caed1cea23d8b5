import FerryArchive
import Foundation
import SystemLayer

/// Who the next step of a user waits on.
public enum PlanActor: String, Codable, Sendable {
    /// A command station A runs (`plan next` runs it).
    case stationA = "station A"
    /// Station B: import, reconcile, receipts.
    case stationB = "station B"
    /// Someone carrying media between the stations.
    case courier
    /// A person: switching forwarding at the source, deciding on undo, ending lingering.
    case `operator`
    /// The user is done.
    case nobody
}

/// One line of `plan status`.
public struct PlanStatusRow: Codable, Sendable, Equatable {
    public var user: String
    public var target: String
    public var group: String?
    public var state: PlanState
    public var since: String
    public var forwarding: String
    public var archives: Int
    public var finalArchive: String?
    /// What station B imports for the user, oldest first: the final archive (or, before it, the last pass) and
    /// every archive it builds on back to a full one.
    public var chain: [ChainArchive]
    public var receipt: String?
    /// What station B's receipt says the target holds for the user, per kind; nil before a receipt came back.
    public var held: Counts?
    public var waitingOn: PlanActor
    public var next: String
    /// A plan kept in PostgreSQL: the export worker holding the user now, and when its lease ends unless renewed
    /// (ISO 8601 UTC, the database's clock). Absent when no worker holds the user.
    public var holder: String?
    public var leaseExpires: String?
    /// Archives of workers that lost the user's lease (another worker took the user over): not the user's; delete
    /// them. Absent when there are none.
    public var abandoned: [PlanAbandonedArchive]?

    public struct ChainArchive: Codable, Sendable, Equatable {
        public var path: String
        public var archiveID: String
        public var deltaOf: String?
        public var final: Bool
        /// Recorded as carried to station B (`plan carried`); for a volume set, its statement and every volume.
        public var carried: Bool
        /// For a volume set: each volume, and whether it is recorded as carried; `path` is the set statement.
        public var volumes: [ChainVolume]?
        /// For a volume set: whether its statement (`path`) is recorded as carried.
        public var statementCarried: Bool?

        /// For people: a volume set's volumes station B has (`2 of 3 volumes: missing NAME.003.mfa`), or nil.
        public var volumesCarried: String? {
            guard let volumes else { return nil }
            let missing = volumes.filter { !$0.carried }.map(\.file)
                + (statementCarried == true ? [] : [SystemCall.lastComponent(of: path)])
            return "\(volumes.filter(\.carried).count) of \(volumes.count) volumes"
                + (missing.isEmpty ? "" : ": missing \(missing.joined(separator: ", "))")
        }
    }

    public struct ChainVolume: Codable, Sendable, Equatable {
        public var number: Int
        public var file: String
        public var archiveID: String
        public var carried: Bool
    }
}

extension MigrationPlan {
    /// Every user's state, what it waits on and the command that moves it on.
    public func status() -> [PlanStatusRow] {
        users.map { p in
            let (actor, next) = nextStep(p)
            return PlanStatusRow(
                user: p.user.source, target: p.user.target, group: p.user.group, state: p.state, since: p.since,
                forwarding: p.forwarding.map { $0 ? "on" : "off" } ?? "-", archives: p.archives.count,
                finalArchive: p.finalArchive?.archiveID,
                chain: p.chain.map { a in
                    PlanStatusRow.ChainArchive(
                        path: a.path, archiveID: a.archiveID, deltaOf: a.deltaOf, final: a.final, carried: p.isCarried(a),
                        volumes: a.volumes?.map {
                            PlanStatusRow.ChainVolume(number: $0.number, file: $0.file, archiveID: $0.archiveID, carried: p.carried.contains($0.archiveID))
                        },
                        statementCarried: a.volumes == nil ? nil : p.carried.contains(a.archiveID))
                },
                receipt: p.receipt.map { $0.verdict.rawValue }, held: p.receipt?.counts?.target, waitingOn: actor, next: next,
                holder: p.holder, leaseExpires: p.leaseExpires, abandoned: p.abandoned.isEmpty ? nil : p.abandoned)
        }
    }

    func nextStep(_ p: Progress) -> (PlanActor, String) {
        let plan = "--plan \(directory)"
        let user = "--user \(p.user.source)"
        if let holder = p.holder {
            return (.stationA, "export worker \(holder) is exporting \(p.user.source) (lease until \(p.leaseExpires ?? "-")); if it died, another worker takes the user once the lease has expired: mailferry plan export \(plan) --worker")
        }
        switch p.state {
        case .planned:
            return (.operator, "create the target account, then: mailferry plan prepared \(plan) \(user) (or plan hold to start holding mail)")
        case .prepared:
            return (.stationA, "mailferry plan hold \(plan) \(user)")
        case .held where p.forwarding != true:
            return (.operator, "make the source forward \(p.user.source)'s new mail to the buffer, then: mailferry plan forwarding \(plan) \(user) --on")
        case .held:
            return (.stationA, "mailferry plan export \(plan) \(user)")
        case .exported:
            // Every archive of the chain that has not left yet: station B refuses a delta without its base.
            // For a volume set, the volumes (and its statement) not carried yet.
            let waiting = p.chain.flatMap { p.notCarried($0) }
            let files = waiting.isEmpty ? [p.finalArchive?.path ?? "ARCHIVE"] : waiting
            return (.courier, "carry \(files.joined(separator: " and ")) to station B, then: mailferry plan carried \(plan) \(files.joined(separator: " "))")
        case .carried:
            return (.stationB, stationBCommand(for: p) + "; carry \(receiptsFolder) back to station A, then: mailferry plan next \(plan)")
        case .imported:
            let why = p.receipt?.problems.prefix(2).joined(separator: "; ") ?? ""
            return (.operator, "station B's reconcile failed (\(why)); import again at station B (\(stationBCommand(for: p))), or undo: mailferry plan forwarding \(plan) \(user) --off, then mailferry plan undo \(plan) \(user) --to SOURCE")
        case .reconciled:
            return (.stationA, "mailferry plan release \(plan) \(user)")
        case .released:
            return (.operator, "when late mail has stopped arriving at the buffer: mailferry plan close \(plan) \(user); then clean the source up")
        case .reverted:
            return (.operator, "mailferry plan close \(plan) \(user)")
        case .closed:
            return (.nobody, "done")
        }
    }

    /// Station B's command for a user: every archive of the user's chain (station B applies them in chain order
    /// whatever order they are named in, and skips those it has imported already). A server target needs station B's
    /// credentials, which station A does not know: a placeholder names the option (so for station B's age key, when
    /// the archives are encrypted).
    public func stationBCommand(for p: Progress) -> String {
        let files = p.chain.map(\.path)
        let server = definition.target.hasPrefix("imap://") || definition.target.hasPrefix("imaps://")
        return "mailferry plan import \(files.isEmpty ? "ARCHIVE" : files.joined(separator: " ")) --target \(definition.target) --trust A.pub.pem --sign-key B.key.pem --receipts \(receiptsFolder)"
            + (server ? " --credentials B-CREDENTIALS.tsv" : "")
            + (definition.stationA.encryptTo?.isEmpty == false ? " --identity B.age.key" : "")
    }

    var receiptsFolder: String { definition.stationA.receiptsDirectory ?? "RECEIPTS" }
}
