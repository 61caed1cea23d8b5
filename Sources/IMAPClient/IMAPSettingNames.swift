/// How the person who set up a connection names its settings, so that a refusal tells them what to change where
/// they made the choice: the command line's options, or the keys of the buffer's configuration file.
public struct IMAPSettingNames: Sendable, Hashable {
    /// What lets a password go without TLS (`--allow-plaintext`).
    public var allowPlaintext: String
    /// What names the CA certificates to trust (`--ca-file FILE`).
    public var caFile: String

    public init(allowPlaintext: String, caFile: String) {
        self.allowPlaintext = allowPlaintext
        self.caFile = caFile
    }

    /// `export`, `import`, `reconcile` and the plan commands.
    public static let commandLine = IMAPSettingNames(allowPlaintext: "--allow-plaintext", caFile: "--ca-file FILE")

    /// The buffer's releases, which take their IMAP settings from its TOML file.
    public static func bufferConfiguration(_ path: String?) -> IMAPSettingNames {
        let file = path.map { " of \($0)" } ?? " of the buffer's configuration"
        return IMAPSettingNames(
            allowPlaintext: "allow_plaintext = true in the [imap] section\(file)",
            caFile: "ca_file = \"FILE\" in the [imap] section\(file)")
    }
}
