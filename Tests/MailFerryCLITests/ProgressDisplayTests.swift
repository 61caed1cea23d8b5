import Foundation
import Testing
import TestSupport

/// The progress display as people see it: on a terminal (a pseudo-terminal made by util-linux `script`) one line
/// rewritten in place with a bar, share and item total from the manifest; through a pipe plain lines only.
@Suite(.serialized, .blocking) struct ProgressDisplayTests {
    /// Runs the binary on a pseudo-terminal and returns everything it wrote there.
    static func onTerminal(_ arguments: [String], _ work: Workspace) throws -> (status: Int32, output: String) {
        let command = ([CLI.binary] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        // -q: no banner; -e: the command's exit status; -c: the command; the typescript goes to a file of ours.
        process.arguments = ["-q", "-e", "-c", command, work.file("typescript")]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let text = try String(decoding: Data(contentsOf: URL(fileURLWithPath: work.file("typescript"))), as: UTF8.self)
        return (process.terminationStatus, text)
    }

    @Test func exportImportAndVerifyShowABarOnATerminalAndPlainLinesOtherwise() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "util-linux script is missing")
        let work = try Workspace()
        #expect(try CLI.run(["keygen", "--out", work.file("a")]).status == 0)
        let store = try work.sampleStore()
        let archive = work.file("s.mfa")

        let export = try Self.onTerminal(["export", "--source", "dir:" + store, "--sign-key", work.file("a.key.pem"), "--out", archive], work)
        #expect(export.status == 0, "\(export.output)")
        #expect(export.output.contains("\r\u{1B}[Kexport"), "\(export.output)")
        #expect(export.output.contains("\r\u{1B}[Kexport: 29 items, "))

        // With --estimate first, the export knows its total too and shows a bar.
        let estimated = try Self.onTerminal(["export", "--source", "dir:" + store, "--estimate", "--sign-key", work.file("a.key.pem"), "--out", work.file("e.mfa")], work)
        #expect(estimated.status == 0, "\(estimated.output)")
        #expect(estimated.output.contains("at the source: 29 items"), "\(estimated.output)")
        #expect(estimated.output.contains("\r\u{1B}[Kexport ["), "\(estimated.output)")
        #expect(estimated.output.contains("/29 items"))

        let verify = try Self.onTerminal(["verify", archive, "--trust", work.file("a.pub.pem")], work)
        #expect(verify.status == 0, "\(verify.output)")
        // The first entry is shown at once, with the manifest's total: a bar, a share, N/29 items and time left.
        #expect(verify.output.contains("\r\u{1B}[Kverify ["), "\(verify.output)")
        #expect(verify.output.contains("/29 items"))
        #expect(verify.output.contains(" left"))
        #expect(verify.output.contains("\r\u{1B}[Kverify: 29 items, "))

        let imported = try Self.onTerminal(["import", archive, "--trust", work.file("a.pub.pem"), "--target", "dir:" + work.file("t")], work)
        #expect(imported.status == 0, "\(imported.output)")
        #expect(imported.output.contains("\r\u{1B}[Kimport ["), "\(imported.output)")
        #expect(imported.output.contains("/29 items"))
        #expect(imported.output.contains("\r\u{1B}[Kimport: 29 items, "))

        // Through a pipe: no escape sequences, no carriage returns, the final line only (a short run).
        let piped = try CLI.run(["verify", archive, "--trust", work.file("a.pub.pem")])
        #expect(piped.status == 0)
        #expect(!piped.stderr.contains("\r") && !piped.stderr.contains("\u{1B}"))
        #expect(piped.stderr.hasPrefix("verify: 29 items, "), "\(piped.stderr)")
        // --json is quiet.
        let json = try CLI.run(["verify", archive, "--trust", work.file("a.pub.pem"), "--json"])
        #expect(json.stderr.isEmpty, "\(json.stderr)")
    }
}
