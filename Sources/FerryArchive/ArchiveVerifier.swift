import MailModel

/// What a successful verification checked.
public struct VerificationResult: Sendable {
    public var statement: Statement
    public var header: ArchiveHeader
    public var users: [UserRecord]
    public var entries: Int
    public var bytes: Int64
}

/// `verify`: the signature first, then the manifest against the signed statement, then every entry
/// against the manifest, streaming the whole archive once with bounded memory.
public enum ArchiveVerifier {
    public static func verify(path: String, trust key: PublicKey, progress: ((Int, Int64) -> Void)? = nil) throws -> VerificationResult {
        let reader = try ArchiveReader(path: path)
        let statement = try reader.verifySignature(with: key)
        let manifest = try reader.loadManifest()
        let items = try reader.items(manifest)
        var count = 0
        var bytes: Int64 = 0
        while let (record, body) = try items.next() {
            try body.stream { _ in }
            try body.check()
            count += 1
            bytes += record.size
            progress?(count, bytes)
        }
        return VerificationResult(statement: statement, header: manifest.header, users: manifest.users, entries: count, bytes: bytes)
    }
}
