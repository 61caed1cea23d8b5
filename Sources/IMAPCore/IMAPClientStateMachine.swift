/// The client side of an IMAP session as a value (RFC 9051 section 3): which state the connection is in, which
/// tagged commands are outstanding in the order they were sent, which of them may send its literal when a
/// continuation request arrives, and which command untagged data belongs to. It performs no I/O: the network
/// layer feeds it events and carries out what it returns.
public struct IMAPClientStateMachine: Sendable {
    public enum State: Sendable, Hashable {
        case awaitingGreeting
        case notAuthenticated
        case authenticated
        case selected(mailbox: String, readOnly: Bool)
        case logout
    }

    /// What a sent command is, as far as state changes go.
    public enum CommandKind: Sendable, Hashable {
        case authentication
        case select(mailbox: String, readOnly: Bool)
        case logout
        case startTLS
        case other(String)

        public init(_ command: IMAPCommand) {
            switch command {
            case .login, .authenticatePlain: self = .authentication
            case .select(let mailbox, let readOnly, _): self = .select(mailbox: mailbox, readOnly: readOnly)
            case .logout: self = .logout
            case .startTLS: self = .startTLS
            default: self = .other(command.name)
            }
        }
    }

    public struct Outstanding: Sendable, Hashable {
        public var tag: String
        public var kind: CommandKind
        /// Continuation requests this command still waits for before it can send its next part.
        public var continuationsWanted: Int
    }

    /// Where an event goes.
    public enum Route: Sendable, Hashable {
        /// The greeting arrived; the state is set from it.
        case greeting(IMAPGreeting)
        /// Untagged data while `tag` is the oldest outstanding command (nil: none outstanding, unsolicited).
        case untagged(forTag: String?)
        /// The command with `tag` may send its next part.
        case continuation(forTag: String)
        /// The command finished; it is no longer outstanding.
        case completed(IMAPTaggedResponse, kind: CommandKind)
        /// `* BYE`: the server is closing the connection.
        case bye(IMAPResponseText)
        /// A protocol violation: a tagged response nobody waits for, an unexpected "+", a second greeting.
        case violation(String)
    }

    public private(set) var state: State = .awaitingGreeting
    public private(set) var outstanding: [Outstanding] = []

    public init() {}

    /// Whether `command` may be sent in the current state (RFC 9051 section 6).
    public func isAllowed(_ command: IMAPCommand) -> Bool {
        switch (state, command) {
        case (.awaitingGreeting, _), (.logout, _): false
        case (_, .capability), (_, .noop), (_, .logout): true
        case (.notAuthenticated, .login), (.notAuthenticated, .authenticatePlain), (.notAuthenticated, .startTLS): true
        case (.notAuthenticated, _): false
        case (_, .login), (_, .authenticatePlain), (_, .startTLS): false
        case (.selected, .uidFetch), (.selected, .uidSearch): true
        case (_, .uidFetch), (_, .uidSearch): false  // only with a mailbox selected
        default: true
        }
    }

    /// Records that `command`, encoded as `encoded`, is being sent; returns false (recording nothing) if the
    /// state forbids it.
    public mutating func send(_ command: IMAPCommand, encoded: IMAPEncodedCommand) -> Bool {
        guard isAllowed(command) else { return false }
        outstanding.append(
            Outstanding(tag: encoded.tag, kind: CommandKind(command), continuationsWanted: encoded.continuationsNeeded))
        return true
    }

    /// The connection is gone.
    public mutating func closed() {
        state = .logout
        outstanding.removeAll()
    }

    public mutating func receive(_ event: IMAPResponseEvent) -> Route {
        switch event {
        case .greeting(let greeting):
            guard state == .awaitingGreeting else { return .violation("a second greeting") }
            switch greeting.status {
            case .preauth: state = .authenticated
            case .bye: state = .logout
            default: state = .notAuthenticated
            }
            return .greeting(greeting)
        case .continuation:
            guard let index = outstanding.firstIndex(where: { $0.continuationsWanted > 0 }) else {
                return .violation("a continuation request no command waits for")
            }
            outstanding[index].continuationsWanted -= 1
            return .continuation(forTag: outstanding[index].tag)
        case .tagged(let response):
            guard let index = outstanding.firstIndex(where: { $0.tag == response.tag }) else {
                return .violation("a tagged response for unknown tag \(response.tag)")
            }
            let command = outstanding.remove(at: index)
            apply(response, for: command.kind)
            return .completed(response, kind: command.kind)
        case .untagged(.condition(.bye, let text)):
            state = .logout
            return .bye(text)
        default:
            return .untagged(forTag: outstanding.first?.tag)
        }
    }

    mutating func apply(_ response: IMAPTaggedResponse, for kind: CommandKind) {
        switch kind {
        case .authentication where response.status == .ok:
            state = .authenticated
        case .select(let mailbox, let readOnly):
            // RFC 9051 section 6.3.2: a failed SELECT leaves no mailbox selected.
            state = response.status == .ok ? .selected(mailbox: mailbox, readOnly: readOnly) : .authenticated
        case .logout:
            state = .logout
        default:
            break
        }
    }
}
