import Foundation
import MailModel

/// One user of a migration: the address at the source, the address at the target, and an optional group (a
/// batch the operator moves together).
public struct MigrationUser: Codable, Sendable, Hashable {
    public var source: String
    public var target: String
    public var group: String?

    public init(source: String, target: String, group: String? = nil) {
        self.source = source
        self.target = target
        self.group = group
    }
}

/// The users file of a migration: CSV (RFC 4180: commas, fields in double quotes may hold commas and doubled
/// quotes), one user a line as `source,target[,group]`. An empty target means the same address. A first line
/// starting with `source` is a header; blank lines and lines starting with `#` are skipped.
public enum MigrationUsersFile {
    public static func read(path: String) throws -> [MigrationUser] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FerryError(.usage, "\(path): cannot read the users file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw FerryError(.usage, "\(path): the users file is not UTF-8")
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws -> [MigrationUser] {
        var users: [MigrationUser] = []
        var sources: [String: Int] = [:]
        var targets: [String: Int] = [:]
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" }).enumerated() {
            let number = index + 1
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = try fields(of: line, path: path, line: number).map { $0.trimmingCharacters(in: .whitespaces) }
            if users.isEmpty && sources.isEmpty && fields.first?.lowercased() == "source" {
                sources[""] = number  // the header; never an address
                continue
            }
            guard fields.count >= 1 && fields.count <= 3 else {
                throw FerryError(.usage, "\(path) line \(number): expected source,target[,group], found \(fields.count) fields")
            }
            let source = fields[0]
            let target = fields.count > 1 && !fields[1].isEmpty ? fields[1] : source
            for address in [source, target] where !isAddress(address) {
                throw FerryError(.usage, "\(path) line \(number): \(String(reflecting: address)) is not a mail address")
            }
            if let first = sources[source.lowercased()] {
                throw FerryError(.usage, "\(path) line \(number): \(source) is already listed on line \(first)")
            }
            if let first = targets[target.lowercased()] {
                throw FerryError(.usage, "\(path) line \(number): target \(target) is already the target of line \(first)")
            }
            sources[source.lowercased()] = number
            targets[target.lowercased()] = number
            let group = fields.count > 2 && !fields[2].isEmpty ? fields[2] : nil
            users.append(MigrationUser(source: source, target: target, group: group))
        }
        guard !users.isEmpty else { throw FerryError(.usage, "\(path): the users file lists no users") }
        return users
    }

    /// local@domain with no spaces, controls or commas; the servers decide the rest.
    static func isAddress(_ text: String) -> Bool {
        guard let at = text.lastIndex(of: "@"), at != text.startIndex, text.index(after: at) != text.endIndex else { return false }
        return !text.unicodeScalars.contains { $0.value <= 0x20 || $0 == "," || $0 == "\"" || $0.value == 0x7f }
    }

    /// The fields of one CSV line.
    static func fields(of line: String, path: String, line number: Int) throws -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var wasQuoted = false
        var chars = Array(line)
        chars.append(",")  // ends the last field
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count - 1 && chars[i + 1] == "\"" {
                        current.append("\"")
                        i += 1
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(c)
                }
            } else if c == "," {
                fields.append(current)
                current = ""
                wasQuoted = false
            } else if c == "\"" && current.trimmingCharacters(in: .whitespaces).isEmpty && !wasQuoted {
                quoted = true
                wasQuoted = true
                current = ""
            } else {
                current.append(c)
            }
            i += 1
        }
        if quoted { throw FerryError(.usage, "\(path) line \(number): a quoted field is not closed") }
        return fields
    }
}
