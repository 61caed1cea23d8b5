import ArgumentParser
import FerryKit

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make an Ed25519 signing key pair.",
        discussion: """
            Writes PREFIX.key.pem (PKCS#8, mode 0600: keep it on the exporting station) and PREFIX.pub.pem
            (give it to the importing station). Keys from `openssl genpkey -algorithm ed25519` work as well.

              mailferry keygen --out station-a
            """)

    @Option(help: "Path prefix for the two key files.")
    var out: String

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() throws {
        let result = try perform { try KeyGenerator.generate(prefix: out) }
        if json {
            try printJSON(["private": result.privatePath, "public": result.publicPath, "keyID": result.keyID])
        } else {
            print("private key: \(result.privatePath) (keep secret)")
            print("public key:  \(result.publicPath)")
            print("key id:      \(result.keyID)")
        }
    }
}
