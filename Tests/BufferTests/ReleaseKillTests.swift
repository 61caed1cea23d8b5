import TestSupport
import BufferSpool
import Foundation
import Testing

@testable import Buffer

#if canImport(Glibc)
import Glibc
#endif

/// The built `mailferry` binary, killed with SIGKILL in the middle of a release and run again.
@Suite(.blocking) struct ReleaseKillTests {
    static let binary = BuiltBinary.path

    @Test func killDashNineDuringReleaseThenRerunDeliversEachMessageExactlyOnce() throws {
        let fx = try ReleaseFixture()
        let count = 300
        try fx.hold(count)
        try fx.receipt()
        let config = fx.file("buffer.toml")
        try """
            [lmtp]
            listen = "127.0.0.1:2424"
            [buffer]
            spool = "\(fx.spoolDirectory)"
            namespace = "buffer.example.com"

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let target = fx.file("target")
        let arguments = [
            "buffer", "release", "--config", config, "--user", ReleaseFixture.user, "--to", "maildir:" + target,
            "--receipt", fx.file("receipts"), "--trust", fx.publicPath, "--json",
        ]
        let first = Process()
        first.executableURL = URL(fileURLWithPath: Self.binary)
        first.arguments = arguments
        first.standardOutput = FileHandle.nullDevice
        first.standardError = FileHandle.nullDevice
        try first.run()
        // Kill it once some, but not all, messages are at the target.
        let deadline = Date().addingTimeInterval(60)
        while first.isRunning && Date() < deadline {
            if (try? maildirMessages(target).count) ?? 0 >= 40 { break }
            usleep(5_000)
        }
        kill(first.processIdentifier, SIGKILL)
        while first.isRunning { usleep(10_000) }
        let atKill = try maildirMessages(target).count
        #expect(atKill > 0 && atKill < count, "killed after \(atKill) of \(count) messages: make the test kill earlier")

        let second = Process()
        second.executableURL = URL(fileURLWithPath: Self.binary)
        second.arguments = arguments
        let out = Pipe()
        second.standardOutput = out
        second.standardError = FileHandle.nullDevice
        try second.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        second.waitUntilExit()
        #expect(second.terminationStatus == 0)
        let report = try JSONDecoder().decode(ReleaseReport.self, from: data)
        #expect(report.state == .released)
        #expect(report.delivered + report.alreadyPresent == count - (atKill - report.alreadyPresent))
        #expect(report.alreadyPresent <= 1, "at most the message in flight at the kill is found at the target")

        let files = try maildirMessages(target)
        #expect(files.count == count)
        let byBytes = Dictionary(grouping: files, by: \.bytes)
        for (_, bytes) in fx.held { #expect(byBytes[bytes]?.count == 1) }
    }
}
