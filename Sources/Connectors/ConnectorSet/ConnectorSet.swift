import MailModel

/// The systems one run reads from or writes to, each serving the kinds of item it claims: `--source` or `--target`
/// given once is a set of one; given again, mail from an IMAP server, contacts and calendars from a DAV server and
/// filters from ManageSieve travel in one run, with one reconcile per user over all of them. `--types` narrows the
/// kinds the set carries; the kinds left out are `excludedKinds`, which an import lists as not imported and a
/// reconcile does not hold against the target.
///
/// The operations see a set where they saw one URL: what concerns mail (line-ending form, Maildir's P flag, folder
/// properties, earlier IMAP placements) is asked of the member that carries mail.
public struct ConnectorSet: Sendable, Equatable, CustomStringConvertible {
    public struct Member: Sendable, Equatable {
        public let url: ConnectorURL
        /// The kinds this member carries in this run: what its system holds, of the types selected.
        public let kinds: Set<ItemKind>
    }

    public let members: [Member]
    /// Kinds of item this run does not carry (`--types`); empty unless the operator narrowed the run.
    public let excludedKinds: Set<ItemKind>

    /// One system carrying every kind it holds.
    public init(_ url: ConnectorURL) {
        members = [Member(url: url, kinds: url.heldKinds)]
        excludedKinds = []
    }

    /// Several systems, each claiming the kinds it holds among `types` (nil: all kinds). A kind two members hold is
    /// refused (say which carries it with `--types`, or name one of them), as is a member left with no kind to carry.
    public init(_ urls: [ConnectorURL], types: Set<ItemKind>? = nil) throws {
        guard !urls.isEmpty else { throw FerryError(.usage, "no source or target given") }
        let selected = types ?? Set(ItemKind.allCases)
        var claimedBy: [ItemKind: ConnectorURL] = [:]
        var members: [Member] = []
        for url in urls {
            if members.contains(where: { $0.url == url }) {
                throw FerryError(.usage, "\(url) is named twice")
            }
            let kinds = url.heldKinds.intersection(selected)
            for kind in kinds.sorted(by: { $0.rawValue < $1.rawValue }) {
                if let other = claimedBy[kind] {
                    throw FerryError(
                        .usage,
                        "\(Self.typeName(kind)) would come from both \(other) and \(url); name one system per type (a dir: store holds every type: give it alone, or narrow the run with --types)")
                }
                claimedBy[kind] = url
            }
            guard !kinds.isEmpty else {
                let held = url.heldKinds.map(Self.typeName).sorted().joined(separator: ", ")
                throw FerryError(
                    .usage,
                    "\(url) serves none of the types of this run (it holds \(held.isEmpty ? "nothing" : held); --types \(Self.typeList(selected)))")
            }
            members.append(Member(url: url, kinds: kinds))
        }
        self.members = members
        excludedKinds = Set(ItemKind.allCases).subtracting(selected)
    }

    /// `mail,contacts,calendars,sieve` (any of them, in any order) as the kinds of item they name.
    public static func parseTypes(_ text: String) throws -> Set<ItemKind> {
        var kinds: Set<ItemKind> = []
        for word in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = word.trimmingCharacters(in: .whitespaces).lowercased()
            guard let kind = ItemKind.allCases.first(where: { typeName($0) == name }) else {
                throw FerryError(.usage, "--types \(text): \(String(reflecting: name)) is not a type; use mail, contacts, calendars, sieve")
            }
            kinds.insert(kind)
        }
        return kinds
    }

    /// The word `--types` uses for a kind of item.
    public static func typeName(_ kind: ItemKind) -> String {
        switch kind {
        case .message: return "mail"
        case .contact: return "contacts"
        case .calendarItem: return "calendars"
        case .sieveScript: return "sieve"
        }
    }

    static func typeList(_ kinds: Set<ItemKind>) -> String {
        ItemKind.allCases.filter(kinds.contains).map(typeName).joined(separator: ",")
    }

    /// The one URL of a set of one.
    public var single: ConnectorURL? { members.count == 1 ? members[0].url : nil }

    /// The member that carries mail, which answers for folders and messages.
    var mail: ConnectorURL? { members.first { $0.kinds.contains(.message) }?.url }

    /// The kinds the set carries.
    public var heldKinds: Set<ItemKind> { members.reduce(into: []) { $0.formUnion($1.kinds) } }

    /// A set of one as its URL (with the types when narrowed); several with the types each carries, so that a
    /// report or receipt names which system holds which of the counts.
    public var description: String {
        if let single {
            return excludedKinds.isEmpty ? single.description : "\(single) (\(Self.typeList(heldKinds)) only)"
        }
        return members.map { "\($0.url) (\(Self.typeList($0.kinds)))" }.joined(separator: " + ")
    }

    /// Whether a member holds one user's mail (the user must be named).
    public var holdsOneUser: Bool { members.contains { $0.url.holdsOneUser } }
    /// Whether every member lists its users.
    public var listsUsers: Bool { members.allSatisfy { $0.url.listsUsers } }

    /// How the import ledger names the set: a set of one as its URL does; several, and a narrowed run, with every
    /// member and the types carried, so that importing one archive's mail here and its contacts there (or now and
    /// later with another --types) are separate imports.
    public var ledgerName: String {
        if let single, excludedKinds.isEmpty { return single.ledgerName }
        return members.map { "\($0.url.ledgerName) [\(Self.typeList($0.kinds))]" }.joined(separator: " + ")
    }

    public var holdsCRLFForm: Bool { mail?.holdsCRLFForm ?? false }
    public var holdsMaildirPassed: Bool { mail?.holdsMaildirPassed ?? false }
    /// What the mail member keeps of a folder (folders are mail folders).
    public var folderPropertySupport: FolderPropertySupport { mail?.folderPropertySupport ?? .all }
    public var findsEarlierPlacements: Bool { mail?.findsEarlierPlacements ?? false }

    public func placedMessages(of keys: ItemKeyList, user: String, options: ConnectorOptions) throws -> [IMAPPlacedMessage?] {
        try mail?.placedMessages(of: keys, user: user, options: options) ?? Array(repeating: nil, count: keys.count)
    }

    /// Opens the set as a source: one member's own source when it carries all it holds, else each member read in
    /// turn for the kinds it claims, as one mailbox per user.
    public func source(users: [String], options: ConnectorOptions, forInventory: Bool = false) throws -> any MailboxSource {
        if let single, members[0].kinds == single.heldKinds {
            return try single.source(users: users, options: options, forInventory: forInventory)
        }
        return ConnectorSetSource(parts: try members.map {
            ConnectorSetSource.Part(
                source: try $0.url.source(users: users, options: options, forInventory: forInventory), kinds: $0.kinds,
                name: $0.url.description)
        })
    }

    /// Opens the set as a target: one member's own target when it carries all it holds and the run all types, else
    /// a target that routes each container and item to the member claiming its kind and names the kinds left out.
    public func target(users: [String], options: ConnectorOptions) throws -> any MailboxTarget {
        if let single, members[0].kinds == single.heldKinds, excludedKinds.isEmpty {
            return try single.target(users: users, options: options)
        }
        return ConnectorSetTarget(parts: try members.map {
            ConnectorSetTarget.Part(target: try $0.url.target(users: users, options: options), kinds: $0.kinds, name: $0.url.description)
        }, excludedKinds: excludedKinds)
    }
}
