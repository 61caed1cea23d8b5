import Foundation
import Testing
import TestSupport

/// `contrib/mailferry.1`, the page the systemd unit points at (`man:mailferry(1)`) and `contrib/install.sh`
/// installs: groff renders it without a warning, and it documents exactly the commands the parser has, so a
/// command added, renamed or removed without `bash scripts/generate-manual.sh` fails here.
@Suite(.blocking) struct ManualPageTests {
    static let page = CLI.repositoryRoot + "/contrib/mailferry.1"

    @Test func groffRendersThePageWithoutWarnings() throws {
        let checked = try ProcessRunner.run("/usr/bin/groff", ["-mandoc", "-Tutf8", "-ww", "-z", Self.page])
        #expect(checked.status == 0 && checked.stderr.isEmpty, "\(checked.stderr)")
        let rendered = try ProcessRunner.run("/usr/bin/groff", ["-mandoc", "-Tutf8", "-ww", Self.page])
        #expect(rendered.status == 0)
        #expect(rendered.stdout.contains("MAILFERRY(1)"))
        #expect(rendered.stdout.contains("mailferry buffer serve --config"))
    }

    @Test func thePageListsEveryCommandOfTheParser() throws {
        let dump = try CLI.run(["--experimental-dump-help"])
        try #require(dump.status == 0, "\(dump.stderr)")
        let root = try #require(
            (try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])?["command"] as? [String: Any])
        var parser: Set<String> = []
        func walk(_ command: [String: Any], _ path: [String]) {
            let name = command["commandName"] as? String ?? "?"
            let full = path + [name]
            if path.count > 0, command["shouldDisplay"] as? Bool ?? true { parser.insert(full.joined(separator: " ")) }
            for sub in command["subcommands"] as? [[String: Any]] ?? [] { walk(sub, full) }
        }
        walk(root, [])
        #expect(parser.contains("mailferry buffer serve"))
        #expect(parser.count > 20)

        let page = try Self.commands(inPage: String(contentsOfFile: Self.page, encoding: .utf8))
        #expect(page.subtracting(parser).sorted() == [], "in the page, no longer in the parser")
        #expect(parser.subtracting(page).sorted() == [], "in the parser, missing from the page: bash scripts/generate-manual.sh")
    }

    /// The page's commands: generate-manual writes each subcommand as `.It Em NAME` in a list nested inside its
    /// parent's item, so the path of a command is the names of the items enclosing it.
    static func commands(inPage text: String) throws -> Set<String> {
        var depth = 0
        // The command open at each list depth: [depth: path].
        var open: [Int: [String]] = [0: ["mailferry"]]
        var found: Set<String> = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(".Bl") {
                depth += 1
            } else if line.hasPrefix(".El") {
                open[depth] = nil
                depth -= 1
            } else if line.hasPrefix(".It Em ") {
                // The closest enclosing command: the deepest open one above this list.
                let parent = (0..<depth).reversed().lazy.compactMap { open[$0] }.first ?? ["mailferry"]
                let path = parent + [String(line.dropFirst(".It Em ".count))]
                open[depth] = path
                found.insert(path.joined(separator: " "))
            } else if line.hasPrefix(".It ") {
                // An option item at this depth: it closes the command item open at this depth.
                open[depth] = nil
            }
        }
        try #require(depth == 0, "unbalanced .Bl/.El")
        return found
    }
}
