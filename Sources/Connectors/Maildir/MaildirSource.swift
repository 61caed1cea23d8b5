import MailModel
import SystemLayer

/// Reads one user's Dovecot Maildir++ tree: the inbox is the root (`cur/`, `new/`, `tmp/`), other folders are
/// the directories `.A.B` beside them (see `MaildirFolderName`).
///
/// Keyword letters that `dovecot-keywords` does not name are reported as warnings and not carried: a made-up
/// name would become a real keyword at the target, where nobody could tell it from one a user set.
///
/// Identity comes from each folder's `dovecot-uidlist` where Dovecot keeps one: the folder's UIDVALIDITY and GUID,
/// and each listed message's UID and GUID (what Dovecot shows as X-GUID); listed messages are read in UID order,
/// then the unlisted ones (new mail Dovecot has not seen) by delivery time. The P letter, which Dovecot shows as
/// no flag, is carried as `maildirPassed`, not as a keyword, and counted in one warning per folder.
public struct MaildirSource: MailboxSource {
    /// How much of a message's start is read for its subject, sender and Message-ID. A header longer than this
    /// is summarised from what fits; the bytes themselves are always carried whole.
    public static let headerSummaryLimit = 64 * 1024
    /// `dovecot-keywords` and `subscriptions` are small; anything bigger is not what we think it is.
    static let controlFileLimit = 1 << 20
    /// `dovecot-uidlist` has a line per message: this allows well over a million.
    static let uidListLimit = 128 << 20

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
        for (directory, var info) in folders {
            var uidList = try readUIDList(in: directory, sink: sink)
            info.uidValidity = uidList?.header.uidValidity
            info.guid = uidList?.header.guid
            info.uidNext = uidList?.nextUID
            let number = try sink.folder(info)
            try readMessages(in: directory, folder: number, uidList: &uidList, into: sink)
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

    /// The folder's `dovecot-uidlist`, or nil where it has none or one that cannot be read (reported).
    func readUIDList(in directory: String, sink: any MailboxSink) throws -> DovecotUIDList? {
        let file = "\(directory)/\(DovecotUIDList.fileName)"
        guard let info = try FileSystem.lstatIfPresent(file) else { return nil }
        guard FileSystem.isRegular(info), info.st_size <= Self.uidListLimit else {
            sink.warning(SourceProblem(
                location: file, message: "not a regular file of at most \(Self.uidListLimit) bytes; UIDs and GUIDs not read"))
            return nil
        }
        let parsed = DovecotUIDList.parse(try FileSystem.readFile(file, limit: Self.uidListLimit))
        for problem in parsed.problems {
            sink.warning(SourceProblem(location: file, message: problem))
        }
        if parsed.list == nil { sink.warning(SourceProblem(location: file, message: "UIDs and GUIDs not read")) }
        return parsed.list
    }

    /// One message file found in `cur/` or `new/`. A folder's every file is listed (and sorted) before the first
    /// is read, so this is kept small: its name and the list's G field are in the folder's `TextArena`, not strings
    /// of their own (a folder of 140,000 messages held about 30 MB of those).
    struct Found {
        var uid: UInt32?
        var time: UInt64
        var name: TextArena.Text
        /// How many bytes of the name are its unique part (`MaildirFlags.parse`'s base name).
        var baseLength: UInt16
        var isNew: Bool
        /// The list's `G` field for the message, where it has one (else its GUID is its base name).
        var storedGUID: TextArena.Text?

        func fileName(_ texts: TextArena) -> String { texts.string(name) }
        func baseName(_ texts: TextArena) -> String { texts.string(name, prefix: Int(baseLength)) }
        func path(in directory: String, _ texts: TextArena) -> String { "\(directory)/\(isNew ? "new" : "cur")/\(fileName(texts))" }

        /// Listed messages in UID order first, as Dovecot shows them; then delivery time (the number before the
        /// first dot), as Dovecot orders new mail; then the name, by its bytes.
        static func precedes(_ a: Found, _ b: Found, _ texts: TextArena) -> Bool {
            let byName = { texts.compare(a.name, prefix: Int.max, b.name, prefix: Int.max) < 0 }
            switch (a.uid, b.uid) {
            case let (x?, y?): return x != y ? x < y : byName()  // one UID twice (a broken list): by name
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil):
                if a.time != b.time { return a.time < b.time }
                let order = texts.compare(a.name, prefix: Int(a.baseLength), b.name, prefix: Int(b.baseLength))
                return order != 0 ? order < 0 : byName()
            }
        }
    }

    /// `uidList` is let go once the files are listed (each file took its UID and GUID from it): a large folder's
    /// list held as a table is as large again as the listing.
    func readMessages(in directory: String, folder: Int, uidList: inout DovecotUIDList?, into sink: any MailboxSink) throws {
        let keywords = try readKeywords(in: directory, sink: sink)
        var found: [Found] = []
        var texts = TextArena()
        for sub in ["cur", "new"] {
            let subdirectory = "\(directory)/\(sub)"
            guard let info = try FileSystem.lstatIfPresent(subdirectory), FileSystem.isDirectory(info) else { continue }
            var undecodable: [String] = []
            try FileSystem.forEachName(in: subdirectory) { raw in
                guard let name = String(validating: raw, as: UTF8.self) else {
                    undecodable.append(String(decoding: raw, as: UTF8.self))
                    return
                }
                guard !name.hasPrefix(".") else { return }
                let base = MaildirFlags.parse(fileName: name).baseName
                let record = uidList?.records[base]
                found.append(Found(
                    uid: record?.uid, time: Self.timePrefix(of: base), name: texts.add(name.utf8),
                    baseLength: UInt16(base.utf8.count), isNew: sub == "new",
                    storedGUID: record?.storedGUID.map { texts.add($0.utf8) }))
            }
            for name in undecodable.sorted() {
                sink.warning(SourceProblem(location: "\(subdirectory)/\(name)", message: "file name is not UTF-8; skipped"))
            }
        }
        uidList = nil
        found.sort { Found.precedes($0, $1, texts) }
        var passed = 0
        for item in found {
            // As `DovecotUIDList.Record.guid`: the G field, else the base name, for a message the list names (it has a UID).
            let guid = item.storedGUID.map { texts.string($0) } ?? (item.uid != nil ? item.baseName(texts) : nil)
            if try readMessage(
                item.path(in: directory, texts), item, fileName: item.fileName(texts), folder: folder, guid: guid,
                keywords: keywords, into: sink)
            {
                passed += 1
            }
        }
        if passed > 0 {
            sink.warning(SourceProblem(
                location: directory,
                message: "\(passed) message(s) carry the Maildir P (passed) letter, which Dovecot shows as no IMAP flag; "
                    + "carried as that letter, which only a Maildir target can hold"))
        }
    }

    /// A Maildir message is known by the unique part of its file name (before `:2,`), which delivery makes unique
    /// and which flag changes and moves between folders keep.
    static func sourceKey(baseName: String) -> String { "maildir:\(baseName)" }

    static func timePrefix(of baseName: String) -> UInt64 {
        UInt64(baseName.prefix(while: { $0.isASCII && $0.isNumber })) ?? UInt64.max
    }

    /// Reads one message (at `path`) into `sink`; true when it carried the P letter.
    func readMessage(
        _ path: String, _ item: Found, fileName: String, folder: Int, guid: String?, keywords: DovecotKeywords,
        into sink: any MailboxSink
    ) throws -> Bool {
        guard let status = try FileSystem.lstatIfPresent(path) else {
            sink.warning(SourceProblem(location: path, message: "vanished while the folder was read"))
            return false
        }
        guard FileSystem.isRegular(status) else {
            sink.warning(SourceProblem(location: path, message: "not a regular file; skipped"))
            return false
        }
        let parsed = MaildirFlags.parse(fileName: fileName)
        if !parsed.hasInfo, !item.isNew {
            sink.warning(SourceProblem(location: path, message: "no \":2,\" info part; carried without flags"))
        }
        if !parsed.flags.otherLetters.isEmpty {
            sink.warning(SourceProblem(
                location: path, message: "unknown flag letters \"\(String(parsed.flags.otherLetters))\" ignored"))
        }
        var names: Set<String> = []
        for letter in parsed.flags.keywordLetters.sorted() {
            if let name = keywords.name(forLetter: letter) {
                names.insert(name)
            } else {
                sink.warning(SourceProblem(
                    location: path,
                    message: "keyword letter \"\(letter)\" is not named in \(DovecotKeywords.fileName); not carried"))
            }
        }
        var info = MessageInfo(
            flags: parsed.flags.system, keywords: names.sorted(), internalDate: FileSystem.modificationDate(status),
            guid: guid, uid: item.uid, sourceKey: Self.sourceKey(baseName: parsed.baseName),
            maildirPassed: parsed.flags.passed)
        if try sink.skipsMessage(info, inFolder: folder, size: Int64(status.st_size)) { return info.maildirPassed }
        let summary = summarizesHeaders
            ? HeaderSummary(header: try FileSystem.readPrefix(path, limit: Self.headerSummaryLimit))
            : HeaderSummary(header: [])
        info.subject = summary.subject
        info.from = summary.from
        info.messageID = summary.messageID
        try sink.message(info, inFolder: folder, body: FileBody(path: path, byteCount: Int64(status.st_size)))
        return info.maildirPassed
    }
}
