import Buffer
import BufferSpool
import Foundation
import Testing

/// What a restart does with the configuration's `hold` list: it adds users new to the spool and leaves the
/// users the spool knows as the operator left them.
@Suite struct BufferRestartTests {
    @Test func theHoldListDoesNotReholdUsersTheSpoolKnows() async throws {
        let directory = try LiveBuffer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spoolDirectory = directory + "/spool"
        let first = try await BufferServer.start(
            LiveBuffer.configuration(spool: spoolDirectory, hold: ["alice@example.com", "bob@example.com", "dave@example.com"]))
        do {
            let spool = first.spool
            // alice: released (nothing held) and closed; bob: taken out of the migration set; dave: holding.
            try spool.beginRelease(user: "alice@example.com", to: ReleaseTarget(direction: .target, address: "dir:/nowhere"))
            #expect(try spool.finishRelease(user: "alice@example.com") == .released)
            try spool.close(user: "alice@example.com")
            try spool.unhold(user: "bob@example.com")
        } catch {
            await first.shutdown()
            throw error
        }
        await first.shutdown()

        // The same hold list plus a user new to the spool.
        let second = try await LiveBuffer.startAfterClose(
            LiveBuffer.configuration(
                spool: spoolDirectory, hold: ["alice@example.com", "bob@example.com", "dave@example.com", "Carol@Example.com"]))
        let users: [String: UserStatus]
        do {
            users = Dictionary(uniqueKeysWithValues: try second.spool.status().map { ($0.user, $0) })
        } catch {
            await second.shutdown()
            throw error
        }
        #expect(users["alice@example.com"]?.state == .closed)
        #expect(users["alice@example.com"]?.inMigrationSet == false)
        #expect(users["bob@example.com"]?.state == .holding)
        #expect(users["bob@example.com"]?.inMigrationSet == false)
        #expect(users["dave@example.com"]?.state == .holding)
        #expect(users["dave@example.com"]?.inMigrationSet == true)
        #expect(users["carol@example.com"]?.state == .holding)
        #expect(users["carol@example.com"]?.inMigrationSet == true)
        #expect(!second.spool.acceptsMail(for: "alice@example.com"))
        #expect(!second.spool.acceptsMail(for: "bob@example.com"))
        #expect(second.spool.acceptsMail(for: "carol@example.com"))
        await second.shutdown()
    }
}
