import FerryArchive
import Foundation
import Receipts
import Reporting

/// The whole plan as one report: every user's state and, for those whose receipt came back, station B's reconcile
/// of the user's final archive (read from the `<archive id>.report.json` that `plan import` writes beside the
/// receipts).
public struct PlanReport: Codable, Sendable {
    public struct User: Codable, Sendable {
        public var status: PlanStatusRow
        /// Station B's reconcile of the user's final archive, when its report is in the receipts folder.
        public var reconcile: ReconcileReport.UserReport?
        public var reconciledArchive: String?
    }

    public var planID: String
    public var source: String
    public var target: String
    public var created: String
    public var users: [User]
}

extension MigrationPlan {
    /// The plan's report as data and as a page for people. `receipts` defaults to the plan's receipts folder.
    public func report(receipts: String? = nil) throws -> (PlanReport, ReportPage) {
        let folder = receipts ?? definition.stationA.receiptsDirectory
        let key = try definition.stationA.stationBKey.map { try PublicKey(pemFile: $0) }
        var loaded: [String: ReconcileReport] = [:]
        func reconcileReport(_ archiveID: String) -> ReconcileReport? {
            if let known = loaded[archiveID] { return known }
            guard let folder, let data = FileManager.default.contents(atPath: folder + "/" + archiveID + ".report.json"),
                let report = try? JSONDecoder().decode(ReconcileReport.self, from: data), report.archiveID == archiveID
            else { return nil }
            loaded[archiveID] = report
            return report
        }
        var rows: [PlanReport.User] = []
        var pageUsers: [ReportPage.User] = []
        for (progress, row) in zip(users, status()) {
            var entry = PlanReport.User(status: row)
            if let receipt = progress.receipt, let report = reconcileReport(receipt.archiveID),
                let user = report.users.first(where: { $0.address.lowercased() == progress.user.source.lowercased() })
            {
                entry.reconcile = user
                entry.reconciledArchive = receipt.archiveID
                // The receipt's signature is checked again when station B's key is known.
                let signer = (try? Receipt.load(receipt.path, trust: key))?.signerKeyID ?? "not checked"
                let refused = Set(user.containers.flatMap(\.refused))
                pageUsers.append(ReportPage.User(
                    report: user, archive: progress.finalArchive?.path ?? report.archive, archiveID: report.archiveID,
                    target: report.target, badItems: report.imported?.badItems.filter { refused.contains($0.entry) } ?? [],
                    receipt: ReportPage.ReceiptStatus(path: receipt.path, verdict: receipt.verdict, signerKeyID: signer)))
            }
            rows.append(entry)
        }
        let byState = Dictionary(grouping: users, by: \.state)
        var facts = [
            ReportPage.Fact("Plan", definition.planID),
            ReportPage.Fact("From", definition.source),
            ReportPage.Fact("To", definition.target),
            ReportPage.Fact("Users", "\(users.count): " + PlanState.allCases.compactMap { s in byState[s].map { "\(s.rawValue) \($0.count)" } }.joined(separator: ", ")),
        ]
        let waiting = rows.filter { $0.reconcile == nil }.map(\.status)
        if !waiting.isEmpty {
            let listed = waiting.prefix(50).map { "\($0.user) (\($0.state.rawValue), waits on \($0.waitingOn.rawValue))" }
            facts.append(ReportPage.Fact("Not reconciled yet", listed.joined(separator: "; ") + (waiting.count > 50 ? "; and \(waiting.count - 50) more" : "")))
        }
        let abandoned = users.flatMap { p in
            p.abandoned.compactMap { a in a.path.map { "\(p.user.source): \($0) (worker \(a.holder), taken over by \(a.takenBy))" } }
        }
        if !abandoned.isEmpty {
            facts.append(ReportPage.Fact("Abandoned archives (not recorded: delete them)", abandoned.prefix(50).joined(separator: "; ")))
        }
        let renamed = users.filter { $0.user.source.lowercased() != $0.user.target.lowercased() }
        if !renamed.isEmpty {
            facts.append(ReportPage.Fact("Renamed at the target", renamed.prefix(50).map { "\($0.user.source) → \($0.user.target)" }.joined(separator: "; ")))
        }
        let stamp = MigrationPlan.stamp()
        let data = PlanReport(planID: definition.planID, source: definition.source, target: definition.target, created: stamp, users: rows)
        let page = ReportPage(title: "Migration plan \(definition.planID.prefix(8)): \(stamp)", summary: facts, users: pageUsers)
        return (data, page)
    }
}
