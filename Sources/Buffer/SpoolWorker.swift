import BufferSpool
import SMTPCore

/// Carries out one connection's spool work off the event loop, in order.
///
/// The channel handler never touches a `MessageWriter` (it is not `Sendable`, and its writes and the fsync in
/// `commit()` block): it sends `Command`s through an `AsyncStream`, and one task per connection owns the writer
/// and performs them one after another, so chunks reach the file in the order they were received. Results come
/// back through `report`, which hops to the connection's event loop.
enum SpoolWorker {
    enum Command: Sendable {
        /// Open a message for this envelope and write `prefix` (trace header plus the scanned header section).
        case open(Envelope, prefix: [UInt8])
        case append([UInt8])
        /// The Message-ID found late in a long header section, for the envelope before the commit.
        case setMessageID(String)
        /// Make the message durable; answered with `.finished`.
        case commit
        case abort
    }

    enum Report: Sendable {
        /// This many bytes of an `open` or `append` were handled (written, or dropped after a failure).
        case written(Int)
        /// The outcome of `commit`, ready for the session's `.messageStored`, with the spool's record when stored.
        case finished(SMTPSession.StorageResult, HeldMessage?)
    }

    static func run(
        spool: any SpoolStore, commands: AsyncStream<Command>, metrics: BufferMetrics = .disabled,
        committed: @escaping @Sendable (HeldMessage) -> Void = { _ in },
        report: @escaping @Sendable (Report) -> Void
    ) async {
        var writer: (any SpoolMessageWriter)?
        // The first failure of the current message; its commit reports it.
        var failure: (any Error)?
        for await command in commands {
            switch command {
            case .open(let envelope, let prefix):
                writer?.abort()
                writer = nil
                failure = nil
                do {
                    let opened = try spool.openWriter(envelope)
                    try opened.append(prefix)
                    writer = opened
                } catch {
                    failure = error
                }
                report(.written(prefix.count))
            case .append(let bytes):
                if let open = writer, failure == nil {
                    do { try open.append(bytes) } catch {
                        failure = error
                        writer = nil
                    }
                }
                report(.written(bytes.count))
            case .setMessageID(let messageID):
                writer?.setMessageID(messageID)
            case .commit:
                let result: SMTPSession.StorageResult
                var stored: HeldMessage?
                if let failure {
                    result = .failed(reply(for: failure))
                } else if let open = writer {
                    do {
                        // From the end of DATA to durable: the wait for the group commit included.
                        let started = ContinuousClock.now
                        let held = try await open.commit()
                        metrics.committed(after: ContinuousClock.now - started)
                        result = .stored(id: held.id.description)
                        stored = held
                    } catch {
                        result = .failed(reply(for: error))
                    }
                } else {
                    result = .failed(.localError)
                }
                writer = nil
                failure = nil
                report(.finished(result, stored))
                // After the reply: scheduling a linger pass reads the user's state, which need not delay the 250.
                if let stored { committed(stored) }
            case .abort:
                writer?.abort()
                writer = nil
                failure = nil
            }
        }
        // The connection is gone: a message that was never committed is dropped.
        writer?.abort()
    }

    /// 452 4.3.1 for a full disk (the client retries later); 451 4.3.0 for anything else.
    static func reply(for error: any Error) -> SMTPReply {
        if case SpoolError.insufficientStorage = error { return .insufficientStorage }
        if case SpoolError.database = error { return .spoolUnavailable }
        return .localError
    }
}
