/// An archive whose signed statement was checked against a trusted key: a handle that any thread may use to open
/// more readers of the same archive. Each reader checks the signature again and must carry the same statement, byte
/// for byte, so every reader reads the archive that was verified, even if the file was replaced meanwhile.
public struct VerifiedArchive: Sendable {
    public let path: String
    public let statementBytes: [UInt8]
    private let keyBytes: [UInt8]
    /// The keys that open it, when it is encrypted.
    private let identities: [AgeIdentity]

    /// Opens `path` (decrypting it with `identities` when it is encrypted) and checks its signature with `key`;
    /// nothing else in the archive is read before that.
    public static func open(_ path: String, trusting key: PublicKey, identities: [AgeIdentity] = []) throws -> (archive: VerifiedArchive, reader: ArchiveReader) {
        let reader = try ArchiveReader(path: path, identities: identities)
        try reader.verifySignature(with: key)
        return (VerifiedArchive(path: path, statementBytes: reader.statementBytes, keyBytes: key.raw, identities: identities), reader)
    }

    private init(path: String, statementBytes: [UInt8], keyBytes: [UInt8], identities: [AgeIdentity]) {
        self.path = path
        self.statementBytes = statementBytes
        self.keyBytes = keyBytes
        self.identities = identities
    }

    /// Another reader of the verified archive.
    public func openReader() throws -> ArchiveReader {
        let reader = try ArchiveReader(path: path, identities: identities)
        try reader.verifySignature(with: PublicKey(raw: keyBytes))
        guard reader.statementBytes == statementBytes else {
            throw ArchiveError(.verification, path, "the archive changed while it was being read")
        }
        return reader
    }

    /// Every item, read, decompressed and checked on a thread of its own against `manifest`, which must be this
    /// archive's (loaded from a reader it opened): the thread reads it rather than copying and checking it again.
    public func items(_ manifest: VerifiedManifest) -> PrefetchingItemStream {
        PrefetchingItemStream(archive: self, manifest: manifest)
    }
}
