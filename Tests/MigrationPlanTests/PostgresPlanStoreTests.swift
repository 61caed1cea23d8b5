import FerryKit
import Foundation
import MailModel
import Synchronization
import TestSupport
import Testing

@testable import MigrationPlan

/// The plan kept in a real PostgreSQL (`PostgresTestServer`): export workers' claims, leases and their takeover, and
/// state changes from several machines judged on the user's latest state.
@Suite(.serialized, .blocking) struct PostgresPlanStoreTests {
    static let users = (1...40).map { "user\($0)@old.example" }

    final class Setup {
        let server: PostgresTestServer
        let dir: TemporaryDirectory
        init() throws {
            server = try PostgresTestServer(database: "plan")
            dir = try TemporaryDirectory()
            let usersFile = try dir.write("users.csv", PostgresPlanStoreTests.users.joined(separator: "\n") + "\n")
            _ = try MigrationPlan.create(
                directory: dir.file("a"), usersFile: usersFile, source: "dir:" + dir.file("old"),
                target: "dir:" + dir.file("new"),
                bufferConfig: nil, store: PlanStoreSettings(url: server.url))
        }

        /// The plan as a command on another machine opens it: a directory of its own, joined with the URL.
        func machine(_ name: String) throws -> MigrationPlan {
            try MigrationPlan(directory: dir.file(name), store: PlanStoreSettings(url: server.url))
        }

        func store() throws -> PostgresPlanStore {
            try PostgresPlanStore(settings: PlanStoreSettings(url: server.url))
        }
    }

    static func shared(_ plan: MigrationPlan) -> PostgresPlanStore { plan.store as! PostgresPlanStore }

    static func pass(_ user: String, _ id: String) -> PlanEvent {
        PlanEvent(
            at: "2026-12-07T10:00:00Z", user: user,
            archive: ArchiveRecord(
                path: "/srv/\(id).mfa", archiveID: id, fileSHA256: String(repeating: "0", count: 64), final: false),
            note: "pass")
    }

    /// Takes `user` for `worker`, as often as it takes for the lease `holder` has (1 ms long) to be over.
    static func takeOver(_ store: PostgresPlanStore, _ user: String, worker: String) throws -> PlanLease {
        for _ in 0..<10_000 {
            if let (lease, _) = try store.claim(among: [user], worker: worker, milliseconds: 60_000) { return lease }
        }
        throw FixtureError("\(worker) never took \(user) over")
    }

    @Test func twoClaimersAtOnceNeverGetTheSameUser() throws {
        let setup = try Setup()
        let url = setup.server.url
        final class Claims: Sendable {
            let taken = Mutex<[String: [String]]>([:])
            let failures = Mutex<[String]>([])
        }
        let results = Claims()
        let (taken, failures) = (results, results)
        DispatchQueue.concurrentPerform(iterations: 2) { n in
            do {
                let store = try PostgresPlanStore(settings: PlanStoreSettings(url: url))
                var mine: [String] = []
                while let (lease, _) = try store.claim(among: Self.users, worker: "w\(n)", milliseconds: 600_000) {
                    mine.append(lease.user)
                }
                taken.taken.withLock { $0["w\(n)"] = mine }
            } catch {
                failures.failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.failures.withLock { $0 }.isEmpty, "\(failures.failures.withLock { $0 })")
        let claims = taken.taken.withLock { $0 }
        let all = claims.values.flatMap { $0 }
        #expect(all.count == Self.users.count, "every user claimed once: \(claims)")
        #expect(Set(all) == Set(Self.users))
        // While held, nobody else gets any, and status shows who holds what.
        #expect(try setup.store().claim(among: Self.users, worker: "w3", milliseconds: 60_000) == nil)
        let plan = try setup.machine("b")
        for row in plan.status() {
            let holder = claims.first { $0.value.contains(row.user) }?.key
            #expect(
                row.holder == holder && row.leaseExpires != nil && row.next.hasPrefix("export worker \(holder ?? "")"),
                "\(row.user): \(row.holder ?? "-") \(row.next)")
        }
    }

    @Test func anExpiredLeaseLetsAnotherWorkerTakeTheUserAndNamesTheAbandonedArchive() throws {
        let setup = try Setup()
        let (a, b) = (try setup.store(), try setup.store())
        let user = Self.users[0]
        let (first, _) = try #require(try a.claim(among: [user], worker: "a", milliseconds: 1))
        #expect(try a.noteArchive("/srv/a/plan-a.mfa", of: first))
        let second = try Self.takeOver(b, user, worker: "b")
        #expect(second.tookOverFrom == "a" && second.id != first.id)
        // The first worker's lease is gone: it cannot renew it or name another archive.
        #expect(try PostgresPlanStore.renew(first, connections: a.connections) == false)
        #expect(try a.noteArchive("/srv/a/other.mfa", of: first) == false)
        let abandoned = try b.abandoned()[user]
        #expect(
            abandoned?.map(\.path) == ["/srv/a/plan-a.mfa"] && abandoned?.first?.holder == "a"
                && abandoned?.first?.takenBy == "b")
        let row = try #require(try setup.machine("c").status().first { $0.user == user })
        #expect(row.holder == "b" && row.abandoned?.first?.path == "/srv/a/plan-a.mfa")
        // A live lease is not taken.
        #expect(try a.claim(among: [user], worker: "a", milliseconds: 60_000) == nil)
    }

    @Test func aWorkerWhoseLeaseWasTakenOverCannotRecordItsExport() throws {
        let setup = try Setup()
        let (stale, fresh) = (try setup.machine("a"), try setup.machine("b"))
        let user = Self.users[1]
        let (old, _) = try #require(try Self.shared(stale).claim(among: [user], worker: "stale", milliseconds: 1))
        let new = try Self.takeOver(Self.shared(fresh), user, worker: "fresh")
        #expect(throws: PlanLeaseLost.self) { try stale.record(Self.pass(user, "stale-archive"), lease: old) }
        try fresh.record(Self.pass(user, "fresh-archive"), lease: new)
        // Recorded once, the lease ended with it; the user is not exportable any more.
        #expect(throws: PlanLeaseLost.self) { try stale.record(Self.pass(user, "stale-archive"), lease: old) }
        let again = try setup.machine("c")
        let progress = try again.progress(of: user)
        #expect(progress.archives.map(\.archiveID) == ["fresh-archive"])
        #expect(progress.holder == nil)
        #expect(try Self.shared(again).claim(among: [user], worker: "late", milliseconds: 60_000) == nil)
        #expect(try Self.shared(again).secondsUntilALeaseEnds(among: [user]) == nil)
    }

    @Test func aStepIsJudgedOnTheStateAnotherMachineRecorded() throws {
        let setup = try Setup()
        let (a, b) = (try setup.machine("a"), try setup.machine("b"))
        let (user, other) = (Self.users[2], Self.users[3])
        try a.record(PlanEvent(at: "2026-12-07T10:00:00Z", user: user, state: .prepared))
        // b read the plan before: it still thinks the user planned, and learns otherwise under the user's row lock.
        // The same step taken by both is recorded once.
        #expect(try b.progress(of: user).state == .planned)
        try b.record(PlanEvent(at: "2026-12-07T10:00:01Z", user: user, state: .prepared))
        #expect(try b.progress(of: user).state == .prepared)
        #expect(try setup.server.psql("SELECT count(*) FROM plan_event WHERE username = '\(user)'").hasPrefix("1"))
        try b.record(PlanEvent(at: "2026-12-07T10:00:02Z", user: user, state: .held))
        #expect(try setup.machine("c").progress(of: user).state == .held)
        #expect(try a.progress(of: user).state == .prepared, "a has not read since")
        // A step the user's latest state does not allow is refused, and not recorded.
        try a.record(PlanEvent(at: "2026-12-07T10:00:03Z", user: other, state: .held))
        #expect(throws: FerryError.self) {
            try b.record(PlanEvent(at: "2026-12-07T10:00:04Z", user: other, state: .prepared))
        }
        #expect(try b.progress(of: other).state == .held)
        #expect(try setup.machine("d").progress(of: other).state == .held)
        // And a step the latest state allows is taken, though this machine's last reading would not have allowed it.
        let third = Self.users[4]
        try a.record(PlanEvent(at: "2026-12-07T10:00:05Z", user: third, state: .held))
        try a.record(PlanEvent(at: "2026-12-07T10:00:06Z", user: third, state: .exported))
        #expect(try b.progress(of: third).state == .planned)
        try b.record(PlanEvent(at: "2026-12-07T10:00:07Z", user: third, state: .carried))
        #expect(try setup.machine("e").progress(of: third).state == .carried)
    }

    @Test func formatSpecShowsThePlanSchemaVerbatim() throws {
        let spec = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("format-spec/plan-store.md")
        let text = try String(contentsOf: spec, encoding: .utf8)
        let section = try #require(text.range(of: "## 5. Schema versions"))
        let fence = try #require(text.range(of: "```sql\n", range: section.upperBound..<text.endIndex))
        let end = try #require(text.range(of: "```", range: fence.upperBound..<text.endIndex))
        func normalized(_ text: String) -> [String] {
            text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        let code = PostgresPlanStore.schema.migrations.flatMap(\.sql).map { $0 + ";" }.joined(separator: "\n")
        #expect(normalized(String(text[fence.upperBound..<end.lowerBound])) == normalized(code))
    }

    @Test func aJoiningDirectoryRemembersTheStoreAndRefusesAnother() throws {
        let setup = try Setup()
        _ = try setup.machine("b")
        let reopened = try MigrationPlan(directory: setup.dir.file("b"))
        #expect(reopened.isShared && reopened.users.count == Self.users.count)
        #expect(throws: FerryError.self) {
            try MigrationPlan(
                directory: setup.dir.file("b"), store: PlanStoreSettings(url: "postgres://other@127.0.0.1:1/x"))
        }
        // A password in the URL is refused, naming where it goes instead.
        let withPassword = #expect(throws: FerryError.self) {
            try MigrationPlan(
                directory: setup.dir.file("c"), store: PlanStoreSettings(url: "postgres://mf:secret@127.0.0.1/plan"))
        }
        #expect(
            withPassword?.description.contains("--store-password-file") == true
                && withPassword?.description.contains("secret") == false)
        // A second plan in the same database is refused.
        let usersFile = try setup.dir.write("more.csv", "x@old.example\n")
        #expect(throws: FerryError.self) {
            try MigrationPlan.create(
                directory: setup.dir.file("second"), usersFile: usersFile, source: "dir:/x", target: "dir:/y",
                bufferConfig: nil,
                store: PlanStoreSettings(url: setup.server.url))
        }
    }
}
