import FerryArchive
import Foundation
import MailModel
import SystemLayer

/// `keygen`.
public enum KeyGenerator {
    /// Writes PREFIX.key.pem (mode 0600) and PREFIX.pub.pem, refusing to overwrite either.
    public static func generate(prefix: String) throws -> (privatePath: String, publicPath: String, keyID: String) {
        let key = try SigningKey.generate()
        let privatePath = prefix + ".key.pem"
        let publicPath = prefix + ".pub.pem"
        for p in [privatePath, publicPath] where FileManager.default.fileExists(atPath: p) {
            throw FerryError(.usage, "\(p) exists; keygen never overwrites a key")
        }
        try FerryError.io {
            try AtomicReplace.write(key.privatePEM(), to: privatePath, mode: 0o600)
            try AtomicReplace.write(key.publicKey.publicPEM(), to: publicPath, mode: 0o644)
        }
        return (privatePath, publicPath, try key.publicKey.keyID)
    }

    /// Writes PREFIX.age.key (mode 0600, in `age-keygen`'s form) and PREFIX.age.pub (the `age1...` recipient),
    /// refusing to overwrite either: the importing station's encryption key pair.
    public static func generateEncryption(prefix: String) throws -> (privatePath: String, publicPath: String, recipient: String) {
        let identity = try AgeIdentity.generate()
        let privatePath = prefix + ".age.key"
        let publicPath = prefix + ".age.pub"
        for p in [privatePath, publicPath] where FileManager.default.fileExists(atPath: p) {
            throw FerryError(.usage, "\(p) exists; keygen never overwrites a key")
        }
        try FerryError.io {
            try AtomicReplace.write(Array(AgeKeyFile.identityFileText(identity, created: Date()).utf8), to: privatePath, mode: 0o600)
            try AtomicReplace.write(Array("\(identity.recipient)\n".utf8), to: publicPath, mode: 0o644)
        }
        return (privatePath, publicPath, "\(identity.recipient)")
    }
}
