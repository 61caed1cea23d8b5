import Foundation
import MailModel

/// Turns folder paths (`FolderInfo.path`, Unicode components) into one server's mailbox names and back, under its
/// personal namespace prefix and hierarchy separator (RFC 2342).
public struct IMAPFolderNaming: Sendable, Equatable {
    /// The personal namespace prefix, for example `""` or `"INBOX."`.
    public var prefix: String
    /// The hierarchy separator; nil for a flat server.
    public var separator: String?

    /// What stands in for the separator inside a component that contains it (a source folder named `a/b` on a
    /// server whose separator is `/`); the name survives in the archive's record and in the report.
    public static let separatorStandIn = "_"

    public init(prefix: String, separator: String?) {
        self.prefix = prefix
        self.separator = separator
    }

    /// The path of a listed mailbox: the prefix taken off, split at the separator; INBOX in any case is `INBOX`.
    public func path(ofMailbox name: String) -> [String] {
        if name.uppercased() == "INBOX" { return ["INBOX"] }
        var rest = name[...]
        if !prefix.isEmpty, rest.hasPrefix(prefix) { rest = rest.dropFirst(prefix.count) }
        guard let separator, !separator.isEmpty else { return [String(rest)] }
        var components = String(rest).components(separatedBy: separator)
        if components.count > 1, components[0].uppercased() == "INBOX" { components[0] = "INBOX" }
        return components
    }

    /// The mailbox name for a path, and whether a component had to change because it held the separator.
    public func mailboxName(for path: [String]) -> (name: String, altered: Bool) {
        if path.count == 1, path[0].uppercased() == "INBOX" { return ("INBOX", false) }
        var altered = false
        var components = path.map { component -> String in
            guard let separator, !separator.isEmpty, component.contains(separator) else { return component }
            altered = true
            return component.replacingOccurrences(of: separator, with: Self.separatorStandIn)
        }
        if components.count > 1, components[0].uppercased() == "INBOX" {
            // Children of INBOX live under INBOX itself, which no prefix precedes.
            components[0] = "INBOX"
            return (components.joined(separator: separator ?? ""), altered)
        }
        guard let separator, !separator.isEmpty else {
            return (prefix + components.joined(separator: "_"), altered || components.count > 1)
        }
        return (prefix + components.joined(separator: separator), altered)
    }

    /// The names of the parents of `name`, outermost first, that must exist before it (servers may not create
    /// them implicitly); the namespace prefix itself is not one of them.
    public func parents(of name: String) -> [String] {
        guard let separator, !separator.isEmpty else { return [] }
        var body = name[...]
        var lead = ""
        if !prefix.isEmpty, body.hasPrefix(prefix) {
            lead = prefix
            body = body.dropFirst(prefix.count)
        }
        let parts = String(body).components(separatedBy: separator)
        guard parts.count > 1 else { return [] }
        return (1..<parts.count).map { lead + parts[0..<$0].joined(separator: separator) }
    }
}
