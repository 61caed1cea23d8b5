import ArgumentParser

/// `mailferry buffer ...`: the service that holds mail arriving for migrating users during a transfer.
struct BufferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "buffer",
        abstract: "Hold mail arriving for migrating users, and release it after a verified import.",
        subcommands: [BufferServe.self, BufferStatus.self, BufferHold.self, BufferForwarding.self, BufferRelease.self, BufferClose.self]
    )
}
