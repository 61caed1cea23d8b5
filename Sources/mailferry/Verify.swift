import ArgumentParser
import FerryArchive
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

            A volume set is checked as a set first (every volume there, each the one its signed set statement
            names), then volume by volume. Give its volumes in any order, its set statement, or the folder:

              mailferry verify /media/stick/june.003.mfa /media/stick/june.001.mfa /media/stick/june.002.mfa --trust a.pub.pem
              mailferry verify /media/stick --trust station-a.pub.pem
            """)

    @Argument(help: "The archive; or the volumes of a volume set (any order), its NAME.set, or the folder holding them.")
    var archives: [String]

    var archive: String { archives[0] }

    @Option(help: "The signer's public key (PEM).")
    var trust: String

    @OptionGroup var identity: IdentityOptions

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if archives.isEmpty { throw ValidationError("give the archive (or a volume set's volumes or folder)") }
    }

    func run() throws {
        if VolumeSet.names(archives) { return try runSet() }
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

    /// A volume set: the set, then every volume.
    private func runSet() throws {
        let shown = archives.joined(separator: " ")
        do {
            let result = try perform { try Verifier.verifySet(archives, trustedKeyPath: trust, quiet: json, identityPaths: identity.paths) }
            let s = result.set.statement
            if json {
                struct Volume: Encodable { var number: Int; var path: String; var archiveID: String; var entries: Int; var bytes: Int64 }
                struct Out: Encodable {
                    var verdict = "pass"; var set: String; var setID: String; var signerKeyID: String; var volumes: [Volume]; var entries: Int; var bytes: Int64
                }
                let volumes = zip(result.set.present, result.volumes).enumerated().map { i, v in
                    Volume(number: i + 1, path: v.0, archiveID: v.1.header.archiveID, entries: v.1.entries, bytes: v.1.bytes)
                }
                try printJSON(Out(set: result.set.statementPath, setID: s.setID, signerKeyID: s.signerKeyID, volumes: volumes, entries: result.entries, bytes: result.bytes))
            } else {
                for (path, v) in zip(result.set.present, result.volumes) {
                    print("\(path): OK: volume \(v.statement.volume?.number ?? 0) of \(s.volumes.count), \(v.entries) entries (\(Format.bytes(v.bytes))) verified")
                }
                print("\(result.set.statementPath): OK: set \(s.setID) signed by key \(s.signerKeyID), \(s.volumes.count == 1 ? "its one volume" : "all \(s.volumes.count) volumes") present and verified, \(result.entries) entries (\(Format.bytes(result.bytes)))")
            }
        } catch let error as FerryError where json {
            struct Out: Encodable { var verdict = "fail"; var archive: String; var error: String }
            try printJSON(Out(archive: shown, error: error.description))
            throw error
        }
    }
}
