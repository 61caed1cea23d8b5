import FerryArchive
import MailModel

/// Opens the archive a delta builds on: its signature checked before anything is read, and its signer the one
/// that signs the delta (a chain has one signer).
enum DeltaBase {
    /// `identities` open the base when it was encrypted (to a key of station A's among its recipients).
    static func load(path: String, trustedKeyPath: String?, signingKey: SigningKey, identities: [AgeIdentity]) throws -> PreviousState {
        let trusted = try trustedKeyPath.map { try PublicKey(pemFile: $0) } ?? signingKey.publicKey
        let reader = try ArchiveReader(path: path, identities: identities)
        try reader.verifySignature(with: trusted)
        let manifest = try reader.loadManifest().refusingVolume(path, for: "export --since")
        let ours = try signingKey.publicKey.keyID
        guard manifest.header.signerKeyID == ours else {
            throw FerryError(.usage, "\(path) was signed by key \(manifest.header.signerKeyID), the delta would be signed by \(ours): a chain of archives has one signer")
        }
        return try PreviousState(manifest: manifest)
    }
}
