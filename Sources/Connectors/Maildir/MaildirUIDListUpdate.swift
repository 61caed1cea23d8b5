#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MailModel
import SystemLayer

/// Lists the messages a `MaildirTarget` wrote into one folder in its `dovecot-uidlist`, the way Dovecot changes
/// the file itself: whoever creates `dovecot-uidlist.lock` writes the whole new list into it and renames it over the
/// old one, so a reader sees the old list or the new one, never half of one.
///
/// UIDs are kept where that is safe: when the list has the source folder's UIDVALIDITY (a list made here gets it
/// when the folder held no other mail) and the source UID is above every UID the list has given, ascending.
/// Any other message gets the list's next UID, and under the source's UIDVALIDITY not below the source's UIDNEXT,
/// so a UID is never given twice, nor one the source gave to a message it expunged since. A message the list already names
/// (a resumed run, or a Dovecot that saw the file first) keeps the UID it has.
struct MaildirUIDListUpdate {
    struct Message {
        var baseName: String
        var sourceUID: UInt32?
        var guid: String?
    }

    let directory: String
    let sourceUIDValidity: UInt32?
    let sourceUIDNext: UInt32?
    let sourceFolderGUID: String?
    /// Whether the folder held mail that this target did not write when it was first opened.
    let holdsOtherMail: Bool

    /// Longest wait for a lock another process holds; a lock untouched for `staleLockAge` is taken over, as
    /// Dovecot does with a lock left by a killed process.
    static let lockWaitSeconds = 60.0
    static let staleLockAge: Int = 120

    var listPath: String { "\(directory)/\(DovecotUIDList.fileName)" }
    var lockPath: String { "\(directory)/\(DovecotUIDList.lockFileName)" }

    /// Lists `messages` (in the order given) and returns the list's UIDVALIDITY and each message's UID.
    func apply(_ messages: [Message]) throws -> (uidValidity: UInt32, uids: [UInt32]) {
        let lock = try takeLock()
        do {
            let result = try write(messages, into: lock)
            try FileSystem.rename(lockPath, to: listPath)
            return result
        } catch {
            lock.closeQuietly()
            _ = try? FileSystem.unlinkIfPresent(lockPath)
            throw error
        }
    }

    private func write(_ messages: [Message], into lock: FileDescriptor) throws -> (uidValidity: UInt32, uids: [UInt32]) {
        var existing: [UInt8] = []
        var list: DovecotUIDList
        if try FileSystem.lstatIfPresent(listPath) != nil {
            existing = try FileSystem.readFile(listPath, limit: MaildirSource.uidListLimit)
            guard let parsed = DovecotUIDList.parse(existing).list else {
                throw ConnectorError(location: listPath, message: "is not a dovecot-uidlist this version can extend")
            }
            list = parsed
        } else {
            let validity = holdsOtherMail ? nil : sourceUIDValidity
            let guid = sourceFolderGUID.flatMap { DovecotUIDList.isFolderGUID($0) ? $0 : nil }
            list = DovecotUIDList(header: .init(
                uidValidity: validity ?? Self.newUIDValidity(), nextUID: 1, guid: guid ?? Self.newFolderGUID()))
        }
        let kept = Self.recordSection(of: existing, list: list)
        let keepsUIDs = sourceUIDValidity != nil && list.header.uidValidity == sourceUIDValidity
        // New UIDs start at the source's UIDNEXT under its UIDVALIDITY; kept ones ascend below it.
        let floor = keepsUIDs ? (sourceUIDNext ?? 1) : 1
        var added: [String] = []
        var uids: [UInt32] = []
        for message in messages {
            if let listed = list.records[message.baseName] {
                uids.append(listed.uid)
                continue
            }
            var uid = max(list.nextUID, floor)
            if keepsUIDs, let source = message.sourceUID, source >= list.nextUID { uid = source }
            list.add(.init(uid: uid, baseName: message.baseName, storedGUID: message.guid))
            added.append(DovecotUIDList.recordLine(uid: uid, baseName: message.baseName, guid: message.guid))
            uids.append(uid)
        }
        list.header.nextUID = max(list.nextUID, floor)
        list.header.version = 3
        var text = Array((DovecotUIDList.headerLine(list.header) + "\n").utf8)
        text += kept
        for line in added { text += Array((line + "\n").utf8) }
        try ConnectorError.io { () throws(SystemError) in
            try text.withUnsafeBytes { raw in Result { () throws(SystemError) in try lock.writeAll(raw) } }.get()
            try lock.sync()
            try lock.close()
        }
        return (list.header.uidValidity, uids)
    }

    /// The message lines already in the file: copied as they are from a version 3 list (with fields this type does
    /// not know), written anew from a version 1 list.
    private static func recordSection(of existing: [UInt8], list: DovecotUIDList) -> [UInt8] {
        guard !existing.isEmpty else { return [] }
        if list.header.version == 3 {
            guard let newline = existing.firstIndex(of: UInt8(ascii: "\n")) else { return [] }
            var section = Array(existing[(newline + 1)...])
            if let last = section.last, last != UInt8(ascii: "\n") { section.append(UInt8(ascii: "\n")) }
            return section
        }
        var section: [UInt8] = []
        for record in list.records.values.sorted(by: { $0.uid < $1.uid }) {
            section += Array((DovecotUIDList.recordLine(uid: record.uid, baseName: record.baseName, guid: nil) + "\n").utf8)
        }
        return section
    }

    /// Creates the lock file, waiting while another process holds it.
    private func takeLock() throws -> FileDescriptor {
        var waited = 0.0
        while true {
            do {
                return try FileDescriptor(opening: lockPath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: FileSystem.fileMode)
            } catch where error.code == EEXIST {
                if let info = try FileSystem.lstatIfPresent(lockPath), Int(time(nil)) - Int(info.st_mtim.tv_sec) > Self.staleLockAge {
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

    /// A new folder's UIDVALIDITY, as Dovecot makes one: the time.
    static func newUIDValidity() -> UInt32 { UInt32(truncatingIfNeeded: max(1, time(nil))) }

    /// A new folder GUID: 128 random bits in hex.
    static func newFolderGUID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let value = generator.next() as UInt64
            let hex = String(value, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }
}
