import ArgumentParser
import Buffer
import Foundation
import MailModel

/// `mailferry buffer hold`: adds a user to the migration set, or takes one out.
struct BufferHold: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Start (or with --remove, stop) accepting mail for a user.",
        discussion: """
            Changes the migration set in the spool, through the running buffer when there is one, so it takes effect for the next RCPT TO without a restart. --remove refuses new mail for the user (550 5.1.1) and keeps what is held. The configuration's hold list only adds users the spool does not know yet: a user removed, released or closed stays so across restarts.

              mailferry buffer hold --config /etc/mailferry/buffer.toml --user alice@example.com
              mailferry buffer hold --config /etc/mailferry/buffer.toml --user alice@example.com --remove

            Exit status: 0 ok, 2 usage (also: --remove for a user never held), 3 if the spool cannot be changed.
            """)

    @Option(help: "The buffer's TOML configuration file.")
    var config: String

    @Option(help: "The held address, such as alice@example.com (not the namespace address).")
    var user: String

    @Flag(help: "Take the user out of the migration set instead.")
    var remove = false

    func validate() throws {
        guard let at = user.lastIndex(of: "@"), at != user.startIndex, user.index(after: at) != user.endIndex,
            !user.contains(where: { $0 == " " || $0 == "\n" || $0 == "\r" })
        else {
            throw ValidationError("--user must be an address such as alice@example.com, not \(String(reflecting: user))")
        }
    }

    func run() throws {
        let configuration = try loadBufferConfiguration(config)
        if configuration.heldAddress(for: user) != nil {
            throw FerryError(
                .usage,
                "\(user) is an address of the buffer's namespace; give the user's own address (for example "
                    + "\(configuration.heldAddress(for: user)!))")
        }
        // Held in lower case: RCPT TO is matched as given, then in lower case (mail systems fold local parts).
        let normalized = user.lowercased()
        let users = try controlRequest(remove ? .unhold(normalized) : .hold(normalized), configuration)
        let state = users.first.map { "\($0.state.rawValue), \($0.heldCount) held" } ?? ""
        print("\(normalized): \(remove ? "no longer in" : "in") the migration set\(state.isEmpty ? "" : " (\(state))")")
    }
}
