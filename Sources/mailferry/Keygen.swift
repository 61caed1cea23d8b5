import ArgumentParser
import FerryKit

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make an Ed25519 signing key pair, or with --encryption an age encryption key pair.",
        discussion: """
            Writes PREFIX.key.pem (PKCS#8, mode 0600: keep it on the exporting station) and PREFIX.pub.pem
            (give it to the importing station). Keys from `openssl genpkey -algorithm ed25519` work as well.

            With --encryption: PREFIX.age.key (mode 0600: keep it on the importing station) and PREFIX.age.pub
            (give it to the exporting station for `export --encrypt-to`), in age's own encoding: keys made by
            `age-keygen` work too, and these work with `age -r` / `age -d -i`.

              mailferry keygen --out station-a
              mailferry keygen --encryption --out station-b
            """)

    @Option(help: "Path prefix for the two key files.")
    var out: String

    @Flag(help: "Make an age (X25519) encryption key pair instead: PREFIX.age.key and PREFIX.age.pub.")
    var encryption = false

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() throws {
        if encryption {
            let result = try perform { try KeyGenerator.generateEncryption(prefix: out) }
            if json {
                try printJSON(["private": result.privatePath, "public": result.publicPath, "recipient": result.recipient])
            } else {
                print("private key: \(result.privatePath) (keep secret, at the importing station)")
                print("public key:  \(result.publicPath) (for export --encrypt-to)")
                print("recipient:   \(result.recipient)")
            }
            return
        }
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
