import Foundation
import Receipts

/// The files a release request names (station B's receipt with its signature, and station B's public key), copied
/// into the spool directory before the request goes to a running server, and removed once it answered.
///
/// Why: the release runs inside the server, which sees the file system as its service sandbox lets it (the systemd
/// unit in contrib/ has a private /tmp and no /home), so a receipt under /tmp or /home that the operator can read
/// would not be found there. The spool directory is the one place both sides share: whoever may use the control
/// socket (mode 0600, in the spool) may write there too. Receipts and public keys are not secret; the copies are
/// readable by the server's user whoever made them.
struct StagedReleaseFiles {
    static let folderName = "release-requests"

    let directory: String
    /// Copy path → the path the operator gave, for messages.
    private(set) var originals: [(copy: String, original: String)] = []

    /// Copies what `parameters` names and points `parameters` at the copies; nil (and `parameters` unchanged) when
    /// there is nothing to copy or it cannot be done, in which case the server is given the operator's paths.
    init?(parameters: inout ReleaseJob.Parameters, spoolDirectory: String) {
        guard parameters.receiptPath != nil || parameters.trustedKeyPath != nil else { return nil }
        let fm = FileManager.default
        directory = spoolDirectory + "/" + Self.folderName + "/" + UUID().uuidString
        do {
            try fm.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            var staged = parameters
            if let receipt = parameters.receiptPath {
                let file = try ReleaseJob.receiptFile(receipt, user: parameters.user)
                if fm.fileExists(atPath: file) {
                    let copy = directory + "/" + (file as NSString).lastPathComponent
                    try Self.copy(file, to: copy)
                    if fm.fileExists(atPath: file + Receipt.signatureSuffix) {
                        try Self.copy(file + Receipt.signatureSuffix, to: copy + Receipt.signatureSuffix)
                    }
                    originals.append((copy, file))
                    staged.receiptPath = copy
                }
            }
            if let key = parameters.trustedKeyPath, fm.fileExists(atPath: key) {
                let copy = directory + "/trusted-key.pem"
                try Self.copy(key, to: copy)
                originals.append((copy, key))
                staged.trustedKeyPath = copy
            }
            guard !originals.isEmpty else {
                remove()
                return nil
            }
            parameters = staged
        } catch {
            try? fm.removeItem(atPath: directory)
            return nil
        }
    }

    private static func copy(_ source: String, to destination: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: source))
        guard FileManager.default.createFile(atPath: destination, contents: data, attributes: [.posixPermissions: 0o644]) else {
            throw CocoaError(.fileWriteUnknown)
        }
    }

    /// A message from the server with the operator's paths in place of the copies'.
    func restoringPaths(_ text: String) -> String {
        var text = text
        for (copy, original) in originals { text = text.replacingOccurrences(of: copy, with: original) }
        return text
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
