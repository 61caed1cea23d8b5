#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MailModel
import SystemLayer

/// One Maildir folder's `dovecot-uidlist` as a `MaildirTarget` extends it, the way Dovecot itself does, so that a
/// Dovecot serving the folder meanwhile sees each message once, with the UID given here. Under
/// `dovecot-uidlist.lock` (created exclusively), a batch of messages is renamed into `cur/` and their lines are
/// appended to the list (made durable with the messages, by `MaildirTarget.syncWritten`: lines a crash takes are
/// listed again by the resumed run); a list that does not exist yet (or must be rewritten) is written whole to a
/// temporary file, fsynced and renamed over it. Dovecot does not list a file it finds while the lock is held. The lock file says
/// `MailFerry PID`, so that a run killed while holding it is known and its lock taken over at once; any other lock
/// (Dovecot's) is waited for, and taken over only when older than Dovecot's own stale age.
///
/// UIDs are kept where that is safe: when the list has the source folder's UIDVALIDITY (a list made here gets it
/// when the folder held no other mail) and the source UID is above every UID the list has given. Any other message
/// gets the list's next UID, under the source's UIDVALIDITY not below the source's UIDNEXT, so a UID is never given
/// twice, nor one the source gave to a message it expunged since. A message the list already names (a resumed run,
/// or a Dovecot that saw the file first) keeps the UID it has.
final class MaildirUIDListWriter {
    /// A message to list: its file moved from `from` (staged in `tmp/`, or another folder) to `to`, or found in place
    /// (`from` nil).
    struct Move {
        var from: String?
        var to: String
        var sourceUID: UInt32?
        var guid: String?
        /// Written and staged by this run under a name of its own, so no list can name it yet.
        var isStaged = false
        var baseName: String { MaildirFlags.parse(fileName: SystemCall.lastComponent(of: to)).baseName }
    }

    let directory: String
    let sourceUIDValidity: UInt32?
    let sourceUIDNext: UInt32?
    let sourceFolderGUID: String?
    /// Whether the folder held mail this target did not write when it was first scanned.
    var holdsOtherMail = false

    /// The list as this writer last read or wrote it, and the file's identity then: read again only when another
    /// process (Dovecot) changed it since.
    private var list: DovecotUIDList?
    private var seen: (device: UInt64, inode: UInt64, size: Int64)?

    /// Longest wait for a lock another process holds; a lock untouched for `staleLockAge` seconds is taken over,
    /// as Dovecot does with a lock left by a killed process.
    static let lockWaitSeconds = 60.0
    static let staleLockAge = 120

    var listPath: String { "\(directory)/\(DovecotUIDList.fileName)" }
    var lockPath: String { "\(directory)/\(DovecotUIDList.lockFileName)" }

    /// The Maildir root's owner and mode, which a new list takes (a replaced one keeps its own).
    let owner: stat?

    init(directory: String, source: FolderInfo, owner: stat?) {
        self.directory = directory
        self.owner = owner
        sourceUIDValidity = source.uidValidity
        sourceUIDNext = source.uidNext
        sourceFolderGUID = source.guid
    }

    /// Moves each file into place and lists it, under the lock; returns the list's UIDVALIDITY and each message's
    /// UID, in order. With no moves, only makes sure the list exists (an empty folder keeps its identity too).
    func commit(_ moves: [Move]) throws -> (uidValidity: UInt32, uids: [UInt32]) {
        try takeLock()
        defer { _ = try? FileSystem.unlinkIfPresent(lockPath) }
        // Only a message that was not staged by this run can be listed already (a resumed run, a move): the
        // list's lines are held in memory only then, so a large folder costs none.
        let mayBeListed = moves.contains { !$0.isStaged }
        var current = try load(records: mayBeListed)
        let isNew = current == nil
        if current == nil {
            // A new list names nothing yet: its lines need not be held, whatever this run adds to it later.
            let guid = sourceFolderGUID.flatMap { DovecotUIDList.isFolderGUID($0) ? $0 : nil }
            current = DovecotUIDList(
                header: .init(
                    uidValidity: (holdsOtherMail ? nil : sourceUIDValidity) ?? Self.newUIDValidity(), nextUID: 1,
                    guid: guid ?? Self.newFolderGUID()),
                keepsRecords: false)
        }
        var list = current!
        let keepsUIDs = sourceUIDValidity != nil && list.header.uidValidity == sourceUIDValidity
        let floor = keepsUIDs ? (sourceUIDNext ?? 1) : 1
        var added: [String] = []
        var uids: [UInt32] = []
        // Every UID first, so that a list with none left to give moves nothing into cur/.
        for move in moves {
            let baseName = move.baseName
            if let listed = list.records[baseName] {
                uids.append(listed.uid)
                continue
            }
            guard let next = list.nextUID else {
                throw ConnectorError(
                    location: listPath, message: "has given UID \(UInt32.max), the largest there is; no new message can be listed")
            }
            var uid = max(next, floor)
            if keepsUIDs, let source = move.sourceUID, source >= next { uid = source }
            list.add(.init(uid: uid, baseName: baseName, storedGUID: move.guid))
            added.append(DovecotUIDList.recordLine(uid: uid, baseName: baseName, guid: move.guid))
            uids.append(uid)
        }
        for move in moves {
            if let from = move.from { try FileSystem.rename(from, to: move.to) }
        }
        if isNew {
            try replace(with: Array((DovecotUIDList.headerLine(list.header) + "\n" + added.map { $0 + "\n" }.joined()).utf8))
        } else if list.header.version != 3 {
            list.header.version = 3
            try writeWhole(list)  // a version 1 list, read with its lines, written anew in version 3
        } else if !added.isEmpty {
            try append(added.map { $0 + "\n" }.joined())
        }
        self.list = list
        try remember()
        return (list.header.uidValidity, uids)
    }

    /// Raises the header's next UID to the source's UIDNEXT where the source's UIDVALIDITY was kept, so that no
    /// UID the source ever gave is given here to another message (appends leave the header as it was, as
    /// Dovecot's do). One rewrite of the list, only when needed; its message lines are kept byte for byte (with the
    /// fields Dovecot keeps there, such as POP3 UIDLs).
    func finish() throws {
        guard let sourceUIDNext, let sourceUIDValidity, let known = try load(records: false), known.header.version == 3,
            known.header.uidValidity == sourceUIDValidity, known.header.nextUID < sourceUIDNext
        else { return }
        try takeLock()
        defer { _ = try? FileSystem.unlinkIfPresent(lockPath) }
        let bytes = try FileSystem.readFile(listPath, limit: MaildirSource.uidListLimit)
        guard var list = DovecotUIDList.parse(bytes, keepingRecords: false).list, let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) else {
            throw ConnectorError(location: listPath, message: "is not a dovecot-uidlist this version can extend")
        }
        list.header.nextUID = max(list.nextUID ?? .max, sourceUIDNext)
        try replace(with: Array((DovecotUIDList.headerLine(list.header) + "\n").utf8) + bytes[(newline + 1)...])
        self.list = list
        try remember()
    }

    /// The list as it is on disk now: the cached one when the file is as this writer left it (and has its lines
    /// when `records` asks for them). A version 1 list is always read with its lines: it is written anew.
    private func load(records: Bool) throws -> DovecotUIDList? {
        guard let info = try FileSystem.lstatIfPresent(listPath) else { return nil }
        if let seen, let list, seen == (UInt64(info.st_dev), UInt64(info.st_ino), Int64(info.st_size)),
            list.keepsRecords || !records
        {
            return list
        }
        let bytes = try FileSystem.readFile(listPath, limit: MaildirSource.uidListLimit)
        var parsed = DovecotUIDList.parse(bytes, keepingRecords: records).list
        if let found = parsed, found.header.version != 3, !found.keepsRecords {
            parsed = DovecotUIDList.parse(bytes, keepingRecords: true).list
        }
        guard let parsed else {
            throw ConnectorError(location: listPath, message: "is not a dovecot-uidlist this version can extend")
        }
        list = parsed
        seen = (UInt64(info.st_dev), UInt64(info.st_ino), Int64(info.st_size))
        return parsed
    }

    private func remember() throws {
        guard let info = try FileSystem.lstatIfPresent(listPath) else { return }
        seen = (UInt64(info.st_dev), UInt64(info.st_ino), Int64(info.st_size))
    }

    /// Writes a list read from a version 1 file (whose lines have no fields) whole, in version 3.
    private func writeWhole(_ list: DovecotUIDList) throws {
        var text = DovecotUIDList.headerLine(list.header) + "\n"
        for record in list.records.values.sorted(by: { $0.uid < $1.uid }) {
            text += DovecotUIDList.recordLine(uid: record.uid, baseName: record.baseName, guid: record.storedGUID) + "\n"
        }
        try replace(with: Array(text.utf8))
    }

    /// Replaces the list with `bytes`: a temporary file, fsynced (a list lost to a crash would cost the folder its
    /// identity), renamed over it (the lock is held), with the old one's owner and mode, so a Dovecot running as the
    /// mail user reads it as before.
    private func replace(with bytes: [UInt8]) throws {
        let temporary = "\(directory)/.\(DovecotUIDList.fileName).\(getpid())\(FileSystem.temporarySuffix)"
        _ = try FileSystem.unlinkIfPresent(temporary)
        do {
            let file = try FileSystem.createExclusive(temporary)
            var model = try FileSystem.lstatIfPresent(listPath)
            if model == nil, var owner, owner.st_uid != geteuid() || owner.st_gid != getegid() {
                owner.st_mode &= 0o666
                model = owner
            }
            try ConnectorError.io { () throws(SystemError) in
                if let model { try file.takeOwnershipAndMode(of: model) }
                try bytes.withUnsafeBytes { raw in Result { () throws(SystemError) in try file.writeAll(raw) } }.get()
                try file.sync()
                try file.close()
            }
            try FileSystem.rename(temporary, to: listPath)
        } catch {
            _ = try? FileSystem.unlinkIfPresent(temporary)
            throw error
        }
    }

    /// Appends lines, on a line of their own even after a line a crash cut short.
    private func append(_ text: String) throws {
        var bytes = Array(text.utf8)
        if try !endsWithLineFeed() { bytes.insert(UInt8(ascii: "\n"), at: 0) }
        let file = try FileSystem.openForAppending(listPath)
        try ConnectorError.io { () throws(SystemError) in
            try bytes.withUnsafeBytes { raw in Result { () throws(SystemError) in try file.writeAll(raw) } }.get()
            try file.close()
        }
    }

    private func endsWithLineFeed() throws -> Bool {
        let file = try FileSystem.openForReading(listPath)
        return try ConnectorError.io { () throws(SystemError) in
            let size = try file.size
            guard size > 0 else { return true }
            var last = [UInt8](repeating: 0, count: 1)
            let read = try last.withUnsafeMutableBytes { raw in
                Result { () throws(SystemError) in try file.read(into: raw, at: size - 1) }
            }.get()
            try file.close()
            return read == 1 && last[0] == UInt8(ascii: "\n")
        }
    }

    /// Creates the lock file, saying who holds it, waiting while another process holds it. The lock is written
    /// under a name of its own first, given the Maildir's owner and mode, and then linked to the lock's name (an
    /// exclusive create): Dovecot, waiting for it, watches it with inotify, which needs it readable from the start.
    private func takeLock() throws {
        let ready = "\(lockPath).\(getpid())\(FileSystem.temporarySuffix)"
        _ = try FileSystem.unlinkIfPresent(ready)
        let file = try FileSystem.createExclusive(ready)
        defer { _ = try? FileSystem.unlinkIfPresent(ready) }
        let marker = Array("\(Self.lockMarker)\(getpid())\n".utf8)
        try ConnectorError.io { () throws(SystemError) in
            try marker.withUnsafeBytes { raw in Result { () throws(SystemError) in try file.writeAll(raw) } }.get()
            try file.close()
        }
        try FileSystem.adopt(ready, like: owner)
        var waited = 0.0
        while true {
            do {
                try SystemCall.link(ready, to: lockPath)
                return
            } catch where error.code == EEXIST {
                if try lockIsAbandoned() {
                    _ = try FileSystem.unlinkIfPresent(lockPath)
                    continue
                }
                guard waited < Self.lockWaitSeconds else {
                    throw ConnectorError(
                        location: lockPath, message: "held by another process for over \(Int(Self.lockWaitSeconds)) s")
                }
                usleep(20_000)
                waited += 0.02
            } catch {
                throw ConnectorError(error)
            }
        }
    }

    static let lockMarker = "MailFerry "

    /// A lock left by a MailFerry process that is gone, or any lock older than Dovecot's stale age.
    private func lockIsAbandoned() throws -> Bool {
        guard let info = try FileSystem.lstatIfPresent(lockPath) else { return false }
        if Int(time(nil)) - Int(info.st_mtim.tv_sec) > Self.staleLockAge { return true }
        // Its holder may release it between the lstat and the read: not abandoned then, and the next link takes it.
        guard let prefix = try FileSystem.readPrefixIfPresent(lockPath, limit: 64) else { return false }
        let text = String(decoding: prefix, as: UTF8.self)
        guard text.hasPrefix(Self.lockMarker),
            let pid = Int32(text.dropFirst(Self.lockMarker.count).prefix(while: { $0.isNumber }))
        else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }

    /// A new folder's UIDVALIDITY, as Dovecot makes one: the time.
    static func newUIDValidity() -> UInt32 { UInt32(truncatingIfNeeded: max(1, time(nil))) }

    /// A new folder GUID: 128 random bits in hex.
    static func newFolderGUID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let hex = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }
}
