import Foundation
import MailModel
import SystemLayer

/// A volume set as a reader finds it (format-spec section 13.1): the signed set statement and the volumes given, checked
/// against each other before any volume's manifest or items are read. The paths may be volumes in any order, the set
/// statement `NAME.set`, or folders holding them; the volumes are recognised by their signed statements, not by their
/// names. Each is refused by name when it belongs to another set (a foreign or replayed volume), is given twice, or
/// differs from what the set statement says of it; volumes the statement lists that are not there are `missing`.
public struct VolumeSet: Sendable {
    /// Whether the set statement's and every volume's signature were checked (a trusted key was given).
    public var signatureChecked: Bool
    public var statementPath: String
    public var statement: SetStatement
    /// SHA-256 (hex) of the set statement's signed line: it binds every volume's statement, and through each its
    /// manifest and items. A receipt for the whole set names it where one archive's names its manifest's hash.
    public var statementSHA256: String
    /// The paths of the volumes present, in the set's order.
    public var present: [String]
    /// The volumes the statement lists that were not given.
    public var missing: [SetStatement.Volume]

    /// Whether `paths` name a volume set rather than one archive: more than one path, a folder, or a set statement.
    public static func names(_ paths: [String]) -> Bool {
        paths.count > 1 || paths.contains { $0.hasSuffix(".set") || isDirectory($0) }
    }

    /// Finds the set statement and the volumes in `paths`, checks the statement's signature with `key`, then each
    /// volume's signature and statement against it. With `requireAll`, a missing volume is refused, naming each.
    /// Without a key (`inspect` without `--trust`) no signature is checked: `signatureChecked` is false.
    public static func open(_ paths: [String], trusting key: PublicKey?, identities: [AgeIdentity] = [], requireAll: Bool) throws -> VolumeSet {
        var statements: [String] = []
        var candidates: [String] = []
        for path in paths {
            if isDirectory(path) {
                let names = try ArchiveError.io { () throws(SystemError) in try SystemCall.listDirectory(path).names }.sorted()
                statements += names.filter { $0.hasSuffix(".set") }.map { join(path, $0) }
                candidates += names.filter(isVolumeName).map { join(path, $0) }
            } else if path.hasSuffix(".set") {
                statements.append(path)
            } else {
                candidates.append(path)
            }
        }
        if statements.isEmpty {
            // The statement lies beside its volumes: NAME.set next to NAME.NNN.mfa.
            let beside = Set(candidates.compactMap { c -> String? in
                guard let base = volumeBase(c) else { return nil }
                return FileManager.default.fileExists(atPath: base + ".set") ? base + ".set" : nil
            })
            statements = beside.sorted()
        }
        statements = Array(Set(statements)).sorted()
        guard statements.count == 1, let statementPath = statements.first else {
            if statements.isEmpty, paths.count == 1, let folder = paths.first, isDirectory(folder) {
                throw ArchiveError(.io, folder, "is a folder, not a regular file, and holds no volume set (no NAME.set in it)")
            }
            if statements.isEmpty {
                throw ArchiveError(.format, paths.joined(separator: " "), "no set statement (NAME.set) among these paths or beside the volumes: it is written with the volumes and travels with them")
            }
            throw ArchiveError(.format, paths.joined(separator: " "), "more than one set statement (\(statements.joined(separator: ", "))): give the volumes of one set")
        }
        let (statement, signedLine) = try SetStatement.readSigned(statementPath, trusting: key)
        if candidates.isEmpty {
            // Only the statement given: its volumes are looked for beside it.
            let folder = SystemCall.parentDirectory(of: statementPath)
            candidates = statement.volumes.map { join(folder, $0.file) }.filter { FileManager.default.fileExists(atPath: $0) }
        }

        var found: [Int: String] = [:]
        for path in Array(Set(candidates)).sorted() {
            let reader = try ArchiveReader(path: path, identities: identities)
            let volume = try key.map { try reader.verifySignature(with: $0) } ?? reader.statementWithoutSignature()
            guard let membership = volume.volume else {
                throw ArchiveError(.verification, path, "is a single archive, not a volume of set \(statement.setID) (\(statementPath))")
            }
            guard membership.set == statement.setID else {
                let age = volume.created < statement.created ? "an older export" : "another export"
                let listed = statement.volumes.first { $0.number == membership.number }
                throw ArchiveError(
                    .verification, path,
                    "is volume \(membership.number) of \(age) (set \(membership.set), created \(volume.created)), not of set \(statement.setID) "
                        + "(\(statementPath), created \(statement.created)): a foreign or replayed volume"
                        + (listed.map { "; volume \($0.number) of this set is \($0.file), archive \($0.archiveID)" } ?? ""))
            }
            guard let listed = statement.volumes.first(where: { $0.number == membership.number }) else {
                throw ArchiveError(.verification, path, "says it is volume \(membership.number) of set \(statement.setID), which has \(statement.volumes.count) volumes")
            }
            if let other = found[membership.number] {
                throw ArchiveError(.verification, path, "is volume \(membership.number) of set \(statement.setID) a second time (also \(other)): a duplicated volume")
            }
            guard volume.archiveID == listed.archiveID, SHA256.hex(reader.statementBytes) == listed.statementSHA256, reader.fileSize == listed.size else {
                throw ArchiveError(
                    .verification, path,
                    "says it is volume \(membership.number) of set \(statement.setID) but is not the volume the set statement names "
                        + "(archive \(listed.archiveID), \(listed.size) bytes, statement SHA-256 \(listed.statementSHA256)): altered or replaced")
            }
            found[membership.number] = path
        }
        let missing = statement.volumes.filter { found[$0.number] == nil }
        if requireAll && !missing.isEmpty {
            throw ArchiveError(
                .verification, statementPath,
                "set \(statement.setID) has \(statement.volumes.count) volumes; missing: "
                    + missing.map { "volume \($0.number) (\($0.file), archive \($0.archiveID))" }.joined(separator: ", "))
        }
        return VolumeSet(
            signatureChecked: key != nil, statementPath: statementPath, statement: statement, statementSHA256: SHA256.hex(signedLine),
            present: found.sorted { $0.key < $1.key }.map(\.value),
            missing: missing)
    }

    /// `NAME.NNN.mfa` or `NAME.NNN.mfa.age`.
    static func isVolumeName(_ name: String) -> Bool { volumeBase(name) != nil }

    /// `DIR/NAME` of `DIR/NAME.NNN.mfa[.age]`, or nil for another name.
    static func volumeBase(_ path: String) -> String? {
        var rest = Substring(path)
        if rest.hasSuffix(".age") { rest = rest.dropLast(4) }
        guard rest.hasSuffix(".mfa") else { return nil }
        rest = rest.dropLast(4)
        guard let dot = rest.lastIndex(of: "."), rest[rest.index(after: dot)...].count >= 3,
              rest[rest.index(after: dot)...].allSatisfy(\.isASCIIDigit)
        else { return nil }
        return String(rest[..<dot])
    }

    private static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    private static func join(_ folder: String, _ name: String) -> String { folder.hasSuffix("/") ? folder + name : folder + "/" + name }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
