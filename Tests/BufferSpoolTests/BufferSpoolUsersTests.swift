import Foundation
import Testing

@testable import BufferSpool

@Suite struct BufferSpoolUsersTests {
    @Test func migrationSetAndStatesPersistAcrossReopening() throws {
        let temp = TemporarySpool()
        do {
            let spool = try temp.open()
            try spool.hold(user: "alice")
            try spool.hold(user: "bob")
            try spool.hold(user: "carol")
            try spool.unhold(user: "carol")
            try spool.beginRelease(user: "bob", to: ReleaseTarget(direction: .target, address: "lmtp://new:24"))
            #expect(spool.acceptsMail(for: "alice"))
            #expect(spool.acceptsMail(for: "bob"))
            #expect(!spool.acceptsMail(for: "carol"))
            #expect(!spool.acceptsMail(for: "dave"))
            try spool.close()
        }
        let spool = try temp.open()
        #expect(try spool.migrationSet() == ["alice", "bob"])
        #expect(spool.acceptsMail(for: "alice"))
        #expect(spool.acceptsMail(for: "bob"))
        #expect(!spool.acceptsMail(for: "carol"))
        let status = Dictionary(uniqueKeysWithValues: try spool.status().map { ($0.user, $0) })
        #expect(status["alice"]?.state == .holding)
        #expect(status["bob"]?.state == .releasing)
        #expect(status["bob"]?.releaseTarget == ReleaseTarget(direction: .target, address: "lmtp://new:24"))
        #expect(status["carol"]?.state == .holding)
        #expect(status["carol"]?.inMigrationSet == false)
        // Changed at run time, no restart: carol comes back.
        try spool.hold(user: "carol")
        #expect(spool.acceptsMail(for: "carol"))
        let events = try spool.database.read { db in
            try String.fetchAll(db, sql: "SELECT event FROM user_event WHERE user = 'carol' ORDER BY id")
        }
        #expect(events == ["hold", "unhold", "hold"])
    }

    @Test func statusCountsBytesAndArrivals() throws {
        let temp = TemporarySpool()
        let spool = try temp.open()
        try spool.hold(user: "alice")
        try spool.hold(user: "bob")
        try spool.hold(user: "empty")
        let first = try store(spool, envelope(["alice"]), sampleMessage(1, size: 100))
        let second = try store(spool, envelope(["alice", "bob"]), sampleMessage(2, size: 250))
        // Two addresses of alice in one message count once.
        let third = try store(
            spool,
            Envelope(
                sender: "",
                recipients: [
                    Recipient(address: "alice@example.test", user: "alice"),
                    Recipient(address: "a.alias@example.test", user: "alice"),
                ]), sampleMessage(3, size: 1000))
        try spool.close()

        let reopened = try temp.open()
        let alice = try #require(try reopened.status(user: "alice"))
        #expect(alice.heldCount == 3)
        #expect(alice.heldBytes == 1350)
        #expect(alice.oldestArrival == first.receivedAt)
        #expect(alice.newestArrival == third.receivedAt)
        let bob = try #require(try reopened.status(user: "bob"))
        #expect(bob.heldCount == 1)
        #expect(bob.heldBytes == 250)
        #expect(bob.oldestArrival == second.receivedAt)
        let empty = try #require(try reopened.status(user: "empty"))
        #expect(empty.heldCount == 0)
        #expect(empty.heldBytes == 0)
        #expect(empty.oldestArrival == nil)
        #expect(try reopened.status(user: "nobody") == nil)
        #expect(try reopened.status().map(\.user) == ["alice", "bob", "empty"])
        // Status is Codable for `buffer status --json`.
        let json = try JSONEncoder().encode(try reopened.status())
        #expect(try JSONDecoder().decode([UserStatus].self, from: json) == (try reopened.status()))
    }

    @Test func stateMachineRefusesInvalidTransitions() throws {
        let temp = TemporarySpool()
        let spool = try temp.open()
        let target = ReleaseTarget(direction: .target, address: "imap://new")
        #expect(throws: SpoolError.unknownUser(user: "alice")) { try spool.unhold(user: "alice") }
        try spool.hold(user: "alice")
        #expect(throws: SpoolError.invalidTransition(user: "alice", from: .holding, to: .closed)) {
            try spool.close(user: "alice")
        }
        #expect(throws: SpoolError.invalidTransition(user: "alice", from: .holding, to: .released)) {
            try spool.finishRelease(user: "alice")
        }
        try spool.beginRelease(user: "alice", to: target)
        try spool.beginRelease(user: "alice", to: target)  // a restarted releaser
        let other = ReleaseTarget(direction: .source, address: "imap://old")
        #expect(throws: SpoolError.releaseTargetConflict(user: "alice", recorded: target, requested: other)) {
            try spool.beginRelease(user: "alice", to: other)
        }
        #expect(try spool.finishRelease(user: "alice") == .released)
        #expect(spool.acceptsMail(for: "alice"), "a released user lingers: mail in transit is still accepted")
        try spool.close(user: "alice")
        #expect(!spool.acceptsMail(for: "alice"))
        #expect(try spool.status(user: "alice")?.state == .closed)
        #expect(try spool.migrationSet().isEmpty)
        // A new holding period.
        try spool.hold(user: "alice")
        #expect(try spool.status(user: "alice")?.state == .holding)
        #expect(try spool.status(user: "alice")?.releaseTarget == nil)
    }
}
