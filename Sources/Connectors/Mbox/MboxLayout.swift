import Foundation
import MailModel

/// How a directory of mbox files maps to folders: each file is a folder named after the file without a
/// `.mbox` or `.mbx` extension; a subdirectory `NAME.sbd` (Thunderbird) or `NAME` holds the subfolders
/// of folder `NAME`. At the top, `INBOX` in any case (so also `inbox.mbox`) is the inbox.
struct MboxLayout {
    struct Folder {
        var path: [String]
        var files: [String]
    }

    /// Files next to mbox files that are not mail: Thunderbird summaries (`.msf`), lock files, and
    /// Thunderbird's own settings (`.dat`, `.json`, `.html`).
    static let ignoredExtensions: Set<String> = ["msf", "lock", "dat", "json", "html"]
    static let mboxExtensions: Set<String> = ["mbox", "mbx"]
    /// Deeper trees are taken for a symbolic link loop rather than a real mailbox.
    static let maximumDepth = 64

    /// The folders under `root` (a file gives just INBOX), parents before children, INBOX first.
    static func discover(_ root: String) throws -> [Folder] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else {
            throw ConnectorError(location: root, message: "no such file or directory")
        }
        if !isDirectory.boolValue { return [Folder(path: ["INBOX"], files: [root])] }
        var folders: [[String]: [String]] = [:]
        try walk(root, parent: [], into: &folders)
        return folders.keys.sorted(by: precedes).map { Folder(path: $0, files: folders[$0]!) }
    }

    static func walk(_ directory: String, parent: [String], into folders: inout [[String]: [String]]) throws {
        guard parent.count < maximumDepth else {
            throw ConnectorError(location: directory, message: "folders nested more than \(maximumDepth) deep (a link loop?)")
        }
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw ConnectorError(location: directory, message: "cannot list directory: \(error.localizedDescription)")
        }
        for entry in entries where !entry.hasPrefix(".") {
            let full = directory + "/" + entry
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory) else { continue }
            let dot = entry.lastIndex(of: ".")
            let fileExtension = dot.map { entry[entry.index(after: $0)...].lowercased() } ?? ""
            if isDirectory.boolValue {
                let name = fileExtension == "sbd" ? String(entry[..<dot!]) : entry
                let path = parent + [folderName(name, atTop: parent.isEmpty)]
                add(path, file: nil, to: &folders)
                try walk(full, parent: path, into: &folders)
            } else if !ignoredExtensions.contains(fileExtension) {
                let name = mboxExtensions.contains(fileExtension) ? String(entry[..<dot!]) : entry
                add(parent + [folderName(name, atTop: parent.isEmpty)], file: full, to: &folders)
            }
        }
    }

    static func folderName(_ name: String, atTop: Bool) -> String {
        atTop && name.uppercased() == "INBOX" ? "INBOX" : name
    }

    /// Records a folder and, so that the tree is complete, every parent of it.
    static func add(_ path: [String], file: String?, to folders: inout [[String]: [String]]) {
        for depth in 1...path.count where folders[Array(path[0..<depth])] == nil {
            folders[Array(path[0..<depth])] = []
        }
        if let file { folders[path]!.append(file) }
    }

    /// Component by component, INBOX before anything else at the top, a parent before its children.
    static func precedes(_ a: [String], _ b: [String]) -> Bool {
        for (x, y) in zip(a, b) where x != y {
            if x == "INBOX" && a.first == x { return true }
            if y == "INBOX" && b.first == y { return false }
            return x < y
        }
        return a.count < b.count
    }
}
