/// Parses one command line (the bytes before CRLF) into an `SMTPCommand`.
///
/// Strict in the grammar of RFC 5321 section 4.1, tolerant where common clients deviate:
/// verbs and keywords in any case, spaces after `FROM:` and `TO:`, several spaces between
/// parameters, and trailing spaces at the end of the line.
public enum SMTPCommandParser {
    typealias Error = SMTPCommandParseError

    /// Known commands this server does not offer: answered 502, not 500.
    static let notImplementedVerbs: Set<String> = [
        "EXPN", "TURN", "ETRN", "ATRN", "BDAT", "AUTH", "SEND", "SOML", "SAML", "XCLIENT", "XFORWARD",
    ]

    /// Parses `line`, which must not contain its CRLF.
    public static func parse(_ line: some Collection<UInt8>) throws(SMTPCommandParseError) -> SMTPCommand {
        var cursor = ByteCursor(Array(line))
        // Trailing spaces are dropped: clients such as old Outlook versions send "DATA ".
        var end = cursor.bytes.count
        while end > 0, cursor.bytes[end - 1] == ASCII.space || cursor.bytes[end - 1] == ASCII.tab { end -= 1 }
        cursor = ByteCursor(Array(cursor.bytes[..<end]))

        let verbBytes = cursor.take(while: { $0 != ASCII.space })
        guard !verbBytes.isEmpty else { throw Error(.syntax, "Empty command line") }
        guard verbBytes.allSatisfy(ASCII.isAlpha) else {
            throw Error(.unrecognizedCommand, "Command not recognized: \(ASCII.quote(verbBytes, maximum: 16))")
        }
        let verb = ASCII.string(verbBytes).uppercased()

        switch verb {
        case "HELO", "EHLO", "LHLO":
            guard cursor.take(ASCII.space), !cursor.isAtEnd else {
                throw Error(.syntax, "\(verb) needs a domain name or address literal")
            }
            let domain = try parseHeloArgument(&cursor, verb: verb)
            switch verb {
            case "HELO": return .helo(domain)
            case "EHLO": return .ehlo(domain)
            default: return .lhlo(domain)
            }
        case "MAIL":
            guard cursor.take(ASCII.space), cursor.takeCaseInsensitive("FROM:") else {
                throw Error(.syntax, "Syntax: MAIL FROM:<address> [parameters]")
            }
            skipSpaces(&cursor)
            let path = try parseReversePath(&cursor)
            let parameters = try parseMailParameters(try parseParameters(&cursor))
            return .mail(reversePath: path, parameters: parameters)
        case "RCPT":
            guard cursor.take(ASCII.space), cursor.takeCaseInsensitive("TO:") else {
                throw Error(.syntax, "Syntax: RCPT TO:<address> [parameters]")
            }
            skipSpaces(&cursor)
            let path = try parseRcptPath(&cursor)
            return .rcpt(forwardPath: path, parameters: try parseParameters(&cursor))
        case "DATA", "RSET", "QUIT", "STARTTLS":
            guard cursor.isAtEnd else { throw Error(.syntax, "\(verb) takes no argument") }
            switch verb {
            case "DATA": return .data
            case "RSET": return .rset
            case "QUIT": return .quit
            default: return .starttls
            }
        case "NOOP", "HELP", "VRFY":
            let argument = try parseStringArgument(&cursor, verb: verb)
            switch verb {
            case "NOOP": return .noop(argument)
            case "HELP": return .help(argument)
            default:
                guard let argument else { throw Error(.syntax, "VRFY needs an argument") }
                return .vrfy(argument)
            }
        default:
            if notImplementedVerbs.contains(verb) { throw Error(.notImplemented, "Command not implemented: \(verb)") }
            throw Error(.unrecognizedCommand, "Command not recognized: \(ASCII.quote(verbBytes, maximum: 16))")
        }
    }

    static func skipSpaces(_ cursor: inout ByteCursor) {
        _ = cursor.take(while: { $0 == ASCII.space })
    }

    // ehlo = "EHLO" SP ( Domain / address-literal ) CRLF
    // helo = "HELO" SP Domain CRLF             (address literals tolerated: clients without a name send them)
    // lhlo = "LHLO" SP ( Domain / address-literal ) CRLF    (RFC 2033 section 4.1)
    static func parseHeloArgument(_ cursor: inout ByteCursor, verb: String) throws(Error) -> SMTPDomain {
        let domain = try parseDomainOrLiteral(&cursor, kind: .syntax)
        guard cursor.isAtEnd else {
            throw Error(.syntax, "\(verb) takes one domain name or address literal")
        }
        return domain
    }

    // vrfy = "VRFY" SP String CRLF
    // help = "HELP" [ SP String ] CRLF
    // noop = "NOOP" [ SP String ] CRLF
    // String = Atom / Quoted-string       (taken as any printable text; the server does not act on it)
    static func parseStringArgument(_ cursor: inout ByteCursor, verb: String) throws(Error) -> String? {
        guard !cursor.isAtEnd else { return nil }
        guard cursor.take(ASCII.space) else { throw Error(.syntax, "Syntax: \(verb) [argument]") }
        let rest = cursor.takeRest()
        guard rest.allSatisfy({ (32...126).contains($0) }) else {
            throw Error(.syntax, "\(verb) argument must be printable US-ASCII")
        }
        let text = ASCII.string(rest.drop(while: { $0 == ASCII.space }))
        return text.isEmpty ? nil : text
    }

    // Reverse-path = Path / "<>"
    static func parseReversePath(_ cursor: inout ByteCursor) throws(Error) -> SMTPPath? {
        let start = cursor.index
        if cursor.take(UInt8(ascii: "<")), cursor.take(UInt8(ascii: ">")) { return nil }
        cursor.index = start
        return try parsePath(&cursor, kind: .badSenderAddress)
    }

    // rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path ) [SP Rcpt-parameters] CRLF
    static func parseRcptPath(_ cursor: inout ByteCursor) throws(Error) -> SMTPForwardPath {
        let start = cursor.index
        if cursor.takeCaseInsensitive("<Postmaster>") { return .postmaster }
        cursor.index = start
        return .mailbox(try parsePath(&cursor, kind: .badRecipientAddress))
    }

    // Path = "<" [ A-d-l ":" ] Mailbox ">"
    // A-d-l = At-domain *( "," At-domain )      ; source route: accepted and ignored (RFC 5321 section 4.1.2)
    // At-domain = "@" Domain
    static func parsePath(_ cursor: inout ByteCursor, kind: Error.Kind) throws(Error) -> SMTPPath {
        let start = cursor.index
        guard cursor.take(UInt8(ascii: "<")) else {
            throw Error(kind, "Address must be in angle brackets: <local@domain>")
        }
        if cursor.peek == UInt8(ascii: "@") {
            repeat {
                guard cursor.take(UInt8(ascii: "@")) else { throw Error(kind, "Malformed source route") }
                _ = try parseDomain(&cursor, kind: kind)
            } while cursor.take(UInt8(ascii: ","))
            guard cursor.take(UInt8(ascii: ":")) else { throw Error(kind, "Source route must end with ':'") }
        }
        let path = try parseMailbox(&cursor, kind: kind)
        guard cursor.take(UInt8(ascii: ">")) else { throw Error(kind, "Address must end with '>'") }
        guard cursor.index - start <= SMTPLimits.pathLength else {
            throw Error(kind, "Path longer than \(SMTPLimits.pathLength) octets")
        }
        return path
    }

    // Mailbox = Local-part "@" ( Domain / address-literal )
    // Local-part = Dot-string / Quoted-string
    static func parseMailbox(_ cursor: inout ByteCursor, kind: Error.Kind) throws(Error) -> SMTPPath {
        let local =
            cursor.peek == UInt8(ascii: "\"")
            ? try parseQuotedString(&cursor, kind: kind)
            : try parseDotString(&cursor, kind: kind)
        guard local.utf8.count <= SMTPLimits.localPartLength else {
            throw Error(kind, "Local part longer than \(SMTPLimits.localPartLength) octets")
        }
        guard cursor.take(UInt8(ascii: "@")) else { throw Error(kind, "Address needs '@' and a domain") }
        let domain = try parseDomainOrLiteral(&cursor, kind: kind)
        return SMTPPath(localPart: local, domain: domain)
    }

    // Dot-string = Atom *("." Atom)
    // Atom = 1*atext
    static func parseDotString(_ cursor: inout ByteCursor, kind: Error.Kind) throws(Error) -> String {
        let start = cursor.index
        repeat {
            guard !cursor.take(while: ASCII.isAtext).isEmpty else {
                if let byte = cursor.peek, byte >= 0x80 {
                    throw Error(kind, "Non-ASCII local part needs SMTPUTF8, which this server does not offer")
                }
                throw Error(kind, "Malformed local part (empty atom or character not allowed)")
            }
        } while cursor.take(ASCII.dot)
        return ASCII.string(cursor.bytes[start..<cursor.index])
    }

    // Quoted-string = DQUOTE *QcontentSMTP DQUOTE
    // QcontentSMTP = qtextSMTP / quoted-pairSMTP
    // quoted-pairSMTP = %d92 %d32-126
    // qtextSMTP = %d32-33 / %d35-91 / %d93-126
    static func parseQuotedString(_ cursor: inout ByteCursor, kind: Error.Kind) throws(Error) -> String {
        let start = cursor.index
        guard cursor.take(UInt8(ascii: "\"")) else { throw Error(kind, "Expected '\"'") }
        while true {
            guard let byte = cursor.peek else { throw Error(kind, "Unterminated quoted local part") }
            cursor.index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return ASCII.string(cursor.bytes[start..<cursor.index])
            case UInt8(ascii: "\\"):
                guard let next = cursor.peek, (32...126).contains(next) else {
                    throw Error(kind, "Backslash in quoted local part must quote a printable character")
                }
                cursor.index += 1
            case 32...126:
                continue
            default:
                throw Error(kind, "Character not allowed in quoted local part")
            }
        }
    }

    // Domain / address-literal
    static func parseDomainOrLiteral(_ cursor: inout ByteCursor, kind: Error.Kind) throws(Error) -> SMTPDomain {
        if cursor.peek == UInt8(ascii: "[") { return try parseAddressLiteral(&cursor, kind: kind) }
        return try parseDomain(&cursor, kind: kind)
    }

    // Domain = sub-domain *("." sub-domain)
    // sub-domain = Let-dig [Ldh-str]
    // Let-dig = ALPHA / DIGIT
    // Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig
    static func parseDomain(_ cursor: inout ByteCursor, kind: Error.Kind) throws(Error) -> SMTPDomain {
        let start = cursor.index
        repeat {
            let label = cursor.take(while: { ASCII.isLetDig($0) || $0 == UInt8(ascii: "-") })
            guard let first = label.first, let last = label.last, ASCII.isLetDig(first), ASCII.isLetDig(last) else {
                if let byte = cursor.peek, byte >= 0x80 {
                    throw Error(kind, "Non-ASCII domain must be sent as A-labels (xn--)")
                }
                throw Error(kind, "Malformed domain (empty label, or label starting or ending with '-')")
            }
            guard label.count <= SMTPLimits.domainLabelLength else {
                throw Error(kind, "Domain label longer than \(SMTPLimits.domainLabelLength) octets")
            }
        } while cursor.take(ASCII.dot)
        let domain = cursor.bytes[start..<cursor.index]
        guard domain.count <= SMTPLimits.domainLength else {
            throw Error(kind, "Domain longer than \(SMTPLimits.domainLength) octets")
        }
        return .name(ASCII.string(domain))
    }

    // address-literal = "[" ( IPv4-address-literal / IPv6-address-literal / General-address-literal ) "]"
    // IPv6-address-literal = "IPv6:" IPv6-addr
    // General-address-literal = Standardized-tag ":" 1*dcontent
    // Standardized-tag = Ldh-str
    // dcontent = %d33-90 / %d94-126
    static func parseAddressLiteral(_ cursor: inout ByteCursor, kind: Error.Kind) throws(Error) -> SMTPDomain {
        guard cursor.take(UInt8(ascii: "[")) else { throw Error(kind, "Expected '['") }
        let content = cursor.take(while: { (33...90).contains($0) || (94...126).contains($0) })
        guard cursor.take(UInt8(ascii: "]")) else { throw Error(kind, "Address literal must end with ']'") }
        guard content.count + 2 <= SMTPLimits.domainLength else {
            throw Error(kind, "Address literal longer than \(SMTPLimits.domainLength) octets")
        }
        let text = ASCII.string(content)
        if let colon = content.firstIndex(of: UInt8(ascii: ":")) {
            let tag = content[..<colon]
            let value = content[(colon + 1)...]
            if ASCII.string(tag).uppercased() == "IPV6" {
                guard isIPv6(value) else { throw Error(kind, "Malformed IPv6 address literal") }
            } else {
                guard let first = tag.first, let last = tag.last, ASCII.isLetDig(first), ASCII.isLetDig(last),
                    tag.allSatisfy({ ASCII.isLetDig($0) || $0 == UInt8(ascii: "-") }), !value.isEmpty
                else { throw Error(kind, "Malformed general address literal (tag:content)") }
            }
        } else {
            guard isIPv4(content) else { throw Error(kind, "Malformed IPv4 address literal") }
        }
        return .addressLiteral(text)
    }

    // IPv4-address-literal = Snum 3("." Snum)
    // Snum = 1*3DIGIT          ; representing a decimal integer value in the range 0 through 255
    static func isIPv4(_ bytes: ArraySlice<UInt8>) -> Bool {
        let parts = bytes.split(separator: ASCII.dot, omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                (1...3).contains(part.count) && part.allSatisfy(ASCII.isDigit) && Int(ASCII.string(part))! <= 255
            }
    }

    // IPv6-addr = IPv6-full / IPv6-comp / IPv6v4-full / IPv6v4-comp
    // IPv6-hex = 1*4HEXDIG
    // IPv6-full = IPv6-hex 7(":" IPv6-hex)
    // IPv6-comp = [IPv6-hex *5(":" IPv6-hex)] "::" [IPv6-hex *5(":" IPv6-hex)]
    // IPv6v4-full = IPv6-hex 5(":" IPv6-hex) ":" IPv4-address-literal
    // IPv6v4-comp = [IPv6-hex *3(":" IPv6-hex)] "::" [IPv6-hex *3(":" IPv6-hex) ":"] IPv4-address-literal
    // (Tolerance: "::" may stand for a single zero group, as RFC 4291 allows.)
    static func isIPv6(_ bytes: ArraySlice<UInt8>) -> Bool {
        let text = Array(bytes)
        var halves: [[UInt8]] = []
        if let range = firstRange(of: [58, 58], in: text) {
            halves = [Array(text[..<range.lowerBound]), Array(text[range.upperBound...])]
            if firstRange(of: [58, 58], in: halves[1]) != nil { return false }
        } else {
            halves = [text]
        }
        var groups = 0
        for (halfIndex, half) in halves.enumerated() {
            guard !half.isEmpty else { continue }
            let parts = half.split(separator: 58, omittingEmptySubsequences: false)
            for (index, part) in parts.enumerated() {
                let isLast = halfIndex == halves.count - 1 && index == parts.count - 1
                if isLast, part.contains(ASCII.dot) {
                    guard isIPv4(part) else { return false }
                    groups += 2
                } else {
                    guard (1...4).contains(part.count), part.allSatisfy(ASCII.isHexDigit) else { return false }
                    groups += 1
                }
            }
        }
        return halves.count == 2 ? groups <= 7 : groups == 8
    }

    static func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where Array(haystack[start..<start + needle.count]) == needle {
            return start..<start + needle.count
        }
        return nil
    }

    // Mail-parameters = esmtp-param *(SP esmtp-param)
    // Rcpt-parameters = esmtp-param *(SP esmtp-param)
    // esmtp-param = esmtp-keyword ["=" esmtp-value]
    // esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
    // esmtp-value = 1*(%d33-60 / %d62-126)
    // (Tolerance: several spaces between parameters.)
    static func parseParameters(_ cursor: inout ByteCursor) throws(Error) -> [SMTPParameter] {
        var parameters: [SMTPParameter] = []
        while !cursor.isAtEnd {
            guard cursor.take(ASCII.space) else {
                throw Error(.syntax, "Expected a space before parameters, found \(ASCII.quote(cursor.takeRest()))")
            }
            skipSpaces(&cursor)
            let keyword = cursor.take(while: { ASCII.isLetDig($0) || $0 == UInt8(ascii: "-") })
            guard let first = keyword.first, ASCII.isLetDig(first) else {
                throw Error(.syntax, "Malformed parameter keyword: \(ASCII.quote(cursor.takeRest()))")
            }
            var value: String?
            if cursor.take(UInt8(ascii: "=")) {
                let valueBytes = cursor.take(while: { (33...60).contains($0) || (62...126).contains($0) })
                guard !valueBytes.isEmpty else { throw Error(.syntax, "Empty value for \(ASCII.string(keyword))") }
                value = ASCII.string(valueBytes)
            }
            if let byte = cursor.peek, byte != ASCII.space {
                throw Error(.syntax, "Character not allowed in parameter \(ASCII.quote(keyword))")
            }
            let parameter = SMTPParameter(keyword: ASCII.string(keyword), value: value)
            guard !parameters.contains(where: { $0.keyword == parameter.keyword }) else {
                throw Error(.syntax, "Parameter \(parameter.keyword) given twice")
            }
            parameters.append(parameter)
        }
        return parameters
    }

    // size-param = "SIZE=" size-value ; size-value = 1*20DIGIT        (RFC 1870 section 6)
    // body-param = "BODY=" ("7BIT" / "8BITMIME")                       (RFC 6152 section 2)
    static func parseMailParameters(_ parameters: [SMTPParameter]) throws(Error) -> SMTPMailParameters {
        var result = SMTPMailParameters(all: parameters)
        for parameter in parameters {
            switch parameter.keyword {
            case "SIZE":
                guard let value = parameter.value, value.utf8.allSatisfy(ASCII.isDigit), value.utf8.count <= 20 else {
                    throw Error(.syntax, "SIZE needs a decimal number of octets")
                }
                // A number beyond Int is certainly too large; it is kept as Int.max for the size check.
                result.size = Int(value) ?? Int.max
            case "BODY":
                guard let value = parameter.value, let body = SMTPBodyType(rawValue: value.uppercased()) else {
                    throw Error(.syntax, "BODY must be 7BIT or 8BITMIME")
                }
                result.body = body
            default:
                continue
            }
        }
        return result
    }
}
