import MailModel

/// Reads one user's Dovecot Maildir++ tree: the inbox is the root (`cur/`, `new/`, `tmp/`), other folders are
/// the directories `.A.B` beside them (see `MaildirFolderName`).
///
/// Keyword letters that `dovecot-keywords` does not name are reported as warnings and not carried: a made-up
/// name would become a real keyword at the target, where nobody could tell it from one a user set.
public struct MaildirSource: MailboxSource {
    /// How much of a message's start is read for its subject, sender and Message-ID. A header longer than this
    /// is summarised from what fits; the bytes themselves are always carried whole.
    public static let headerSummaryLimit = 64 * 1024
    /// `dovecot-keywords` and `subscriptions` are small; anything bigger is not what we think it is.
    static let controlFileLimit = 1 << 20

    public let path: String
    public let user: UserInfo
    /// Whether to read each message's header for subject, sender and Message-ID. Reconciliation
    /// compares bytes, flags and dates only, and skips this second read of every file.
    public var summarizesHeaders = true

    public init(path: String, user: UserInfo, summarizesHeaders: Bool = true) {
        self.path = path
        self.user = user
        self.summarizesHeaders = summarizesHeaders
    }

    public func users() throws -> [UserInfo] { [user] }

    public func read(user: UserInfo, into sink: any MailboxSink) throws {
        guard user.address == self.user.address else {
            throw ConnectorError(location: path, message: "holds the mail of \(self.user.address), not of \(user.address)")
        }
        try sink.beginUser(user)
        try readMail(into: sink)
        try sink.endUser(settings: UserSettings())
    }

    /// Folders and messages only, for a store that has more (see `DirectorySource`).
    func readMail(into sink: any MailboxSink) throws {
        guard let rootInfo = try FileSystem.lstatIfPresent(path), FileSystem.isDirectory(rootInfo) else {
            throw ConnectorError(location: path, message: "is not a Maildir directory")
        }
        let subscribed = try readSubscriptions(sink: sink)
        var folders: [(directory: String, info: FolderInfo)] = []
        folders.append((path, FolderInfo(path: ["INBOX"], separator: ".", specialUse: "\\Inbox",
            subscribed: subscribed.contains(where: { $0.count == 1 && $0[0].uppercased() == "INBOX" }))))
        let listing = try FileSystem.listDirectory(path)
        for name in listing.undecodable {
            sink.warning(SourceProblem(location: "\(path)/\(name)", message: "file name is not UTF-8; skipped"))
        }
        for name in listing.names where name.hasPrefix(".") {
            let directory = "\(path)/\(name)"
            guard let info = try FileSystem.lstatIfPresent(directory) else { continue }
            guard FileSystem.isDirectory(info) else {
                if FileSystem.isSymlink(info) {
                    sink.warning(SourceProblem(location: directory, message: "symbolic link in the Maildir root; not followed"))
                }
                continue
            }
            let decoded = MaildirFolderName.path(ofDirectory: name)
            for problem in decoded.problems {
                sink.warning(SourceProblem(location: directory, message: problem))
            }
            if decoded.path.contains(where: \.isEmpty) {
                sink.warning(SourceProblem(location: directory, message: "folder name has an empty component"))
            }
            if decoded.path.count == 1, decoded.path[0].uppercased() == "INBOX" {
                sink.warning(SourceProblem(
                    location: directory, message: "a folder named INBOX beside the root inbox; its messages join the inbox"))
            }
            let isSubscribed = subscribed.contains(decoded.path)
                || subscribed.contains(["INBOX"] + decoded.path)  // a namespace prefix `INBOX.`
            folders.append((directory, FolderInfo(
                path: decoded.path, separator: ".", specialUse: Self.specialUse(for: decoded.path),
                subscribed: isSubscribed)))
        }
        for (directory, info) in folders {
            let number = try sink.folder(info)
            try readMessages(in: directory, folder: number, into: sink)
        }
    }

    /// RFC 6154 special use from the names clients conventionally give these folders at the top level.
    static func specialUse(for path: [String]) -> String? {
        guard path.count == 1 else { return nil }
        switch path[0].lowercased() {
        case "sent", "sent messages", "sent items", "sent mail": return "\\Sent"
        case "drafts", "draft": return "\\Drafts"
        case "trash", "deleted messages", "deleted items", "bin": return "\\Trash"
        case "junk", "spam", "junk e-mail", "junk mail": return "\\Junk"
        case "archive", "archives": return "\\Archive"
        default: return nil
        }
    }

    func readSubscriptions(sink: any MailboxSink) throws -> Set<[String]> {
        let file = "\(path)/\(DovecotSubscriptions.fileName)"
        guard let info = try FileSystem.lstatIfPresent(file) else { return [] }
        guard FileSystem.isRegular(info) else {
            sink.warning(SourceProblem(location: file, message: "not a regular file; no folder is taken as subscribed"))
            return []
        }
        let bytes = try FileSystem.readFile(file, limit: Self.controlFileLimit)
        return Set(DovecotSubscriptions.parse(String(decoding: bytes, as: UTF8.self)))
    }

    func readKeywords(in directory: String, sink: any MailboxSink) throws -> DovecotKeywords {
        let file = "\(directory)/\(DovecotKeywords.fileName)"
        guard let info = try FileSystem.lstatIfPresent(file), FileSystem.isRegular(info) else { return DovecotKeywords() }
        let bytes = try FileSystem.readFile(file, limit: Self.controlFileLimit)
        let parsed = DovecotKeywords.parse(String(decoding: bytes, as: UTF8.self))
        for problem in parsed.problems {
            sink.warning(SourceProblem(location: file, message: problem))
        }
        return parsed.keywords
    }

    /// One message file found in `cur/` or `new/`.
    struct Found {
        var time: UInt64
        var baseName: String
        var fileName: String
        var path: String
        var isNew: Bool
    }

    func readMessages(in directory: String, folder: Int, into sink: any MailboxSink) throws {
        let keywords = try readKeywords(in: directory, sink: sink)
        var found: [Found] = []
        for sub in ["cur", "new"] {
            let subdirectory = "\(directory)/\(sub)"
            guard let info = try FileSystem.lstatIfPresent(subdirectory), FileSystem.isDirectory(info) else { continue }
            let listing = try FileSystem.listDirectory(subdirectory)
            for name in listing.undecodable {
                sink.warning(SourceProblem(location: "\(subdirectory)/\(name)", message: "file name is not UTF-8; skipped"))
            }
            for name in listing.names where !name.hasPrefix(".") {
                let base = MaildirFlags.parse(fileName: name).baseName
                found.append(Found(
                    time: Self.timePrefix(of: base), baseName: base, fileName: name, path: "\(subdirectory)/\(name)",
                    isNew: sub == "new"))
            }
        }
        // Delivery time first (the number before the first dot), as Dovecot orders new mail; then the name.
        found.sort {
            ($0.time, $0.baseName, $0.fileName) < ($1.time, $1.baseName, $1.fileName)
        }
        for item in found {
            try readMessage(item, folder: folder, keywords: keywords, into: sink)
        }
    }

    /// A Maildir message is known by the unique part of its file name (before `:2,`), which delivery makes unique
    /// and which flag changes and moves between folders keep.
    static func sourceKey(baseName: String) -> String { "maildir:\(baseName)" }

    static func timePrefix(of baseName: String) -> UInt64 {
        UInt64(baseName.prefix(while: { $0.isASCII && $0.isNumber })) ?? UInt64.max
    }

    func readMessage(_ item: Found, folder: Int, keywords: DovecotKeywords, into sink: any MailboxSink) throws {
        guard let status = try FileSystem.lstatIfPresent(item.path) else {
            sink.warning(SourceProblem(location: item.path, message: "vanished while the folder was read"))
            return
        }
        guard FileSystem.isRegular(status) else {
            sink.warning(SourceProblem(location: item.path, message: "not a regular file; skipped"))
            return
        }
        let parsed = MaildirFlags.parse(fileName: item.fileName)
        if !parsed.hasInfo, !item.isNew {
            sink.warning(SourceProblem(location: item.path, message: "no \":2,\" info part; carried without flags"))
        }
        if !parsed.flags.otherLetters.isEmpty {
            sink.warning(SourceProblem(
                location: item.path, message: "unknown flag letters \"\(String(parsed.flags.otherLetters))\" ignored"))
        }
        var names: Set<String> = []
        for letter in parsed.flags.keywordLetters.sorted() {
            if let name = keywords.name(forLetter: letter) {
                names.insert(name)
            } else {
                sink.warning(SourceProblem(
                    location: item.path,
                    message: "keyword letter \"\(letter)\" is not named in \(DovecotKeywords.fileName); not carried"))
            }
        }
        if parsed.flags.passed { names.insert(MaildirFlags.forwardedKeyword) }
        var info = MessageInfo(
            flags: parsed.flags.system, keywords: names.sorted(), internalDate: FileSystem.modificationDate(status),
            sourceKey: Self.sourceKey(baseName: parsed.baseName))
        if try sink.skipsMessage(info, inFolder: folder, size: Int64(status.st_size)) { return }
        let summary = summarizesHeaders
            ? HeaderSummary(header: try FileSystem.readPrefix(item.path, limit: Self.headerSummaryLimit))
            : HeaderSummary(header: [])
        info.subject = summary.subject
        info.from = summary.from
        info.messageID = summary.messageID
        try sink.message(info, inFolder: folder, body: FileBody(path: item.path, byteCount: Int64(status.st_size)))
    }
}
