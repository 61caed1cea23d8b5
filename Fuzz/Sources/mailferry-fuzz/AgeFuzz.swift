import FerryArchive
import Foundation

/// Encrypted archives (format-spec 13.2): the input is an age file, opened with the vectors' test identity
/// (`format-spec/vectors/TEST-ONLY-DO-NOT-USE.age.key`) as `inspect` and `verify` open it. What a fuzzer reaches
/// is the part a hostile file meets before anything is authenticated: the header's parser (lines, stanzas, base64,
/// the MAC line, its limits), the stanza unwrapping and the payload's size arithmetic and last-chunk check.
enum AgeFuzz {
    static let identities: [AgeIdentity] = {
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { root.deleteLastPathComponent() }
        return (try? AgeKeyFile.identities(root.appendingPathComponent("format-spec/vectors/TEST-ONLY-DO-NOT-USE.age.key").path)) ?? []
    }()

    static func age(_ input: UnsafeRawBufferPointer) {
        FuzzFiles.withFile(input) { path in
            guard let reader = try? ArchiveReader(path: path, identities: identities) else { return }
            _ = try? reader.statementWithoutSignature()
            _ = try? reader.authenticateEncryption()
            _ = try? ArchiveVerifier.verify(path: path, trust: FuzzKey.publicKey, identities: identities)
        }
    }
}
