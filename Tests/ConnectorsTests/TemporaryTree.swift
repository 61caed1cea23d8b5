import Foundation
import Glibc
import MailModel

/// A fresh directory under the system's temporary folder, with helpers to build test data in it.
/// Removed when released.
final class TemporaryTree {
    let root: String

    init() throws {
        var template = Array("\(NSTemporaryDirectory())/mailferry-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SourceError(location: "mkdtemp", message: "failed") }
        root = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func path(_ relative: String) -> String { "\(root)/\(relative)" }

    func makeDirectory(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: path(relative), withIntermediateDirectories: true)
    }

    /// Writes a file (making its folder) and, when given, sets its mtime to the nanosecond.
    func write(_ relative: String, _ text: String, mtime: InternalDate? = nil) throws {
        let full = path(relative)
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: full, contents: Data(text.utf8)) else {
            throw SourceError(location: full, message: "cannot create")
        }
        if let mtime {
            let time = timespec(tv_sec: Int(mtime.epochSeconds), tv_nsec: Int(mtime.nanoseconds))
            var times = [time, time]
            guard utimensat(AT_FDCWD, full, &times, 0) == 0 else {
                throw SourceError(location: full, message: "utimensat failed")
            }
        }
    }

    func symlink(_ relative: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: path(relative), withDestinationPath: target)
    }

    func files(in relative: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path(relative)).sorted()
    }
}
