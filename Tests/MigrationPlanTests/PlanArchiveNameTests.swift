import Foundation
import Testing
import TestSupport
@testable import MigrationPlan

/// Station A's archives are named by the plan and the second they are written. A pass and its delta written in one
/// second must not share a name in either form the export writes (`.mfa`, or `.mfa.age` when encrypted): the
/// second would replace the first, and station B would get the delta without its base.
struct PlanArchiveNameTests {
    @Test(arguments: ["", ".age"]) func aNameTakenInTheSameSecondIsNotGivenAgain(written suffix: String) throws {
        let dir = try TemporaryDirectory()
        let usersFile = try dir.write("users.csv", "source,target,group\nalice@old.example,,sales\n")
        let plan = try MigrationPlan.create(
            directory: dir.file("plan"), usersFile: usersFile, source: "dir:" + dir.file("old"), target: "dir:" + dir.file("new"),
            bufferConfig: nil, stationA: StationSettings(archiveDirectory: dir.file("archives")))
        let second = Date(timeIntervalSince1970: 1_796_000_000)
        let first = try plan.defaultArchivePath(at: second)
        #expect(try plan.defaultArchivePath(at: second) == first)  // nothing written yet: the same name
        try dir.write("archives/" + (first as NSString).lastPathComponent + suffix, "written")
        let next = try plan.defaultArchivePath(at: second)
        #expect(next != first)
        #expect(next.hasSuffix("-2.mfa"), "\(next)")
        try dir.write("archives/" + (next as NSString).lastPathComponent + suffix, "written")
        #expect(try plan.defaultArchivePath(at: second).hasSuffix("-3.mfa"))
    }
}
