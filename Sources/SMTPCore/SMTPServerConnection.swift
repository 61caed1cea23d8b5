/// Framer, parser and session wired together: bytes in, actions out.
///
/// The network layer calls `start()`, then `receive(_:)` with every chunk read and `handle(_:)`
/// with every host answer (recipient decision, storage result, TLS started, shutdown, close),
/// and carries out the returned actions in order. Pipelined commands are taken one by one;
/// while the session waits for the host, later bytes stay in the framer, so replies keep the
/// order of the commands.
public struct SMTPServerConnection: Sendable {
    public private(set) var session: SMTPSession
    public private(set) var framer: SMTPFramer

    public init(configuration: SMTPSession.Configuration) {
        session = SMTPSession(configuration: configuration)
        framer = SMTPFramer(options: configuration.framing)
    }

    /// The connection is open: returns the greeting.
    public mutating func start() -> [SMTPSession.Action] {
        var actions: [SMTPSession.Action] = []
        apply(session.handle(.connectionOpened), to: &actions)
        pump(into: &actions)
        return actions
    }

    /// Bytes from the client.
    public mutating func receive(_ bytes: some Sequence<UInt8>) -> [SMTPSession.Action] {
        guard !session.isClosed else { return [] }
        framer.append(bytes)
        var actions: [SMTPSession.Action] = []
        pump(into: &actions)
        return actions
    }

    /// A host event: `.recipientChecked`, `.messageStored`, `.tlsStarted`, `.shutdownRequested`
    /// or `.connectionClosed`. Buffered commands then go on.
    public mutating func handle(_ event: SMTPSession.Event) -> [SMTPSession.Action] {
        var actions: [SMTPSession.Action] = []
        apply(session.handle(event), to: &actions)
        pump(into: &actions)
        return actions
    }

    mutating func pump(into actions: inout [SMTPSession.Action]) {
        while session.isReadyForInput {
            let next: SMTPFramer.Next
            do {
                next = try framer.next()
            } catch {
                apply(session.handle(.framingError(error)), to: &actions)
                continue
            }
            guard case .event(let event) = next else { return }
            switch event {
            case .commandLine(let line):
                do {
                    apply(session.handle(.command(try SMTPCommandParser.parse(line))), to: &actions)
                } catch {
                    apply(session.handle(.commandError(error)), to: &actions)
                }
            case .content(let bytes):
                apply(session.handle(.content(bytes)), to: &actions)
            case .endOfData(let summary):
                apply(session.handle(.endOfData(summary)), to: &actions)
            }
        }
    }

    mutating func apply(_ new: [SMTPSession.Action], to actions: inout [SMTPSession.Action]) {
        for action in new {
            switch action {
            case .beginMessage:
                framer.beginData(maximumSize: session.configuration.maximumMessageSize)
            case .startTLS, .close:
                framer.discardBufferedInput()
            default:
                break
            }
            actions.append(action)
        }
    }
}
