import Foundation

/// Credentials files as a site must write them: mode 0600, since MailFerry refuses one that group or others may
/// read (as ssh refuses such a private key).
public enum CredentialsFile {
    /// Writes `text` to `path` (replacing what is there) with mode 0600 from the start.
    public static func write(_ text: String, to path: String) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }
}
