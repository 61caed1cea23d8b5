import Foundation
import MailModel

/// A fresh folder under the system's temporary folder, removed with everything in it when the value goes away;
/// with helpers to build test data in it.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(prefix: String = "mailferry-test") throws {
        var template = Array("\(NSTemporaryDirectory())/\(prefix)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: String(cString: template)])
        }
        path = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// The path of `relative` inside the folder.
    public func file(_ relative: String) -> String { path + "/" + relative }

    public func makeDirectory(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: file(relative), withIntermediateDirectories: true)
    }

    /// Writes a file (making its folder) and, when given, sets its mtime to the nanosecond; returns its path.
    @discardableResult
    public func write(_ relative: String, _ bytes: [UInt8], mtime: InternalDate? = nil) throws -> String {
        let full = file(relative)
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: full))
        if let mtime {
            let time = timespec(tv_sec: Int(mtime.epochSeconds), tv_nsec: Int(mtime.nanoseconds))
            var times = [time, time]
            guard utimensat(AT_FDCWD, full, &times, 0) == 0 else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: full])
            }
        }
        return full
    }

    @discardableResult
    public func write(_ relative: String, _ text: String, mtime: InternalDate? = nil) throws -> String {
        try write(relative, Array(text.utf8), mtime: mtime)
    }

    public func symlink(_ relative: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: file(relative), withDestinationPath: target)
    }

    /// The names in folder `relative`, sorted.
    public func files(in relative: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: file(relative)).sorted()
    }
}
