import FerryKit
import Foundation
import Testing
import TestSupport
@testable import MigrationPlan

/// The plan's memory is its journal: every user's state is what replaying `journal.jsonl` gives, after any crash.
/// These tests write events through the plan, damage the journal the ways a crash or a disk can, and open the plan
/// again as the next command would.
struct PlanJournalReplayTests {
    static let users = "source,target,group\nalice@old.example,alice@new.example,sales\nbob@old.example,,sales\ncarol@old.example,carol@new.example,\n"

    /// A plan with three users in a fresh folder, and `steps` recorded through it; the plan is closed (its lock
    /// released) when this returns, as when a command ends.
    static func makePlan(_ steps: (MigrationPlan) throws -> Void = { _ in }) throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        let usersFile = try dir.write("users.csv", users)
        let plan = try MigrationPlan.create(
            directory: dir.file("plan"), usersFile: usersFile, source: "dir:" + dir.file("old"), target: "dir:" + dir.file("new"),
            bufferConfig: nil)
        try steps(plan)
        return dir
    }

    static func open(_ dir: TemporaryDirectory) throws -> MigrationPlan { try MigrationPlan(directory: dir.file("plan")) }

    static func event(_ user: String, _ state: PlanState? = nil, archive: ArchiveRecord? = nil, carried: String? = nil) -> PlanEvent {
        PlanEvent(at: "2026-12-06T10:00:00Z", user: user, state: state, archive: archive, carried: carried)
    }

    static func archive(_ id: String, final: Bool, deltaOf: String? = nil) -> ArchiveRecord {
        ArchiveRecord(path: "/media/usb/\(id).mfa", archiveID: id, fileSHA256: String(repeating: "0", count: 64), final: final, deltaOf: deltaOf)
    }

    /// The steps of one user's procedure up to the carried archive, as the commands record them.
    static func recordUpToCarried(_ plan: MigrationPlan, _ user: String) throws {
        try plan.record(event(user, .prepared))
        try plan.record(event(user, .held))
        try plan.record(event(user, archive: archive("pass1", final: false)))
        try plan.record(event(user, .exported, archive: archive("final1", final: true, deltaOf: "pass1")))
        try plan.record(event(user, .carried, carried: "final1"))
    }

    @Test func reopeningReplaysEveryUsersStateAndArchives() throws {
        var before: [MigrationPlan.Progress] = []
        let dir = try Self.makePlan { plan in
            try Self.recordUpToCarried(plan, "alice@old.example")
            try plan.record(Self.event("bob@old.example", .prepared))
            before = plan.users
        }
        let again = try Self.open(dir)
        #expect(again.users == before)
        let alice = try again.progress(of: "ALICE@new.example")
        #expect(alice.state == .carried)
        #expect(alice.chain.map(\.archiveID) == ["pass1", "final1"])
        #expect(alice.carried == ["final1"])
        #expect(try again.progress(of: "bob@old.example").state == .prepared)
        #expect(try again.progress(of: "carol@old.example").state == .planned)
    }

    @Test func aTornLastLineIsCutAndTheNextEventStartsClean() throws {
        let dir = try Self.makePlan { try $0.record(Self.event("alice@old.example", .prepared)) }
        let journal = dir.file("plan/journal.jsonl")
        // A crash in the middle of writing the next line.
        let handle = try #require(FileHandle(forWritingAtPath: journal))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"at":"2026-12-06T10:00:00Z","state":"he"#.utf8))
        try handle.close()
        do {
            let again = try Self.open(dir)
            #expect(try again.progress(of: "alice@old.example").state == .prepared)
            try again.record(Self.event("alice@old.example", .held))
        }
        let lines = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(try Self.open(dir).progress(of: "alice@old.example").state == .held)
    }

    @Test func aDamagedLineBeforeTheEndIsRefusedNamingTheLine() throws {
        let dir = try Self.makePlan { plan in
            try plan.record(Self.event("alice@old.example", .prepared))
            try plan.record(Self.event("bob@old.example", .prepared))
        }
        let journal = dir.file("plan/journal.jsonl")
        var lines = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[0] = "not json"
        try (lines.joined(separator: "\n") + "\n").write(toFile: journal, atomically: false, encoding: .utf8)
        let error = #expect(throws: (any Error).self) { try Self.open(dir) }
        let text = "\(error.map { "\($0)" } ?? "")"
        #expect(text.contains("journal.jsonl") && text.contains("line 1"), "\(text)")
    }

    @Test func anEventForAUserNotInThePlanIsRefused() throws {
        let dir = try Self.makePlan()
        try (#"{"at":"2026-12-06T10:00:00Z","state":"prepared","user":"mallory@old.example"}"# + "\n")
            .write(toFile: dir.file("plan/journal.jsonl"), atomically: false, encoding: .utf8)
        let error = #expect(throws: (any Error).self) { try Self.open(dir) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("mallory@old.example"))
    }

    @Test func aStepTheProcedureDoesNotAllowIsRefusedAndNotJournalled() throws {
        let dir = try Self.makePlan { plan in
            let error = #expect(throws: (any Error).self) { try plan.record(Self.event("alice@old.example", .released)) }
            #expect("\(error.map { "\($0)" } ?? "")".contains("cannot become released"))
        }
        #expect(try String(contentsOfFile: dir.file("plan/journal.jsonl"), encoding: .utf8).isEmpty)
        #expect(try Self.open(dir).progress(of: "alice@old.example").state == .planned)
    }

    @Test func aSecondCommandOnTheSamePlanIsRefusedWhileTheFirstHoldsIt() throws {
        _ = try Self.makePlan { plan in
            let error = #expect(throws: (any Error).self) { try MigrationPlan(directory: plan.directory) }
            #expect("\(error.map { "\($0)" } ?? "")".contains("another mailferry plan command"))
        }
    }

    /// Journals written before `carried` events named the archive: the carried state alone says the final archive
    /// left station A.
    @Test func anOlderJournalsCarriedStateStillMarksTheFinalArchiveCarried() throws {
        let dir = try Self.makePlan { plan in
            try plan.record(Self.event("alice@old.example", .held))
            try plan.record(Self.event("alice@old.example", .exported, archive: Self.archive("final1", final: true)))
            try plan.record(Self.event("alice@old.example", .carried))
        }
        #expect(try Self.open(dir).progress(of: "alice@old.example").carried == ["final1"])
    }
}
