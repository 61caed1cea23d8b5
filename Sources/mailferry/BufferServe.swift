import ArgumentParser
import Buffer
import Dispatch
import Foundation
import MailModel
import Synchronization

/// `mailferry buffer serve`: runs the SMTP/LMTP buffer until SIGTERM or SIGINT.
struct BufferServe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Accept and hold mail for migrating users over SMTP and LMTP.",
        discussion: """
            Listens on the addresses of the configuration's [smtp] and [lmtp] tables and answers 250 only once a message is durable in the spool. Mail is accepted for ALICE@NAMESPACE and for the held address itself, for users in the migration set (the [buffer] hold list, plus `buffer hold`). Prints one line per listening address (smtp, lmtp, metrics). SIGTERM or SIGINT stops it gracefully: transactions under way finish, then sessions get 421.

            A listener table with tls_certificate and tls_key (PEM files) offers STARTTLS; require_tls = true refuses MAIL before it (530 5.7.0). [buffer] linger = "7d" (or s, m, h, or a number of seconds) closes a released or reverted user that long after its release, as `buffer close` does.

            Logs one line per SMTP/LMTP transaction on standard error (queue id, sender, recipients, size, SHA-256 prefix, reply code, duration; never the content): plain text, or one JSON object per line with [log] format = "json". [metrics] listen = "127.0.0.1:9464" serves Prometheus metrics at http://127.0.0.1:9464/metrics.

              mailferry buffer serve --config /etc/mailferry/buffer.toml

            Exit status: 0 after a graceful stop, 2 for a bad configuration, 3 if the spool or a listener fails.
            """)

    @Option(help: "The buffer's TOML configuration file.")
    var config: String

    func run() throws {
        let configuration = try loadBufferConfiguration(config)
        let outcome = ServeOutcome()
        let done = DispatchSemaphore(value: 0)
        // Signals are taken by dispatch sources, not by the default action (which would kill the process). They
        // are in place before the start, which may wait for the spool's database: a stop then ends the wait.
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let starting = Task {
            do {
                let server = try await BufferServer.start(configuration)
                outcome.server.withLock { $0 = server }
                var lines = ""
                if let address = server.smtpAddress { lines += "listening smtp \(describe(address))\n" }
                if let address = server.lmtpAddress { lines += "listening lmtp \(describe(address))\n" }
                if let address = server.metricsAddress { lines += "listening metrics \(describe(address))\n" }
                if let path = server.controlSocketPath {
                    lines += "control \(path)\n"
                } else {
                    lines += "shared spool \(server.spool.location)\n"
                }
                FileHandle.standardOutput.write(Data(lines.utf8))
                // A stop asked while the server was starting.
                if outcome.stopping.load(ordering: .acquiring) { await server.shutdown() }
                await server.run()
            } catch is CancellationError {
                // Stopped while waiting for the spool's database: nothing was started.
            } catch {
                outcome.failure.withLock { $0 = FerryError(.ioError, "\(error)") }
            }
            done.signal()
        }
        let sources = [SIGTERM, SIGINT].map { DispatchSource.makeSignalSource(signal: $0, queue: .global()) }
        for source in sources {
            source.setEventHandler {
                outcome.stopping.store(true, ordering: .releasing)
                if let server = outcome.server.withLock({ $0 }) {
                    Task { await server.shutdown() }
                } else {
                    starting.cancel()
                }
            }
            source.resume()
        }
        done.wait()
        for source in sources { source.cancel() }
        if let failure = outcome.failure.withLock({ $0 }) { throw failure }
    }
}

/// How the server task ended, handed to the main thread.
private final class ServeOutcome: Sendable {
    let failure = Mutex<FerryError?>(nil)
    let server = Mutex<RunningServer?>(nil)
    let stopping = Atomic<Bool>(false)
}

private func describe(_ address: some CustomStringConvertible & Sendable) -> String {
    // SocketAddress prints as "[IPv4]127.0.0.1/127.0.0.1:2525"; keep HOST:PORT.
    let text = address.description
    if let slash = text.lastIndex(of: "/") { return String(text[text.index(after: slash)...]) }
    return text
}

/// Reads the configuration; a missing or invalid file is a usage error (exit 2).
func loadBufferConfiguration(_ path: String) throws -> BufferConfiguration {
    do {
        return try BufferConfiguration.load(path: path)
    } catch {
        throw FerryError(.usage, "\(error)")
    }
}
