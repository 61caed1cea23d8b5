import Foundation
import MailModel

/// A source or target named the way the command line names it: `dir:PATH`, `maildir:PATH`,
/// `mbox:PATH`, `imap://HOST[:PORT]`, `imaps://HOST[:PORT]`, `sieve://HOST[:PORT]`, `davs://HOST[:PORT][/PATH]`,
/// `dav://HOST[:PORT][/PATH]`.
public enum ConnectorURL: Sendable, Equatable, CustomStringConvertible {
    /// A tree of users: `PATH/<address>/Maildir/`, `contacts/`, `calendars/`, `sieve/`.
    case directory(String)
    /// One user's Dovecot Maildir++ tree.
    case maildir(String)
    /// One mbox file or a folder of them, for one user.
    case mbox(String)
    /// An IMAP server; `implicitTLS` for `imaps:`, STARTTLS otherwise.
    case imap(host: String, port: Int, implicitTLS: Bool)
    /// A ManageSieve server (RFC 5804; the scheme is RFC 5804 section 3's): each user's Sieve scripts, STARTTLS
    /// required unless `--allow-plaintext`, logins as for IMAP.
    case sieve(host: String, port: Int)
    /// A CalDAV/CardDAV server (RFC 4791, RFC 6352): each user's address books and calendars. `davs:` is HTTPS,
    /// `dav:` plain HTTP (only with `--allow-plaintext`); discovery starts at `path` (RFC 6764).
    case dav(host: String, port: Int, path: String, implicitTLS: Bool)

    /// ManageSieve's registered port (RFC 5804 section 1.8).
    public static let sievePort = 4190

    public init(parsing text: String) throws {
        guard let colon = text.firstIndex(of: ":") else {
            throw FerryError(.usage, "\(String(reflecting: text)) is not a source or target URL; use dir:PATH, maildir:PATH or mbox:PATH")
        }
        let scheme = text[..<colon].lowercased()
        if scheme == "imap" || scheme == "imaps" {
            self = try Self.parseServer(text, implicitTLS: scheme == "imaps")
            return
        }
        if scheme == "sieve" {
            let address = try Self.parseAddress(text, scheme: "sieve", defaultPort: Self.sievePort)
            self = .sieve(host: address.host, port: address.port)
            return
        }
        if scheme == "davs" || scheme == "dav" {
            self = try Self.parseDAV(text, implicitTLS: scheme == "davs")
            return
        }
        let path = String(text[text.index(after: colon)...])
        guard !path.isEmpty else { throw FerryError(.usage, "\(String(reflecting: text)) names no path") }
        switch scheme {
        case "dir": self = .directory(path)
        case "maildir": self = .maildir(path)
        case "mbox": self = .mbox(path)
        case "caldav", "carddav":
            throw FerryError(.usage, "\(scheme): is not a scheme here; name a CalDAV/CardDAV server as davs://HOST[:PORT][/PATH] (address books and calendars together)")
        default:
            throw FerryError(.usage, "unknown scheme \(String(reflecting: scheme)) in \(String(reflecting: text)); use dir:PATH, maildir:PATH, mbox:PATH, imap://HOST:PORT, imaps://HOST:PORT or sieve://HOST:PORT")
        }
    }

    /// `imap://HOST[:PORT]` or `imaps://HOST[:PORT]`, HOST a name, an IPv4 address or `[IPv6]`; no user or
    /// password (those come from --credentials), no path.
    private static func parseServer(_ text: String, implicitTLS: Bool) throws -> ConnectorURL {
        let address = try parseAddress(text, scheme: implicitTLS ? "imaps" : "imap", defaultPort: implicitTLS ? 993 : 143)
        return .imap(host: address.host, port: address.port, implicitTLS: implicitTLS)
    }

    /// `davs://HOST[:PORT][/PATH]` or `dav://HOST[:PORT][/PATH]`: no user or password, no query; PATH as it goes on
    /// the wire (percent-encoded), `/` when absent.
    private static func parseDAV(_ text: String, implicitTLS: Bool) throws -> ConnectorURL {
        let scheme = implicitTLS ? "davs" : "dav"
        let rest = text.dropFirst(scheme.count + 3)
        guard text.lowercased().hasPrefix(scheme + "://") else {
            throw FerryError(.usage, "\(String(reflecting: text)): write \(scheme)://HOST[:PORT][/PATH]")
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let path = rest[slash...].isEmpty ? "/" : String(rest[slash...])
        guard !path.contains("?") && !path.contains("#") else {
            throw FerryError(.usage, "\(String(reflecting: text)): no query or fragment in a DAV server's URL")
        }
        let address = try parseAddress(scheme + "://" + rest[..<slash], scheme: scheme, defaultPort: implicitTLS ? 443 : 80)
        return .dav(host: address.host, port: address.port, path: path, implicitTLS: implicitTLS)
    }

    /// `SCHEME://HOST[:PORT]`: no user or password, no path.
    private static func parseAddress(_ text: String, scheme: String, defaultPort: Int) throws -> ServerAddress {
        guard text.lowercased().hasPrefix(scheme + "://") else {
            throw FerryError(.usage, "\(String(reflecting: text)): write \(scheme)://HOST or \(scheme)://HOST:PORT")
        }
        var rest = String(text.dropFirst(scheme.count + 3))
        if rest.hasSuffix("/") { rest.removeLast() }
        guard !rest.isEmpty else { throw FerryError(.usage, "\(String(reflecting: text)) names no server") }
        guard !rest.contains("@") else {
            throw FerryError(.usage, "\(String(reflecting: text)): no user names or passwords in the URL; give them with --credentials FILE")
        }
        guard !rest.contains("/") && !rest.contains("?") else {
            throw FerryError(.usage, "\(String(reflecting: text)): a server URL here is only \(scheme)://HOST[:PORT]")
        }
        do {
            return try ServerAddress(parsing: Substring(rest), defaultPort: defaultPort)
        } catch {
            throw FerryError(.usage, "\(String(reflecting: text)): \(error)")
        }
    }

    public var description: String {
        switch self {
        case .directory(let p): return "dir:\(p)"
        case .maildir(let p): return "maildir:\(p)"
        case .mbox(let p): return "mbox:\(p)"
        case .imap(let host, let port, let implicitTLS):
            return "\(implicitTLS ? "imaps" : "imap")://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        case .sieve(let host, let port):
            return "sieve://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        case .dav(let host, let port, let path, let implicitTLS):
            return "\(implicitTLS ? "davs" : "dav")://\(host.contains(":") ? "[\(host)]" : host):\(port)\(path == "/" ? "" : path)"
        }
    }

    /// Sources that hold one user need the user named, since files do not say whose they are.
    public var holdsOneUser: Bool {
        switch self {
        case .directory, .imap, .sieve, .dav: return false
        case .maildir, .mbox: return true
        }
    }

    /// Targets that hold messages in CRLF form (IMAP, RFC 9051 section 2.2): an archived message whose line
    /// endings differ is written, and expected by the reconcile, in `CRLFForm`. File stores keep the archive's bytes.
    /// Whether the target keeps a Maildir's P letter (`MessageInfo.maildirPassed`), which no IMAP flag stands for.
    public var holdsMaildirPassed: Bool {
        switch self {
        case .directory, .maildir: return true
        case .mbox, .imap, .sieve, .dav: return false
        }
    }

    public var holdsCRLFForm: Bool {
        if case .imap = self { return true }
        return false
    }

    /// What a target of this kind keeps of a folder besides its items, as far as the kind says: a Maildir (also
    /// under `dir:`) keeps subscriptions in its `subscriptions` file but no ACLs (the import writes no ACL files) and
    /// no special-use marks (a reader guesses a few from folder names); an IMAP server may keep everything, and says
    /// what it offers when it is read (`IMAPSource.folderPropertySupport`).
    public var folderPropertySupport: FolderPropertySupport {
        switch self {
        case .imap:
            return .all
        case .directory, .maildir:
            return FolderPropertySupport(
                acl: .notHeld(reason: "a Maildir target keeps no ACLs (the import writes no ACL files)"),
                subscriptions: .held,
                specialUse: .notHeld(reason: "a Maildir target keeps no special-use marks (a reader guesses them from a few folder names)"))
        case .mbox:
            let reason = "an mbox is a source only"
            return FolderPropertySupport(acl: .notHeld(reason: reason), subscriptions: .notHeld(reason: reason), specialUse: .notHeld(reason: reason))
        case .sieve:
            let reason = "a ManageSieve server holds Sieve scripts only"
            return FolderPropertySupport(acl: .notHeld(reason: reason), subscriptions: .notHeld(reason: reason), specialUse: .notHeld(reason: reason))
        case .dav:
            let reason = "a CalDAV/CardDAV server holds contacts and calendars only"
            return FolderPropertySupport(acl: .notHeld(reason: reason), subscriptions: .notHeld(reason: reason), specialUse: .notHeld(reason: reason))
        }
    }

    /// The kinds of item a system of this kind holds, as a target's `UserMailboxTarget.heldKinds` says: an import
    /// leaves the others out and lists them as not imported, and the reconcile does not look for them there; a
    /// source reads these (an mbox, a source only, holds mail).
    public var heldKinds: Set<ItemKind> {
        switch self {
        case .directory: return Set(ItemKind.allCases)
        case .maildir, .imap, .mbox: return [.message]
        case .sieve: return [.sieveScript]
        case .dav: return [.contact, .calendarItem]
        }
    }

    /// Sources that cannot list their users (an IMAP or ManageSieve server) export the users named.
    public var listsUsers: Bool {
        switch self {
        case .imap, .sieve, .dav: return false
        case .directory, .maildir, .mbox: return true
        }
    }

    /// Opens this URL as a source. `users` is required for single-user sources (exactly one).
    /// `forInventory` skips what only people read (subjects), for reconciling a target.
    public func source(users: [String], options: ConnectorOptions, forInventory: Bool = false) throws -> any MailboxSource {
        switch self {
        case .imap:
            let source = IMAPSource(access: try options.access(for: self), users: users)
            source.onNotice = options.onNotice
            source.onBodyRead = options.onBodyRead
            return source
        case .directory(let path):
            return DirectorySource(path: path, summarizesHeaders: !forInventory)
        case .maildir(let path):
            return MaildirSource(path: path, user: try singleUser(users), summarizesHeaders: !forInventory)
        case .mbox(let path):
            return MboxSource(path: path, user: try singleUser(users))
        case .sieve:
            return SieveSource(access: try options.access(for: self), users: users)
        case .dav(_, _, let path, _):
            return DAVSource(server: DAVServer(access: try options.access(for: self), path: path), users: users)
        }
    }

    /// Whether `placedMessages(of:user:options:)` can find anything at this target.
    public var findsEarlierPlacements: Bool {
        if case .imap = self { return true }
        return false
    }

    /// For the reconcile after a delta into an IMAP target: where earlier imports placed these items and they still
    /// are, as far as this station recorded (`IMAPSource.placedMessages`): one element per key, all nil for other
    /// targets.
    public func placedMessages(of keys: ItemKeyList, user: String, options: ConnectorOptions) throws -> [IMAPPlacedMessage?] {
        guard case .imap = self, !keys.isEmpty else { return Array(repeating: nil, count: keys.count) }
        let source = IMAPSource(access: try options.access(for: self), users: [user])
        source.onNotice = options.onNotice
        return try source.placedMessages(of: keys, user: user, journalDirectory: options.journalDirectory)
    }

    /// Opens this URL as a target.
    public func target(users: [String], options: ConnectorOptions) throws -> any MailboxTarget {
        switch self {
        case .imap:
            let target = IMAPTarget(access: try options.access(for: self), journalDirectory: options.journalDirectory, maxBadItems: options.maxBadItems)
            target.onNotice = options.onNotice
            target.checksPlacements = options.checksPlacements
            target.recordsPlacements = options.recordsPlacements
            return target
        case .directory(let path):
            var target = DirectoryTarget(path: path)
            target.recordsPlacements = options.recordsPlacements
            return target
        case .maildir(let path):
            return try SingleMaildirTarget(path: path, user: singleUser(users), recordsPlacements: options.recordsPlacements)
        case .mbox:
            throw FerryError(.usage, "mbox: is a source only; import into dir:, maildir:, imap(s)://, sieve:// or davs://")
        case .sieve:
            let target = SieveTarget(access: try options.access(for: self), maxBadItems: options.maxBadItems)
            target.onNotice = options.onNotice
            return target
        case .dav(_, _, let path, _):
            let target = DAVTarget(server: DAVServer(access: try options.access(for: self), path: path), maxBadItems: options.maxBadItems)
            target.onNotice = options.onNotice
            return target
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
    let recordsPlacements: Bool

    func open(user other: UserInfo) throws -> any UserMailboxTarget {
        guard other.address.lowercased() == user.address.lowercased() else {
            throw FerryError(.usage, "maildir:\(path) is the target for \(user.address), not \(other.address)")
        }
        let target = try MaildirTarget(path: path)
        target.recordsPlacements = recordsPlacements
        return target
    }
}

extension ConnectorURL {
    /// How the import ledger names this target: a path made absolute, a server by host and port.
    public var ledgerName: String {
        func absolute(_ p: String) -> String {
            p.hasPrefix("/") ? p : FileManager.default.currentDirectoryPath + "/" + p
        }
        switch self {
        case .directory(let p): return "dir:" + absolute(p)
        case .maildir(let p): return "maildir:" + absolute(p)
        case .mbox(let p): return "mbox:" + absolute(p)
        case .imap, .sieve, .dav: return description
        }
    }
}
