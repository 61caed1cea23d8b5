import MailModel

/// Folder names of a Dovecot Maildir++ tree: the folder `A/B` lives in the directory `.A.B` under the root,
/// each component in modified UTF-7.
///
/// Maildir++ cannot hold the hierarchy separator `.` inside a component, nor `/` anywhere. Names with them are
/// written with the escapes of Dovecot's listescape plugin: the byte as `\` and two lowercase hex digits
/// (`.` is `\2e`, `/` is `\2f`, `\` itself is `\5c`, and a leading `~` is `\7e`, which Dovecot would otherwise
/// read as a home directory). Dovecot with listescape shows such folders with their real names; without it
/// they show with the escapes, and nothing is lost. Reading undoes the escapes, so a round trip is exact.
enum MaildirFolderName {
    static let escape = Character("\\")
    /// `NAME_MAX` of Linux file systems: one directory name may not be longer, in bytes.
    static let maximumDirectoryNameBytes = 255

    /// The directory name for `path` (without the root), for example `.Archive.2024`. The inbox is the root.
    static func directoryName(for path: [String]) throws -> String {
        guard !path.isEmpty else { throw ConnectorError(location: "folder", message: "a folder needs a name") }
        var parts: [String] = []
        for component in path {
            guard !component.isEmpty else {
                throw ConnectorError(
                    location: path.joined(separator: "/"),
                    message: "an empty name component cannot be stored in Maildir++ (it would read as \"..\")")
            }
            parts.append(ModifiedUTF7.encode(escaped(component)))
        }
        let name = "." + parts.joined(separator: ".")
        guard name.utf8.count <= maximumDirectoryNameBytes else {
            throw ConnectorError(
                location: path.joined(separator: "/"),
                message: "folder name needs \(name.utf8.count) bytes as a Maildir++ directory; at most \(maximumDirectoryNameBytes) fit")
        }
        return name
    }

    static func escaped(_ component: String) -> String {
        var out = ""
        for (offset, character) in component.enumerated() {
            switch character {
            case ".", "/", escape: out += hex(character)
            case "~" where offset == 0: out += hex(character)
            default: out.append(character)
            }
        }
        return out
    }

    static func hex(_ character: Character) -> String {
        let value = character.asciiValue!
        let digits = Array("0123456789abcdef")
        return "\\\(digits[Int(value >> 4)])\(digits[Int(value & 0xf)])"
    }

    /// Undoes `escaped`: `\` with two hex digits of an ASCII byte becomes that byte; anything else stays.
    static func unescaped(_ component: String) -> String {
        let scalars = Array(component.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            if scalars[i] == "\\", i + 2 < scalars.count,
                let high = Int(String(scalars[i + 1]), radix: 16),
                let low = Int(String(scalars[i + 2]), radix: 16), high < 8
            {
                out.append(Unicode.Scalar(UInt8(high * 16 + low)))
                i += 3
            } else {
                out.append(scalars[i])
                i += 1
            }
        }
        return String(out)
    }

    /// The folder path of a directory name such as `.Archive.2024`, with problems for components that are not
    /// modified UTF-7 (those are kept as they are).
    static func path(ofDirectory name: String) -> (path: [String], problems: [String]) {
        var problems: [String] = []
        var path: [String] = []
        for raw in name.dropFirst().split(separator: ".", omittingEmptySubsequences: false) {
            let component = String(raw)
            do {
                path.append(unescaped(try ModifiedUTF7.decode(component)))
            } catch {
                problems.append("\(error); the name is kept as it is")
                path.append(component)
            }
        }
        return (path, problems)
    }
}
