import ArgumentParser
import FerryKit
import MailModel
import Reporting

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check an archive's signature and every entry's size and SHA-256.",
        discussion: """
            The signature is checked against the trusted key before anything else is read; then every entry is
            compared with the signed manifest. The first difference is named and the exit status is 1.

              mailferry verify june.mfa --trust station-a.pub.pem
              mailferry verify june.mfa.age --trust station-a.pub.pem --identity station-b.age.key
            """)

    @Argument(help: "The archive.")
    var archive: String

    @Option(help: "The signer's public key (PEM).")
    var trust: String

    @OptionGroup var identity: IdentityOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        do {
            let result = try perform { try Verifier(archivePath: archive, trustedKeyPath: trust, quiet: json, identityPaths: identity.paths).run() }
            if json {
                struct Out: Encodable { var verdict = "pass"; var archive: String; var archiveID: String; var signerKeyID: String; var entries: Int; var bytes: Int64 }
                try printJSON(Out(archive: archive, archiveID: result.header.archiveID, signerKeyID: result.header.signerKeyID, entries: result.entries, bytes: result.bytes))
            } else {
                print("\(archive): OK: signature by key \(result.header.signerKeyID) and \(result.entries) entries (\(Format.bytes(result.bytes))) verified")
            }
        } catch let error as FerryError where json {
            struct Out: Encodable { var verdict = "fail"; var archive: String; var error: String }
            try printJSON(Out(archive: archive, error: error.description))
            throw error
        }
    }
}
