/// A mailbox as it appears in MAIL FROM and RCPT TO (RFC 5321 section 4.1.2):
/// `Local-part "@" ( Domain / address-literal )`.
///
/// The parsed form keeps case and quoting as the client gave them: local parts are
/// case-sensitive in principle (RFC 5321 section 2.4) and only the final host may fold them.
public struct SMTPPath: Hashable, Sendable, CustomStringConvertible {
    /// The local part in wire form: a Dot-string (`john.smith`) or a Quoted-string
    /// including its quotes and backslashes (`"john smith"`).
    public var localPart: String
    public var domain: SMTPDomain

    public init(localPart: String, domain: SMTPDomain) {
        self.localPart = localPart
        self.domain = domain
    }

    /// `local@domain` in wire form, without angle brackets.
    public var address: String { localPart + "@" + domain.description }

    /// `<local@domain>`, as written in MAIL FROM and RCPT TO.
    public var description: String { "<" + address + ">" }

    /// Whether the local part is a Quoted-string.
    public var isQuoted: Bool { localPart.hasPrefix("\"") }

    /// The local part with quotes and quoted-pair backslashes removed (`"a\"b"` gives `a"b`).
    public var unquotedLocalPart: String {
        guard isQuoted, localPart.count >= 2 else { return localPart }
        var result = ""
        var escaped = false
        for character in localPart.dropFirst().dropLast() {
            if escaped {
                result.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                result.append(character)
            }
        }
        return result
    }
}
