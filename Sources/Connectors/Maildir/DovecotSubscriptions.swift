import MailModel

/// Dovecot's `subscriptions` file. Version 2 starts with the line `V<TAB>2` and an empty line; then each line
/// is one folder with its components separated by tabs, each component "tab-escaped" (byte 0x01 followed by
/// `1`, `t`, `r` or `n` for 0x01, tab, CR, LF). The older form has one name per line with the hierarchy
/// separator (`.` for Maildir++) and names in modified UTF-7.
enum DovecotSubscriptions {
    static let fileName = "subscriptions"
    static let version2Header = "V\t2\n\n"
    static let tabEscape: Character = "\u{01}"

    /// The subscribed folder paths.
    static func parse(_ text: String) -> [[String]] {
        if text.hasPrefix("V\t2\n") {
            return text.dropFirst(4).split(separator: "\n").compactMap { line in
                let line = line.last == "\r" ? line.dropLast() : line
                if line.isEmpty { return nil }
                return line.split(separator: "\t", omittingEmptySubsequences: false).map { tabUnescaped($0) }
            }
        }
        return text.split(whereSeparator: \.isNewline).compactMap { line in
            if line.isEmpty { return nil }
            return line.split(separator: ".", omittingEmptySubsequences: false).map { component in
                (try? ModifiedUTF7.decode(String(component))) ?? String(component)
            }
        }
    }

    /// The version 2 file for `paths`.
    static func text(for paths: [[String]]) -> String {
        var text = version2Header
        for path in paths {
            text += path.map(tabEscaped).joined(separator: "\t") + "\n"
        }
        return text
    }

    static func tabEscaped(_ component: String) -> String {
        var out = ""
        for character in component {
            switch character {
            case tabEscape: out += "\u{01}1"
            case "\t": out += "\u{01}t"
            case "\r": out += "\u{01}r"
            case "\n": out += "\u{01}n"
            case "\r\n": out += "\u{01}r\u{01}n"
            default: out.append(character)
            }
        }
        return out
    }

    static func tabUnescaped(_ component: Substring) -> String {
        var out = ""
        var escaping = false
        for character in component {
            if escaping {
                switch character {
                case "1": out.append(tabEscape)
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "n": out.append("\n")
                default: out.append(character)
                }
                escaping = false
            } else if character == tabEscape {
                escaping = true
            } else {
                out.append(character)
            }
        }
        return out
    }
}
