import ArgumentParser
import Buffer
import BufferSpool
import Foundation
import Reporting
import MailModel

/// `mailferry buffer status`: what the buffer holds, per user.
struct BufferStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show, per user, how much mail the buffer holds and in which state.",
        discussion: """
            Asks the running buffer over its control socket (control.sock in the spool directory); when no buffer runs, reads the spool directly. Columns: user, state, in the migration set, messages held, bytes held, oldest and newest arrival (UTC).

              mailferry buffer status --config /etc/mailferry/buffer.toml
              mailferry buffer status --config /etc/mailferry/buffer.toml --json

            Exit status: 0 ok, 2 usage or bad configuration, 3 if the spool cannot be read.
            """)

    @Option(help: "The buffer's TOML configuration file.")
    var config: String

    @Flag(help: "Print JSON: a list of users with state, inMigrationSet, heldCount, heldBytes, oldestArrival, newestArrival (ISO 8601).")
    var json = false

    func run() throws {
        let configuration = try loadBufferConfiguration(config)
        let users = try controlRequest(.status, configuration)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            Swift.print(Format.terminalSafeJSON(String(decoding: try encoder.encode(users), as: UTF8.self)))
            return
        }
        if users.isEmpty {
            print("no users (add one with: mailferry buffer hold --config \(config) --user ADDRESS)")
            return
        }
        let rows = [["USER", "STATE", "HOLD", "HELD", "BYTES", "OLDEST", "NEWEST"]]
            + users.map { user in
                [
                    user.user, user.state.rawValue, user.inMigrationSet ? "yes" : "no", String(user.heldCount),
                    String(user.heldBytes), user.oldestArrival.map(formatDate) ?? "-",
                    user.newestArrival.map(formatDate) ?? "-",
                ]
            }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            let cells = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }
            print(cells.joined(separator: "  "))
        }
    }
}

private func formatDate(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: date)
}

/// Sends a control request to the running buffer (or performs it on the spool when none runs); returns the users
/// of the answer, or throws the buffer's refusal as an I/O error (exit 3) and a usage error for unknown users.
func controlRequest(_ request: BufferControl.Request, _ configuration: BufferConfiguration) throws -> [UserStatus] {
    let response: BufferControl.Response
    do {
        response = try BufferControlClient.send(
            request, spoolDirectory: configuration.spoolDirectory, passwordFile: configuration.spoolPasswordFile)
    } catch {
        throw FerryError(.ioError, "\(error)")
    }
    guard response.ok else {
        let message = response.error ?? "the buffer refused the request"
        throw FerryError(message.contains("unknown to the spool") ? .usage : .ioError, message)
    }
    return response.users ?? []
}
