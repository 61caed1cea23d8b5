import FerryArchive
import Foundation
import MailModel
import SystemLayer

/// `keygen`.
public enum KeyGenerator {
    /// Writes PREFIX.key.pem (mode 0600) and PREFIX.pub.pem, refusing to overwrite either.
    public static func generate(prefix: String) throws -> (privatePath: String, publicPath: String, keyID: String) {
        let key = try SigningKey.generate()
        let (privatePath, publicPath) = try writePair(
            secret: key.privatePEM(), to: prefix + ".key.pem", public: key.publicKey.publicPEM(), to: prefix + ".pub.pem")
        return (privatePath, publicPath, try key.publicKey.keyID)
    }

    /// Writes PREFIX.age.key (mode 0600, in `age-keygen`'s form) and PREFIX.age.pub (the `age1...` recipient),
    /// refusing to overwrite either: the importing station's encryption key pair.
    public static func generateEncryption(prefix: String) throws -> (privatePath: String, publicPath: String, recipient: String) {
        let identity = try AgeIdentity.generate()
        let (privatePath, publicPath) = try writePair(
            secret: Array(AgeKeyFile.identityFileText(identity, created: Date()).utf8), to: prefix + ".age.key",
            public: Array("\(identity.recipient)\n".utf8), to: prefix + ".age.pub")
        return (privatePath, publicPath, "\(identity.recipient)")
    }

    /// The secret half readable by its owner only, the public half by all; neither may exist already.
    private static func writePair(secret: [UInt8], to privatePath: String, public: [UInt8], to publicPath: String) throws -> (String, String) {
        for p in [privatePath, publicPath] where FileManager.default.fileExists(atPath: p) {
            throw FerryError(.usage, "\(p) exists; keygen never overwrites a key")
        }
        try FerryError.io {
            try AtomicReplace.write(secret, to: privatePath, mode: 0o600)
            try AtomicReplace.write(`public`, to: publicPath, mode: 0o644)
        }
        return (privatePath, publicPath)
    }
}
