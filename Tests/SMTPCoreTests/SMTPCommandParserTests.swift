import Testing

@testable import SMTPCore

func mailbox(_ local: String, _ domain: String) -> SMTPPath { SMTPPath(localPart: local, domain: .name(domain)) }

func parse(_ line: String) throws -> SMTPCommand { try SMTPCommandParser.parse(bytes(line)) }

func parseError(_ line: String) -> SMTPCommandParseError? {
    do {
        _ = try SMTPCommandParser.parse(bytes(line))
        return nil
    } catch {
        return error
    }
}

struct SMTPCommandParserTests {
    /// Lines as Python's smtplib, swaks and other clients send them, with the expected value.
    static let valid: [(String, SMTPCommand)] = [
        // Python smtplib: lower-case verbs, address literal when the host has no FQDN, lower-case size=.
        ("ehlo [127.0.0.1]", .ehlo(.addressLiteral("127.0.0.1"))),
        ("helo [127.0.0.1]", .helo(.addressLiteral("127.0.0.1"))),
        (
            "mail FROM:<a@example.com> size=1234",
            .mail(
                reversePath: mailbox("a", "example.com"),
                parameters: SMTPMailParameters(size: 1234, all: [SMTPParameter(keyword: "SIZE", value: "1234")]))
        ),
        ("rcpt TO:<b@example.org>", .rcpt(forwardPath: .mailbox(mailbox("b", "example.org")), parameters: [])),
        ("data", .data),
        ("quit", .quit),
        ("rset", .rset),
        ("noop", .noop(nil)),
        ("STARTTLS", .starttls),
        // swaks: upper-case verbs.
        ("EHLO client.example.net", .ehlo(.name("client.example.net"))),
        (
            "MAIL FROM:<user@client.example.net>",
            .mail(reversePath: mailbox("user", "client.example.net"), parameters: SMTPMailParameters())
        ),
        (
            "RCPT TO:<Alice.Smith@Example.COM>",
            .rcpt(forwardPath: .mailbox(mailbox("Alice.Smith", "Example.COM")), parameters: [])
        ),
        ("DATA", .data),
        ("QUIT", .quit),
        // Tolerated deviations.
        ("MAIL FROM: <a@b.example>", .mail(reversePath: mailbox("a", "b.example"), parameters: SMTPMailParameters())),
        ("RCPT TO:  <a@b.example>", .rcpt(forwardPath: .mailbox(mailbox("a", "b.example")), parameters: [])),
        ("DATA ", .data),
        ("Mail From:<>", .mail(reversePath: nil, parameters: SMTPMailParameters())),
        // Null reverse path and parameters.
        (
            "MAIL FROM:<> BODY=8BITMIME SIZE=1000 RET=HDRS ENVID=QQ314159",
            .mail(
                reversePath: nil,
                parameters: SMTPMailParameters(
                    size: 1000, body: .eightBitMIME,
                    all: [
                        SMTPParameter(keyword: "BODY", value: "8BITMIME"),
                        SMTPParameter(keyword: "SIZE", value: "1000"),
                        SMTPParameter(keyword: "RET", value: "HDRS"),
                        SMTPParameter(keyword: "ENVID", value: "QQ314159"),
                    ]))
        ),
        (
            "MAIL FROM:<a@b.example>  body=7bit",
            .mail(
                reversePath: mailbox("a", "b.example"),
                parameters: SMTPMailParameters(body: .sevenBit, all: [SMTPParameter(keyword: "BODY", value: "7bit")]))
        ),
        // Postmaster.
        ("RCPT TO:<Postmaster>", .rcpt(forwardPath: .postmaster, parameters: [])),
        ("rcpt to:<POSTMASTER>", .rcpt(forwardPath: .postmaster, parameters: [])),
        (
            "RCPT TO:<postmaster@example.com>",
            .rcpt(forwardPath: .mailbox(mailbox("postmaster", "example.com")), parameters: [])
        ),
        (
            "RCPT TO:<b@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@example.org",
            .rcpt(
                forwardPath: .mailbox(mailbox("b", "example.org")),
                parameters: [
                    SMTPParameter(keyword: "NOTIFY", value: "SUCCESS,FAILURE"),
                    SMTPParameter(keyword: "ORCPT", value: "rfc822;b@example.org"),
                ])
        ),
        // Quoted local parts.
        (
            "RCPT TO:<\"john smith\"@example.com>",
            .rcpt(forwardPath: .mailbox(mailbox("\"john smith\"", "example.com")), parameters: [])
        ),
        (
            "RCPT TO:<\"a\\\"b\"@example.com>",
            .rcpt(forwardPath: .mailbox(mailbox("\"a\\\"b\"", "example.com")), parameters: [])
        ),
        ("RCPT TO:<\"\"@example.com>", .rcpt(forwardPath: .mailbox(mailbox("\"\"", "example.com")), parameters: [])),
        (
            "RCPT TO:<!#$%&'*+-/=?^_`{|}~@example.com>",
            .rcpt(forwardPath: .mailbox(mailbox("!#$%&'*+-/=?^_`{|}~", "example.com")), parameters: [])
        ),
        // Address literals.
        (
            "RCPT TO:<user@[192.0.2.1]>",
            .rcpt(
                forwardPath: .mailbox(SMTPPath(localPart: "user", domain: .addressLiteral("192.0.2.1"))), parameters: []
            )
        ),
        (
            "RCPT TO:<user@[IPv6:2001:db8::1]>",
            .rcpt(
                forwardPath: .mailbox(SMTPPath(localPart: "user", domain: .addressLiteral("IPv6:2001:db8::1"))),
                parameters: [])
        ),
        ("EHLO [IPv6:::1]", .ehlo(.addressLiteral("IPv6:::1"))),
        ("EHLO [IPv6:2001:db8:0:0:0:0:0:1]", .ehlo(.addressLiteral("IPv6:2001:db8:0:0:0:0:0:1"))),
        ("EHLO [IPv6:::ffff:192.0.2.1]", .ehlo(.addressLiteral("IPv6:::ffff:192.0.2.1"))),
        ("EHLO [x-tag:some-content]", .ehlo(.addressLiteral("x-tag:some-content"))),
        // Source route: accepted and dropped (RFC 5321 section 4.1.2).
        (
            "RCPT TO:<@relay.example,@b.example:user@c.example>",
            .rcpt(forwardPath: .mailbox(mailbox("user", "c.example")), parameters: [])
        ),
        // The rest.
        ("LHLO mx.example.org", .lhlo(.name("mx.example.org"))),
        ("NOOP keep me", .noop("keep me")),
        ("HELP", .help(nil)),
        ("help mail", .help("mail")),
        ("VRFY postmaster", .vrfy("postmaster")),
    ]

    @Test("valid command lines", arguments: valid.indices)
    func validLine(_ index: Int) throws {
        let (line, expected) = Self.valid[index]
        #expect(try parse(line) == expected, "\(line)")
    }

    @Test("parse, write, parse again gives the same command", arguments: valid.indices)
    func roundTrip(_ index: Int) throws {
        let command = try parse(Self.valid[index].0)
        #expect(try SMTPCommandParser.parse(command.lineBytes) == command, "\(command.line)")
    }

    @Test func pathForms() throws {
        let command = try parse("RCPT TO:<\"a\\\"b\"@Example.com>")
        guard case .rcpt(.mailbox(let path), _) = command else {
            Issue.record("not a mailbox")
            return
        }
        #expect(path.address == "\"a\\\"b\"@Example.com")
        #expect(path.isQuoted)
        #expect(path.unquotedLocalPart == "a\"b")
        #expect(path.description == "<\"a\\\"b\"@Example.com>")
        #expect(SMTPPath(localPart: "u", domain: .addressLiteral("192.0.2.1")).address == "u@[192.0.2.1]")
    }

    static let invalid: [(String, SMTPCommandParseError.Kind, Int)] = [
        ("MAIL FROM:a@b.example", .badSenderAddress, 501),
        ("MAIL FROM:<a@b.example", .badSenderAddress, 501),
        ("MAIL FROM:<a@>", .badSenderAddress, 501),
        ("MAIL FROM <a@b.example>", .syntax, 501),
        ("MAIL TO:<a@b.example>", .syntax, 501),
        ("RCPT TO:<a..b@example.com>", .badRecipientAddress, 501),
        ("RCPT TO:<.a@example.com>", .badRecipientAddress, 501),
        ("RCPT TO:<a@-bad.example>", .badRecipientAddress, 501),
        ("RCPT TO:<a@bad-.example>", .badRecipientAddress, 501),
        ("RCPT TO:<a@example..com>", .badRecipientAddress, 501),
        ("RCPT TO:<a@example.com.>", .badRecipientAddress, 501),
        ("RCPT TO:<a b@example.com>", .badRecipientAddress, 501),
        ("RCPT TO:<user@[300.1.1.1]>", .badRecipientAddress, 501),
        ("RCPT TO:<user@[1.2.3]>", .badRecipientAddress, 501),
        ("RCPT TO:<user@[IPv6:1::2::3]>", .badRecipientAddress, 501),
        ("RCPT TO:<user@[IPv6:12345::1]>", .badRecipientAddress, 501),
        ("RCPT TO:<user@[IPv6:1:2:3:4:5:6:7]>", .badRecipientAddress, 501),
        ("RCPT TO:<\"unterminated@example.com>", .badRecipientAddress, 501),
        ("RCPT TO:<\"tab\there\"@example.com>", .badRecipientAddress, 501),
        ("RCPT TO:<jöhn@example.com>", .badRecipientAddress, 501),
        ("RCPT TO:<\(String(repeating: "x", count: 65))@example.com>", .badRecipientAddress, 501),
        ("RCPT TO:<a@\(String(repeating: "x", count: 64)).example>", .badRecipientAddress, 501),
        ("RCPT TO:<a@b.example>garbage", .syntax, 501),
        ("RCPT TO:<>", .badRecipientAddress, 501),
        ("MAIL FROM:<a@b.example> SIZE=abc", .syntax, 501),
        ("MAIL FROM:<a@b.example> SIZE=1 SIZE=2", .syntax, 501),
        ("MAIL FROM:<a@b.example> BODY=BINARYMIME", .syntax, 501),
        ("MAIL FROM:<a@b.example> =x", .syntax, 501),
        ("MAIL FROM:<a@b.example> SIZE=", .syntax, 501),
        ("EHLO", .syntax, 501),
        ("HELO ", .syntax, 501),
        ("EHLO two words", .syntax, 501),
        ("EHLO bad_name.example", .syntax, 501),
        ("DATA now", .syntax, 501),
        ("QUIT please", .syntax, 501),
        ("VRFY", .syntax, 501),
        ("", .syntax, 501),
        ("XYZZY", .unrecognizedCommand, 500),
        ("GET / HTTP/1.1", .unrecognizedCommand, 500),
        ("EXPN staff", .notImplemented, 502),
        ("BDAT 100 LAST", .notImplemented, 502),
    ]

    @Test("malformed command lines name the problem", arguments: invalid.indices)
    func invalidLine(_ index: Int) {
        let (line, kind, code) = Self.invalid[index]
        let error = parseError(line)
        #expect(error?.kind == kind, "\(line): \(String(describing: error))")
        #expect(error?.reply.code == code, "\(line)")
        #expect(error?.message.isEmpty == false)
    }

    @Test func longestPathIsAccepted() throws {
        // 64 + 1 + 189 + 2 brackets = 256 octets: the limit of RFC 5321 4.5.3.1.3.
        let domain = [63, 63, 61].map { String(repeating: "d", count: $0) }.joined(separator: ".")
        let local = String(repeating: "l", count: 64)
        #expect(local.count + 1 + domain.count + 2 == 256)
        _ = try parse("RCPT TO:<\(local)@\(domain)>")
        #expect(parseError("RCPT TO:<\(local)@\(domain)d>")?.kind == .badRecipientAddress)
    }

    @Test func errorRepliesDoNotEchoControlBytes() {
        let error = parseError("XYZ\u{1B}[31m")
        #expect(error?.kind == .unrecognizedCommand)
        #expect(error?.reply.bytes.filter { $0 < 32 } == [13, 10])
    }

    @Test func sizeBeyondIntIsKeptAsTooLarge() throws {
        let command = try parse("MAIL FROM:<> SIZE=99999999999999999999")
        guard case .mail(_, let parameters) = command else {
            Issue.record("not MAIL")
            return
        }
        #expect(parameters.size == Int.max)
        #expect(parameters["size"] == .some("99999999999999999999"))
        #expect(parameters["ret"] == nil)
    }
}
