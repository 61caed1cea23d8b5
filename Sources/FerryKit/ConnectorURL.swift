import Connectors
import MailModel

/// A source or target named the way the command line names it: `dir:PATH`, `maildir:PATH`,
/// `mbox:PATH`.
public enum ConnectorURL: Sendable, Equatable, CustomStringConvertible {
    /// A tree of users: `PATH/<address>/Maildir/`, `contacts/`, `calendars/`, `sieve/`.
    case directory(String)
    /// One user's Dovecot Maildir++ tree.
    case maildir(String)
    /// One mbox file or a folder of them, for one user.
    case mbox(String)

    public init(parsing text: String) throws {
        guard let colon = text.firstIndex(of: ":") else {
            throw FerryError(.usage, "\(String(reflecting: text)) is not a source or target URL; use dir:PATH, maildir:PATH or mbox:PATH")
        }
        let scheme = text[..<colon].lowercased()
        let path = String(text[text.index(after: colon)...])
        guard !path.isEmpty else { throw FerryError(.usage, "\(String(reflecting: text)) names no path") }
        switch scheme {
        case "dir": self = .directory(path)
        case "maildir": self = .maildir(path)
        case "mbox": self = .mbox(path)
        case "imap", "imaps", "caldav", "carddav":
            throw FerryError(.usage, "\(scheme): sources and targets are not supported by this version yet; use dir:, maildir: or mbox:")
        default:
            throw FerryError(.usage, "unknown scheme \(String(reflecting: scheme)) in \(String(reflecting: text)); use dir:PATH, maildir:PATH or mbox:PATH")
        }
    }

    public var description: String {
        switch self {
        case .directory(let p): return "dir:\(p)"
        case .maildir(let p): return "maildir:\(p)"
        case .mbox(let p): return "mbox:\(p)"
        }
    }

    /// Sources that hold one user need the user named, since files do not say whose they are.
    var holdsOneUser: Bool {
        if case .directory = self { return false }
        return true
    }

    /// Opens this URL as a source. `users` is required for single-user sources (exactly one).
    /// `forInventory` skips what only people read (subjects), for reconciling a target.
    func source(users: [String], forInventory: Bool = false) throws -> any MailboxSource {
        switch self {
        case .directory(let path):
            return DirectorySource(path: path, summarizesHeaders: !forInventory)
        case .maildir(let path):
            return MaildirSource(path: path, user: try singleUser(users), summarizesHeaders: !forInventory)
        case .mbox(let path):
            return MboxSource(path: path, user: try singleUser(users))
        }
    }

    /// Opens this URL as a target.
    func target(users: [String]) throws -> any MailboxTarget {
        switch self {
        case .directory(let path):
            return DirectoryTarget(path: path)
        case .maildir(let path):
            return try SingleMaildirTarget(path: path, user: singleUser(users))
        case .mbox:
            throw FerryError(.usage, "mbox: is a source only; import into dir: or maildir:")
        }
    }

    private func singleUser(_ users: [String]) throws -> UserInfo {
        guard users.count == 1 else {
            throw FerryError(.usage, "\(description) holds one user's mail: name exactly one --user ADDRESS")
        }
        return UserInfo(address: users[0])
    }
}

/// A `maildir:` target holds exactly one user's mail; this names that user.
struct SingleMaildirTarget: MailboxTarget {
    let path: String
    let user: UserInfo

    func open(user other: UserInfo) throws -> any UserMailboxTarget {
        guard other.address.lowercased() == user.address.lowercased() else {
            throw FerryError(.usage, "maildir:\(path) is the target for \(user.address), not \(other.address)")
        }
        return try MaildirTarget(path: path)
    }
}
