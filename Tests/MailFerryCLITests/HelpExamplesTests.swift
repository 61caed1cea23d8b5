import Foundation
import Testing
import TestSupport

/// The README says every command has `--help` with examples: each command's help shows at least one example line
/// that runs that very command, and `buffer release --to` names every target the release accepts.
@Suite(.blocking) struct HelpExamplesTests {
    static let commands: [[String]] = [
        ["keygen"], ["export"], ["inspect"], ["verify"], ["import"], ["reconcile"], ["copy"],
        ["buffer", "serve"], ["buffer", "status"], ["buffer", "hold"], ["buffer", "release"], ["buffer", "forwarding"],
        ["buffer", "close"],
        ["plan", "init"], ["plan", "status"], ["plan", "next"], ["plan", "prepared"], ["plan", "hold"], ["plan", "forwarding"],
        ["plan", "export"], ["plan", "carried"], ["plan", "import"], ["plan", "release"], ["plan", "close"], ["plan", "undo"],
        ["plan", "report"],
    ]

    @Test(arguments: commands) func everyCommandsHelpHasAnExampleOfIt(_ command: [String]) throws {
        let help = try CLI.run(command + ["--help"])
        #expect(help.status == 0, "\(help.stderr)")
        let example = "  mailferry " + command.joined(separator: " ") + " "
        #expect(help.stdout.contains(example), "no example line \"\(example)\" in:\n\(help.stdout)")
    }

    @Test func releaseHelpNamesEveryTargetItAccepts() throws {
        let help = try CLI.run(["buffer", "release", "--help"]).stdout.replacingOccurrences(of: "\n", with: " ")
            .split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        let option = try #require(help.range(of: "--to <to> Where to:").map { String(help[$0.upperBound...].prefix(260)) })
        for target in ["dir:PATH", "maildir:PATH", "imap://HOST", "imaps://HOST", "lmtp://HOST", "lmtp:/"] {
            #expect(option.contains(target), "--to help lacks \(target): \(option)")
        }
        #expect(help.contains("read again for each release"), "the [imap] reload is documented: \(help)")
    }
}
