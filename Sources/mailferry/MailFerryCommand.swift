import ArgumentParser
import FerryKit
import Foundation
import MailModel
import Reporting
import SystemLayer

@main
struct MailFerryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailferry",
        abstract: "Move mailboxes between mail systems through a signed, compressed interchange archive.",
        discussion: """
            Station A exports users into one archive; the archive travels; station B verifies and imports it.

              mailferry keygen --out station-a
              mailferry export --source dir:/srv/mail --sign-key station-a.key.pem --out june.mfa
              mailferry inspect june.mfa
              mailferry verify june.mfa --trust station-a.pub.pem
              mailferry import june.mfa --trust station-a.pub.pem --target dir:/srv/newmail --report june.report.json

            Exit status: 0 ok, 1 verification or reconciliation failure, 2 usage, 3 I/O or server error.
            """,
        version: MailFerryVersion.version,
        subcommands: [Keygen.self, Export.self, Inspect.self, Verify.self, Import.self, Reconcile.self, Copy.self, BufferCommand.self, PlanCommand.self]
    )

    /// Parses and runs, mapping every failure to the documented exit codes (argument errors are 2,
    /// not ArgumentParser's 64).
    static func main() {
        FreeMemory.tuneAllocator(cores: ProcessInfo.processInfo.activeProcessorCount)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as FerryError {
            printError(error.description)
            Foundation.exit(error.status.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            let message = fullMessage(for: error)
            if !message.isEmpty { printError(message) }
            if error is ExitCode {
                Foundation.exit(code.rawValue)
            }
            // Anything ArgumentParser itself rejected is a usage error.
            Foundation.exit(code.rawValue == 64 || code.rawValue == 1 ? ExitStatus.usage.rawValue : code.rawValue)
        }
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data(("mailferry: " + Format.terminalSafe(text, keepingLayout: true) + "\n").utf8))
}

/// Every line of text the commands print comes through here (it stands in for `Swift.print` in this module):
/// folder names, subjects and server replies come from archives and servers, and their control and bidi
/// characters are shown escaped so that they cannot act on the terminal.
func print(_ text: String) {
    Swift.print(Format.terminalSafe(text, keepingLayout: true))
}

/// Runs an operation, turning its errors into `FerryError` with their exit status.
func perform<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        throw FerryError.from(error)
    }
}

/// JSON for `--json` output: sorted keys, readable.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    Swift.print(Format.terminalSafeJSON(String(decoding: try encoder.encode(value), as: UTF8.self)))
}

func jsonBytes(_ value: some Encodable) throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return Array(try encoder.encode(value)) + [10]
}

/// "1 volume", "3 volumes": the size of a volume set in the commands' output.
func volumeCount(_ n: Int) -> String { n == 1 ? "1 volume" : "\(n) volumes" }
